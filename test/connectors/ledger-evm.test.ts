/** The ledger contract suite on the EVM ledger, against a real anvil with the real contracts. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Anvil, call, deploy, EvmLedger, fundInvestors } from '../../connectors/evm/index.ts';
import { Progress } from '../../connectors/index.ts';
import { ledgerContract } from './ledger-contract.ts';
import { acmeAsset } from '../support/evm.ts';

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
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-ledger-'));
  const progress = Progress.open(dir);
  const ledger = new EvmLedger({
    venue: 'evm:31337',
    settlement: d.settlement,
    progress,
    asset: acmeAsset(d, 1n),
    token: (asset) => (asset === ACME ? { address: d.addresses.securities.ACME!, units: 1n } : undefined),
  });
  let tradeId = 0;
  let withdrawalId = 0;
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
    withdrawal: (lots) => ({
      withdrawalId: ++withdrawalId,
      account: seller.address,
      asset: ACME,
      amount: lots,
      venue: 'evm:31337',
    }),
    close: async () => {
      await anvil.stop();
      await progress.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
