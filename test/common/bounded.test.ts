/**
 * A Map kept to a bound (common/bounded.ts): never above it, the oldest entries out first (an
 * entry set again after its deletion counts as new), each one dropped told.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { makeRoom } from '../../common/index.ts';

describe('makeRoom', () => {
  it('given inserts past the bound, then the map stays within it and keeps the newest, dropping the oldest first', () => {
    const map = new Map<number, string>();
    const dropped: number[] = [];
    for (let i = 0; i < 1_000; i++) {
      makeRoom(map, 128, (key, value) => {
        assert.equal(value, `v${key}`);
        dropped.push(key);
      });
      map.set(i, `v${i}`);
      assert.ok(map.size <= 128, `${map.size} entries`);
    }
    // Dropped in insertion order, and what is left is the newest, in order
    assert.deepEqual(
      dropped,
      [...dropped].sort((a, b) => a - b),
    );
    const kept = [...map.keys()];
    assert.equal(kept.at(-1), 999);
    assert.deepEqual(
      kept,
      Array.from({ length: kept.length }, (_, k) => 1_000 - kept.length + k),
    );
    assert.equal(dropped.length + map.size, 1_000);
  });

  it('given an entry set again after its deletion, then it counts as new', () => {
    const map = new Map<string, number>([
      ['a', 1],
      ['b', 2],
      ['c', 3],
    ]);
    map.delete('a');
    map.set('a', 4);
    makeRoom(map, 3);
    assert.deepEqual([...map.keys()], ['c', 'a']);
  });

  it('given a map below the bound, then nothing is dropped', () => {
    const map = new Map([[1, 1]]);
    makeRoom(map, 2, () => assert.fail('nothing to drop'));
    assert.equal(map.size, 1);
  });
});
