/** The ledger contract suite on the EVM ledger, against a real anvil with the real contracts. */
import { Anvil, call, deploy, EvmLedger, fundInvestors } from '../../connectors/evm/index.ts';
import { ledgerContract } from './ledger-contract.ts';

const ACME = 'ACME@evm:31337';

ledgerContract('evm', async () => {
  const anvil = await Anvil.start();
  const d = await deploy({
    deployer: anvil.devWallet(0),
    securities: [{ symbol: 'ACME' }],
    cash: { symbol: 'USD' },
  });
  const [seller, buyer, empty] = [anvil.devWallet(1), anvil.devWallet(2), anvil.devWallet(3)];
  await fundInvestors(d, [
    { wallet: seller, securities: { ACME: 1_000n } },
    { wallet: buyer, cash: 1_000_000n },
    { wallet: empty },
  ]);
  const ledger = new EvmLedger({
    venue: 'evm:31337',
    settlement: d.settlement,
    asset: (id) =>
      id === ACME
        ? { security: d.addresses.securities.ACME!, lotUnits: 1n, cash: d.addresses.cash, cashUnits: 1n }
        : undefined,
  });
  let tradeId = 0;
  const good = () => ({
    tradeId: ++tradeId,
    instrument: ACME,
    venue: 'evm:31337',
    buyer: buyer.address,
    seller: seller.address,
    quantity: 1,
    buyerCash: 101,
    sellerCash: 100,
    fee: 1,
    matchedAt: 0,
  });
  return {
    ledger,
    good,
    bad: () => ({ instruction: { ...good(), seller: empty.address }, reason: /INSUFFICIENT_SECURITY/ }),
    holding: (account) => call<bigint>(d.settlement, 'balanceOf', d.addresses.securities.ACME!, account),
    close: () => anvil.stop(),
  };
});
