/**
 * Crash recovery under load. A child process (crash-child.ts) runs a DurableEngine flat out and
 * prints every command it had acknowledged; the test kills it with SIGKILL after a seeded random
 * number of acknowledgements, checks the folder without changing it, and starts it again on the
 * same folder, over and over. After every crash: each acknowledged command is in the journal, unchanged; the
 * folder verifies; replaying it gives the state the restarted child recovers. Now and then the
 * crash also leaves half a record behind, as a torn write would.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { XorShift32 } from '../../bench/prng.ts';
import { DurableEngine, listSnapshots, scanJournal } from '../../journal/index.ts';
import {
  commandKey,
  journalEntries,
  liveAndDie,
  mosaic,
  replayHash,
  segmentFiles,
  tempDir,
  Workload,
} from './support.ts';
import { silentLogger } from '../../common/index.ts';

const CYCLES = 24;
const SEED = 20_240_923;

/**
 * Leaves half of a plausible next record after the last one, as a write torn by a power cut.
 * The kill itself may have torn the write under way (Linux ends a write to a file early for a
 * fatal signal): that tail is cut first, as a power cut tears one write, not two. False when the
 * last segment's own header is cut short (nothing to tear after).
 */
function tearTail(dir: string, rng: XorShift32): boolean {
  const { segments, lastSeq } = scanJournal(dir);
  const last = segments.at(-1)!;
  if (last.scan.validEnd === 0) return false;
  fs.truncateSync(last.file, last.scan.validEnd);
  // A record to imitate: the last one (the last segment may still be empty after a rotation).
  const holder = segments.findLast((s) => s.scan.records.length > 0)!;
  const r = holder.scan.records.at(-1)!;
  const record = Buffer.from(holder.buf.subarray(r.start - 16, r.end));
  record.writeDoubleLE(lastSeq + 1, 8);
  record.writeUInt32LE(crc32(record.subarray(8)), 4);
  fs.appendFileSync(last.file, record.subarray(0, rng.int(1, record.length - 1)));
  return true;
}

describe('crash recovery under load', () => {
  it(
    `survives ${CYCLES} SIGKILLs at random moments: nothing acknowledged is lost, and replay agrees with recovery`,
    {
      timeout: 120_000,
    },
    async (t) => {
      const dir = tempDir(t, 'crash');
      const rng = new XorShift32(SEED);
      /** What was acknowledged and is still in the journal's range: seq -> command key. */
      const acked = new Map<number, string>();
      let expected = { seq: 0, hash: '' };
      let totalAcks = 0;
      let torn = 0;
      /** Whether the last cycle tore the tail (the next start says so). */
      let tore = false;
      let compared = 0;
      const snapshotSeqs = new Set<number>();
      const segmentsSeen = new Set<string>();

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        const liveAcks = rng.int(100, 2000);
        const seed = 1000 + cycle;
        const life = await liveAndDie(dir, seed, liveAcks);
        const where = `cycle ${cycle} (killed after ${liveAcks} acknowledgements)`;

        // The child recovered exactly what a replay of the folder gave after the last crash.
        if (cycle > 0) assert.deepStrictEqual(life.recovered, expected, `${where}: recovered state`);
        else assert.equal(life.recovered.seq, 0);
        if (tore) assert.match(life.stderr, /has a torn tail at byte \d+/, where);
        assert.doesNotMatch(life.stderr, /damaged|failed|corrupt/, `${where}: ${life.stderr}`);

        // It went on from there, and answered in sequence order.
        let prev = life.recovered.seq;
        for (const a of life.acks) {
          assert.ok(a.seq > prev, `${where}: ack ${a.seq} after ${prev}`);
          prev = a.seq;
          acked.set(a.seq, a.key);
        }
        totalAcks += life.acks.length;

        // Read the folder without changing it: every acknowledged command is there, unchanged.
        const entries = journalEntries(dir);
        const firstSeq = entries[0]?.seq ?? 1;
        const lastSeq = scanJournal(dir).lastSeq;
        assert.ok(prev <= lastSeq, `${where}: acknowledged ${prev}, journal ends at ${lastSeq}`);
        const byseq = new Map(entries.map((e) => [e.seq, e.command]));
        for (const [seq, key] of acked) {
          if (seq < firstSeq) {
            acked.delete(seq); // pruned below a snapshot; the state hash covers it
            continue;
          }
          const command = byseq.get(seq);
          assert.ok(command, `${where}: acknowledged command ${seq} is missing`);
          assert.equal(commandKey(command), key, `${where}: command ${seq} changed`);
        }
        // And what this life wrote is exactly the seeded stream it was given, from where it
        // recovered (timestamps are sequences), down to the last field.
        const stream = new Workload(seed);
        for (let seq = life.recovered.seq + 1; seq <= lastSeq; seq++) {
          const expected = seq === 1 ? Workload.listing(1) : stream.next(seq);
          const command = byseq.get(seq);
          if (command === undefined) continue;
          assert.deepStrictEqual(command, expected, `${where}: command ${seq}`);
          compared++;
        }

        // Now and then the crash also tore the write that was under way.
        tore = cycle % 4 === 0 && tearTail(dir, rng);
        if (tore) torn++;

        const pruned = firstSeq > 1;
        const [verified, replayed] = await Promise.all([
          mosaic('journal', 'verify', dir),
          replayHash(dir, pruned),
        ]);
        assert.equal(verified.code, 0, `${where}: ${verified.stdout}${verified.stderr}`);
        assert.match(verified.stdout, /^verify: ok$/m);
        assert.equal(replayed.seq, lastSeq, `${where}: replay reached the end of the journal`);
        expected = replayed;
        for (const s of listSnapshots(dir)) snapshotSeqs.add(s.seq);
        for (const f of segmentFiles(dir)) segmentsSeen.add(f);
      }

      // The last crash recovers too, in this process.
      const d = DurableEngine.open({ dir, log: silentLogger });
      assert.deepStrictEqual({ seq: d.recovery.lastSeq, hash: d.recovery.stateHash }, expected);
      await d.close();

      assert.ok(totalAcks > 5 * CYCLES, `only ${totalAcks} acknowledgements over ${CYCLES} lives`);
      assert.ok(snapshotSeqs.size >= CYCLES, `the kills met ${snapshotSeqs.size} snapshots`);
      assert.ok(segmentsSeen.size >= CYCLES, `the kills met ${segmentsSeen.size} segments`);
      assert.ok(Number(segmentFiles(dir)[0]!.slice(0, 20)) > 1, 'the journal was pruned');
      assert.ok(torn >= CYCLES / 8, `only ${torn} torn tails`);
      t.diagnostic(
        `${totalAcks} acknowledged, ${compared} journaled commands compared, journal at ${expected.seq}, ${snapshotSeqs.size} snapshots, ${segmentsSeen.size} segments, ${torn} torn tails`,
      );
      assert.ok(fs.existsSync(path.join(dir, segmentFiles(dir).at(-1)!)));
    },
  );
});
