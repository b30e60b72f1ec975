/**
 * A trade event turned into a settlement instruction moves exactly what the engine's risk stage
 * holds pending for it: the buyer's cash out, the seller's cash in, the venue's fee.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { instructionOf, isTrade } from '../../connectors/index.ts';
import { type Command, Engine, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { spec } from '../support/engine.ts';

describe('settlement instructions', () => {
  for (const aggressor of ['buy', 'sell'] as const) {
    it(`match the engine's pending amounts when the ${aggressor}er takes (maker rebate, taker fee, cash in cents)`, () => {
      const listing = spec({
        id: 'ACME@evm:31337',
        tickSize: '0.05',
        lotSize: '10',
        quoteUnit: '0.01',
        makerFeeBps: -2,
        takerFeeBps: 7,
        maxPrice: 1_000_000,
        maxQty: 10_000,
        referencePrice: 2_001,
      });
      const engine = new Engine({ risk: true });
      const trades: PublishedEvent[] = [];
      engine.addListener({ onTrade: (e) => trades.push(eventToObject(e)) });
      let ts = 0;
      const run = (c: Record<string, unknown>) => engine.execute({ ts: ++ts, ...c } as Command);
      run({ type: 'list-instrument', spec: listing });
      for (const account of ['maker', 'taker']) {
        run({ type: 'set-account', account, venue: 'evm:31337', eligible: true });
        run({ type: 'deposit', account, asset: 'ACME@evm:31337', amount: 1_000 });
        run({ type: 'deposit', account, asset: 'USD@evm:31337', amount: 100_000_000 });
      }
      const makerSide = aggressor === 'buy' ? 'sell' : 'buy';
      const order = {
        type: 'new',
        instrument: listing.id,
        orderType: 'limit',
        price: listing.referencePrice,
        quantity: 7,
      };
      run({ ...order, account: 'maker', clientOrderId: 'm', side: makerSide });
      run({ ...order, account: 'taker', clientOrderId: 't', side: aggressor });
      assert.equal(trades.length, 1);
      const event = trades[0]!;
      assert.ok(isTrade(event));
      const i = instructionOf(event, listing);

      const [buyer, seller] = aggressor === 'buy' ? ['taker', 'maker'] : ['maker', 'taker'];
      assert.deepEqual([i.buyer, i.seller, i.quantity, i.venue], [buyer, seller, 7, 'evm:31337']);
      const cash = (account: string) => engine.balances(account).find((b) => b.asset === 'USD@evm:31337')!;
      const lots = (account: string) => engine.balances(account).find((b) => b.asset === 'ACME@evm:31337')!;
      assert.equal(cash(buyer).pendingOut, i.buyerCash);
      assert.equal(cash(seller).pendingIn, i.sellerCash);
      assert.equal(lots(seller).pendingOut, i.quantity);
      assert.equal(lots(buyer).pendingIn, i.quantity);
      assert.equal(i.buyerCash - i.sellerCash, i.fee);
      const { matchedAt: _at, venue: _venue, ...held } = i;
      assert.deepEqual(engine.pendingSettlement(i.tradeId), held);
      assert.deepEqual(engine.pendingSettlements(), [held]);
    });
  }
});
