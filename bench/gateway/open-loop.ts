/**
 * Open-loop order flow: order i is due at `t0 + i / rate` whatever happened to the orders before
 * it, and its latency runs from that scheduled time (so a stall in the sender or the server
 * counts against every order it delays, instead of hiding it). Orders alternate over the given
 * connections; each one's first `pending-new` and first engine report (matched by client order
 * id) are timed.
 *
 * The sender polls the clock between event-loop turns (a timer cannot wait less than a
 * millisecond), so its process is always busy: `spinMs` measures the turns in which it only
 * waited, so that the load's own work can be told apart from its waiting.
 */
import { type BenchSocket, ENGINE, ERROR, execReport, parsed, PENDING } from './client.ts';

export interface OpenLoopSamples {
  /** Orders scheduled. */
  orders: number;
  /** Scheduled send time to the engine's report (`new`, `filled`, `rejected`...), ms; -1 if none. */
  engine: Float64Array;
  /** Scheduled send time to `pending-new`, ms; -1 if none. */
  pending: Float64Array;
  /** How late each order was actually sent, ms. */
  sendLag: Float64Array;
  /** Engine reports received for these orders. */
  answered: number;
  /** Orders the engine rejected (their report still counts as the answer). */
  rejected: number;
  errors: number;
  firstError: string;
  /** Wall time from the first scheduled send to the last one, ms. */
  spanMs: number;
  /** Wall time of turns in which the sender found nothing due and no frame arrived, ms. */
  spinMs: number;
}

/** An order's frame: `n` is its number (client order id `o<n>`), `i` its index in the run. */
export type OrderFrame = (n: number, i: number) => string;

const REJECTED = Buffer.from('"status":"rejected"');

/**
 * Sends `rate * seconds` orders, numbered from `firstOrder`, over `conns` in turn; resolves when
 * every order has its engine report or `graceMs` after the last send.
 */
export function openLoop(
  conns: readonly BenchSocket[],
  rate: number,
  seconds: number,
  firstOrder: number,
  frame: OrderFrame,
  graceMs = 5000,
): Promise<OpenLoopSamples> {
  const total = Math.max(1, Math.round(rate * seconds));
  const period = 1000 / rate;
  const engine = new Float64Array(total).fill(-1);
  const pending = new Float64Array(total).fill(-1);
  const sendLag = new Float64Array(total);
  const s: OpenLoopSamples = {
    orders: total,
    engine,
    pending,
    sendLag,
    answered: 0,
    rejected: 0,
    errors: 0,
    firstError: '',
    spanMs: 0,
    spinMs: 0,
  };
  const t0 = performance.now() + 5;
  return new Promise((resolve) => {
    let finished = false;
    let grace: NodeJS.Timeout | undefined;
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(grace);
      for (const c of conns) c.onFrame = () => {};
      resolve(s);
    };
    // Start of the last turn that sent nothing (-1: it sent), and whether a frame came since.
    let idleSince = -1;
    let heard = false;
    const onFrame = (data: Buffer) => {
      heard = true;
      const now = performance.now();
      const kind = execReport(data);
      if (kind === ERROR) {
        if (s.errors++ === 0) s.firstError = parsed.error;
        return;
      }
      const i = parsed.order - firstOrder;
      if (kind === 0 || i < 0 || i >= total) return;
      const at = now - (t0 + i * period);
      if (kind === PENDING) {
        if (pending[i]! < 0) pending[i] = at;
      } else if (kind === ENGINE && engine[i]! < 0) {
        engine[i] = at;
        if (data.indexOf(REJECTED) >= 0) s.rejected++;
        if (++s.answered === total) finish();
      }
    };
    for (const c of conns) c.onFrame = onFrame;
    let i = 0;
    const pump = () => {
      const now = performance.now();
      if (idleSince >= 0 && !heard) s.spinMs += now - idleSince;
      heard = false;
      const from = i;
      while (i < total && t0 + i * period <= now) {
        sendLag[i] = performance.now() - (t0 + i * period);
        conns[i % conns.length]!.send(frame(firstOrder + i, i));
        i++;
      }
      idleSince = i === from ? now : -1;
      if (i < total) setImmediate(pump);
      else {
        s.spanMs = performance.now() - t0;
        grace = setTimeout(finish, graceMs);
      }
    };
    setImmediate(pump);
  });
}

/** The samples that were answered (a -1 marks none), for the percentiles. */
export function answered(samples: Float64Array): Float64Array {
  return samples.filter((x) => x >= 0);
}

/** How many samples exceed `ms`. */
export function over(samples: Float64Array, ms: number): number {
  let n = 0;
  for (const x of samples) if (x > ms) n++;
  return n;
}

/** Several senders' samples as one run: arrays joined, counts added, the longest span. */
export function mergeSamples(parts: readonly OpenLoopSamples[]): OpenLoopSamples {
  const join = (key: 'engine' | 'pending' | 'sendLag') => {
    const out = new Float64Array(parts.reduce((n, p) => n + p[key].length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p[key], at);
      at += p[key].length;
    }
    return out;
  };
  const add = (key: 'orders' | 'answered' | 'rejected' | 'errors' | 'spinMs') =>
    parts.reduce((n, p) => n + p[key], 0);
  return {
    orders: add('orders'),
    engine: join('engine'),
    pending: join('pending'),
    sendLag: join('sendLag'),
    answered: add('answered'),
    rejected: add('rejected'),
    errors: add('errors'),
    firstError: parts.find((p) => p.errors > 0)?.firstError ?? '',
    spanMs: Math.max(0, ...parts.map((p) => p.spanMs)),
    spinMs: add('spinMs'),
  };
}
