/**
 * Run by the progress crash test: takes in trades, batches and finishes them in a loop until it
 * is killed. Prints `seq N` after each durable step so the parent knows how far it got.
 */
import { Progress } from '../../connectors/index.ts';
import { XorShift32 } from '../../bench/index.ts';
import { tradesOf } from './progress-trades.ts';

const [dir, seedText] = process.argv.slice(2);
if (dir === undefined) throw new Error('usage: progress-child DIR SEED');
const progress = Progress.open(dir!);
const rng = new XorShift32(Number(seedText));
let seq = progress.cursor;
// A restart: batches in flight are finished first, as a daemon would (after sending them again).
for (const batch of progress.trades.inflight()) {
  progress.trades.finish(
    batch.id,
    batch.instructions.map((i) => ({ tradeId: i.tradeId, ok: true, ref: `re-${batch.id}` })),
  );
}
for (;;) {
  seq++;
  const instructions = [];
  for (let i = 0; i < tradesOf(seq); i++) {
    instructions.push({
      tradeId: seq * 4 + i,
      instrument: 'ACME@evm:31337',
      venue: 'evm:31337',
      buyer: 'b',
      seller: 's',
      quantity: 1,
      buyerCash: 100,
      sellerCash: 99,
      fee: 1,
      matchedAt: seq,
    });
  }
  progress.trades.enqueue(seq, instructions);
  if (rng.int(0, 2) === 0) {
    const batch = progress.trades.nextBatch(rng.int(1, 5));
    if (batch && rng.int(0, 1) === 0) {
      progress.trades.finish(
        batch.id,
        batch.instructions.map((i) => ({ tradeId: i.tradeId, ok: true, ref: `b-${batch.id}` })),
      );
    }
  }
  process.stdout.write(`seq ${seq}\n`);
}
