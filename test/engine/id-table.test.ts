/**
 * The live-order table by id answers as a `Map` does, through what its ring makes special: ids
 * that outlive the ring and move to its map, the ring doubling to take them back, ids set below
 * the newest (a snapshot's orders), jumps in ids (an engine numbering from an `idBase`), and ids
 * that were never set or are gone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { IdTable } from '../../engine/id-table.ts';

interface Rec {
  readonly id: number;
}

/** An op: 0 set the next id, 1 delete a random live id, 2 look up a random id, 3 jump ids ahead. */
const ops = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.nat(), fc.integer({ min: 1, max: 5_000 })), {
  maxLength: 3_000,
  // Lengths up to the maximum, not fast-check's default of about ten
  size: 'max',
});

describe('the live-order table by id', () => {
  it('answers as a Map through old survivors, growth, jumps and misses', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.nat({ max: 2 ** 40 }), ops, (capacity, base, steps) => {
        const table = new IdTable<Rec>(capacity);
        const map = new Map<number, Rec>();
        let next = base;
        for (const [op, pick, jump] of steps) {
          const live = [...map.keys()];
          if (op === 0 || live.length === 0) {
            const rec = { id: ++next };
            table.set(rec);
            map.set(rec.id, rec);
          } else if (op === 1) {
            const id = live[pick % live.length]!;
            assert.equal(table.delete(id), true);
            map.delete(id);
            assert.equal(table.delete(id), false, 'a second delete finds nothing');
          } else if (op === 2) {
            const id = base + 1 + (pick % (next - base + 2));
            assert.equal(table.get(id), map.get(id), `get ${id}`);
          } else {
            next += jump;
          }
          assert.equal(table.size, map.size);
        }
        for (const [id, rec] of map) assert.equal(table.get(id), rec);
        assert.equal(table.get(0), undefined);
        assert.equal(table.get(next + 1), undefined);
      }),
      { numRuns: 200 },
    );
  });

  it('takes ids set below the newest, as a snapshot restores them, and replaces a value by id', () => {
    const table = new IdTable<Rec>(4);
    const ids = [3, 100, 7, 99, 50, 1, 2];
    for (const id of ids) table.set({ id });
    for (const id of ids) assert.equal(table.get(id)?.id, id);
    const again = { id: 7 };
    table.set(again);
    assert.equal(table.get(7), again);
    assert.equal(table.size, ids.length);
    for (const id of ids) assert.equal(table.delete(id), true);
    assert.equal(table.size, 0);
  });

  it('keeps a million live orders and one that outlives them all', () => {
    const table = new IdTable<Rec>();
    const first = { id: 1 };
    table.set(first);
    for (let id = 2; id <= 1_000_000; id++) {
      table.set({ id });
      if (id % 3 !== 0) table.delete(id);
    }
    assert.equal(table.get(1), first);
    assert.equal(table.size, 1 + Math.floor(1_000_000 / 3));
    assert.equal(table.get(999_999)?.id, 999_999);
    assert.equal(table.get(999_998), undefined);
  });
});
