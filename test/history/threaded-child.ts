/**
 * `node threaded-child.js DIR TRADES [exit]`: records TRADES trades (a sell of 1 lot, then a buy
 * that takes it) in a history in DIR whose writer runs on a thread of its own, half of them once
 * the writer has committed the others, and returns without closing it or waiting for anything
 * (or, with `exit`, calls `process.exit` as the writer takes the second half)
 * (test/history/threaded.test.ts).
 */
import { type Command, Engine, eventToObject, type PublishedEvent } from '../../engine/index.ts';
import { ThreadedHistory } from '../../history/index.ts';
import { spec } from '../support/engine.ts';

const [dir, trades, exit] = process.argv.slice(2);
const history = ThreadedHistory.open({ dir: dir! });
const engine = new Engine();
let events: PublishedEvent[] = [];
engine.addListener({ onEvent: (e) => events.push(eventToObject(e)) });
const run = (c: object) => {
  events = [];
  engine.execute({ ...c, ts: engine.commandSeq + 1 } as Command);
  history.apply(engine.commandSeq, events);
};
run({ type: 'list-instrument', spec: spec() });
const order = { type: 'new', instrument: spec().id, orderType: 'limit', price: 10_000, quantity: 1 };
const trade = (i: number) => {
  run({ ...order, account: 'ann', clientOrderId: `s${i}`, side: 'sell' });
  run({ ...order, account: 'bob', clientOrderId: `b${i}`, side: 'buy' });
};
const half = Math.floor(Number(trades) / 2);
for (let i = 0; i < half; i++) trade(i);
// Once the writer has committed the first half (a read waits for it), the second half
await history.page({ kind: 'fills', account: 'bob', order: 'asc', limit: 1 });
for (let i = half; i < Number(trades); i++) trade(i);
// Or exits at once, its writer busy with the second half
if (exit === 'exit') setTimeout(() => process.exit(0), 30);
