/**
 * KeyOrder: a batch that shares a key with one handed over before it may be made once that one is
 * submitted and endorsed once it is done; batches that share none go at once; a key is let go
 * once its last batch is done.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KeyOrder } from '../../connectors/fabric/key-order.ts';

/** Whether `p` has resolved once every job queued so far has run (no timer involved). */
async function settled(p: Promise<void>): Promise<boolean> {
  return Promise.race([p.then(() => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);
}

describe('KeyOrder', () => {
  it('orders batches that share a key, made after the one before is submitted, endorsed after it is done', async () => {
    const order = new KeyOrder();
    const a = order.take(['x', 'y']);
    const b = order.take(['y']);
    const c = order.take(['z']);
    const d = order.take(['x', 'y']);
    assert.equal(await settled(a.doneBefore), true, 'the first goes at once');
    assert.equal(await settled(c.doneBefore), true, 'one sharing no key goes at once');
    assert.equal(await settled(b.submittedBefore), false);
    assert.equal(await settled(d.submittedBefore), false);
    a.submitted();
    assert.equal(await settled(b.submittedBefore), true, 'made once the one before is submitted');
    assert.equal(await settled(b.doneBefore), false, 'endorsed only once it is done');
    assert.equal(await settled(d.submittedBefore), false, 'd waits for b as well');
    a.done();
    assert.equal(await settled(b.doneBefore), true);
    assert.equal(await settled(d.doneBefore), false);
    b.done();
    assert.equal(await settled(d.doneBefore), true);
  });

  it('lets a batch that failed before it was submitted go as done, twice harmlessly, and forgets keys no batch holds', async () => {
    const order = new KeyOrder();
    const a = order.take(['x']);
    const b = order.take(['x']);
    a.done();
    a.done();
    assert.equal(await settled(b.submittedBefore), true);
    assert.equal(await settled(b.doneBefore), true);
    b.done();
    const c = order.take(['x']);
    assert.equal(await settled(c.submittedBefore), true, 'x is free again');
  });
});
