/**
 * The contract every ledger keeps, as one suite each ledger runs against its real chain or
 * network (the EVM on anvil, Fabric on its devnet): verdicts per trade in batch order, a batch
 * sent again settles nothing twice and answers the same, a trade that cannot settle is reported
 * while the rest settle, a batch of 500 settles whole, and what does not belong is refused by
 * name; the same for withdrawals released to their accounts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Ledger, SettlementInstruction, WithdrawalInstruction } from '../../connectors/index.ts';

/** What a ledger's suite provides: the ledger, instructions of each kind, and how to look. */
export interface LedgerFixture {
  ledger: Ledger;
  /** An instruction that settles (a fresh trade id each time). */
  good(): SettlementInstruction;
  /** An instruction that cannot settle (say, a seller without the security), with the reason expected. */
  bad(): { instruction: SettlementInstruction; reason: RegExp };
  /** What an account holds of the instrument's security on the ledger, in lots. */
  holding(account: string): Promise<bigint>;
  /** A withdrawal of `lots` of the security that the ledger can release (a fresh id each time). */
  withdrawal(lots: number): WithdrawalInstruction;
  close(): Promise<void>;
}

export function ledgerContract(name: string, setup: () => Promise<LedgerFixture>): void {
  describe(`ledger contract: ${name}`, () => {
    let f: LedgerFixture;
    before(async () => {
      f = await setup();
    });
    after(() => f?.close());

    it('answers every instruction of a batch, in batch order, with a reference', async () => {
      const batch = [f.good(), f.good(), f.good()];
      const outcomes = await f.ledger.settle(batch);
      assert.deepEqual(
        outcomes.map((o) => [o.tradeId, o.ok]),
        batch.map((i) => [i.tradeId, true]),
      );
      for (const o of outcomes) assert.ok(o.ok && o.ref.length > 0);
    });

    it('settles nothing twice: a batch sent again answers the same and moves nothing', async () => {
      const batch = [f.good(), f.good()];
      const buyer = batch[0]!.buyer;
      const first = await f.ledger.settle(batch);
      const held = await f.holding(buyer);
      const again = await f.ledger.settle(batch);
      assert.deepEqual(
        again.map((o) => [o.tradeId, o.ok]),
        first.map((o) => [o.tradeId, o.ok]),
      );
      assert.equal(await f.holding(buyer), held);
    });

    it('reports a trade that cannot settle, with its reason, while the rest of the batch settles', async () => {
      const { instruction, reason } = f.bad();
      const batch = [f.good(), instruction, f.good()];
      const outcomes = await f.ledger.settle(batch);
      assert.deepEqual(
        outcomes.map((o) => o.ok),
        [true, false, true],
      );
      const failed = outcomes[1]!;
      assert.ok(!failed.ok);
      assert.match(failed.reason, reason);
      const again = await f.ledger.settle([instruction]);
      assert.ok(!again[0]!.ok, 'a failed trade stays failed');
    });

    it(`refuses an instrument that does not settle on ${name}, naming it`, async () => {
      const stranger = { ...f.good(), instrument: 'NOPE@elsewhere:1' };
      const [o] = await f.ledger.settle([stranger]);
      assert.ok(o !== undefined && !o.ok);
      assert.match(o.reason, /NOPE@elsewhere:1/);
    });

    it('settles a batch of 500, each trade once, and the buyer holds all of it', async () => {
      const batch = Array.from({ length: 500 }, () => f.good());
      const buyer = batch[0]!.buyer;
      const held = await f.holding(buyer);
      const outcomes = await f.ledger.settle(batch);
      assert.deepEqual(
        outcomes.map((o) => [o.tradeId, o.ok]),
        batch.map((i) => [i.tradeId, true]),
      );
      const bought = batch.reduce((sum, i) => sum + BigInt(i.quantity), 0n);
      assert.equal(await f.holding(buyer), held + bought);
    });

    it('answers an empty batch with no outcomes', async () => {
      assert.deepEqual(await f.ledger.settle([]), []);
      assert.deepEqual(await f.ledger.release([]), []);
    });

    it('releases withdrawals in batch order, once: a batch sent again answers the same and moves nothing', async () => {
      const batch = [f.withdrawal(2), f.withdrawal(3)];
      const account = batch[0]!.account;
      const held = await f.holding(account);
      const outcomes = await f.ledger.release(batch);
      assert.deepEqual(
        outcomes.map((o) => [o.withdrawalId, o.ok]),
        batch.map((w) => [w.withdrawalId, true]),
      );
      for (const o of outcomes) assert.ok(o.ok && o.ref.length > 0);
      assert.equal(await f.holding(account), held - 5n);
      const again = await f.ledger.release(batch);
      assert.deepEqual(
        again.map((o) => [o.withdrawalId, o.ok, o.ref]),
        outcomes.map((o) => [o.withdrawalId, o.ok, o.ref]),
      );
      assert.equal(await f.holding(account), held - 5n);
    });

    it('refuses a withdrawal the account cannot cover, with its reason, while the rest are released', async () => {
      const ok = f.withdrawal(1);
      const held = await f.holding(ok.account);
      const tooMuch = { ...f.withdrawal(1), amount: Number(held) + 1 };
      const outcomes = await f.ledger.release([tooMuch, ok]);
      assert.deepEqual(
        outcomes.map((o) => [o.withdrawalId, o.ok]),
        [
          [tooMuch.withdrawalId, false],
          [ok.withdrawalId, true],
        ],
      );
      const refused = outcomes[0]!;
      assert.ok(!refused.ok);
      assert.match(refused.reason, /INSUFFICIENT_BALANCE/);
      assert.equal(await f.holding(ok.account), held - 1n);
      const again = await f.ledger.release([tooMuch]);
      assert.ok(!again[0]!.ok, 'a refused withdrawal stays refused');
    });

    it(`refuses to release an asset that is not on ${name}, naming it`, async () => {
      const [o] = await f.ledger.release([{ ...f.withdrawal(1), asset: 'NOPE@elsewhere:1' }]);
      assert.ok(o !== undefined && !o.ok);
      assert.match(o.reason, /NOPE@elsewhere:1/);
    });
  });
}
