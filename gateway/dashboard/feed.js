// The market-data feed over the page's WebSocket (socket.js), like any client
// (docs/ws-protocol.md): the channels the page follows and their state, every message's sequence
// and every book's CRC-32 checksum checked, a resubscription on a gap (fromSeq) or a fresh
// snapshot on a mismatch, and every channel subscribed again when the socket reopens.

import { applyLevels, higher, lower } from './book-side.js';
import { CHECKSUM_LEVELS, checksumText, crc32 } from './checksum.js';
import { render } from './render.js';
import { newId, onMessage, onOpen, send } from './socket.js';

/** Levels the page subscribes to, and shows, per book. */
export const DEPTH = 10;
const TRADES_KEPT = 50;
/** Resubscriptions after repeated failed checks back off between these. */
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/** What the feed tells the page: errors the server sent about market data. */
const hooks = { error: (_text) => {} };

// ---------------------------------------------------------------------------------------------
// Channels: their state, the checks, and what a message does to them.

/** name -> channel state, for the channels the page wants now. */
const channels = new Map();
/** Request id -> channel name, to place an `error` answer. */
const pending = new Map();

/** The channels followed now, in the order they were asked for. */
export const channelList = () => [...channels.values()];
/** The channel followed of a kind (`book`, `trades`, `ticker`, `consolidated`, `candles`), if any. */
export const channelOf = (kind) => channelList().find((c) => c.kind === kind);

function newChannel(name) {
  const kind = name.slice(0, name.indexOf(':')).split('.')[0];
  return {
    name,
    kind,
    seq: null,
    passed: 0,
    failed: 0,
    resyncs: 0,
    /** subscribing, live, gap (waiting for the replay), resnapshot (waiting for a snapshot), conflated, error */
    state: 'subscribing',
    note: '',
    /** Checks failed in a row: a repeated mismatch backs off instead of looping on snapshots. */
    streak: 0,
    bids: [],
    asks: [],
    trades: [],
    ticker: null,
    /** A candles channel's candles by open time. */
    candles: new Map(),
    freshTrades: new Set(),
  };
}

const hasBook = (ch) => ch.kind === 'book' || ch.kind === 'consolidated';

function onSnapshot(ch, msg) {
  ch.seq = msg.seq;
  if (hasBook(ch)) {
    ch.bids = msg.bids.slice();
    ch.asks = msg.asks.slice();
    if (!checksumOk(ch, msg)) return;
  } else if (ch.kind === 'trades') {
    ch.trades = msg.trades.slice(-TRADES_KEPT).reverse();
  } else if (ch.kind === 'candles') {
    ch.candles = new Map(msg.candles.map((c) => [c.t, c]));
  } else {
    ch.ticker = msg;
  }
  passed(ch);
}

function onUpdate(ch, msg) {
  if (ch.seq === null || msg.seq <= ch.seq) return; // before the snapshot, or already applied
  if (ch.state === 'resnapshot' || ch.state === 'conflated') return; // a snapshot is on its way
  if (msg.seq !== ch.seq + 1) {
    if (ch.state !== 'gap') gap(ch, msg.seq);
    return;
  }
  ch.seq = msg.seq;
  if (hasBook(ch)) {
    applyLevels(ch.bids, msg.bids, higher);
    applyLevels(ch.asks, msg.asks, lower);
    if (!checksumOk(ch, msg)) return;
  } else if (ch.kind === 'trades') {
    for (const t of msg.trades) {
      ch.trades.unshift(t);
      ch.freshTrades.add(t.tradeId);
    }
    ch.trades.length = Math.min(ch.trades.length, TRADES_KEPT);
  } else if (ch.kind === 'candles') {
    for (const c of msg.candles) ch.candles.set(c.t, c); // each changed candle whole
  } else {
    ch.ticker = msg;
  }
  passed(ch);
}

function passed(ch) {
  ch.passed++;
  ch.streak = 0;
  ch.state = 'live';
  ch.note = '';
}

/** Verifies a book message's checksum against the book it leaves; on a mismatch asks for a snapshot. */
function checksumOk(ch, msg) {
  const mine = crc32(checksumText(ch.bids, ch.asks, CHECKSUM_LEVELS));
  if (mine === msg.checksum) return true;
  ch.failed++;
  ch.resyncs++;
  ch.state = 'resnapshot';
  ch.note = `checksum ${mine} ≠ ${msg.checksum} at seq ${msg.seq}`;
  resubscribe(ch, false);
  return false;
}

/** A message is missing: resubscribe from the last one applied (the server replays or snapshots). */
function gap(ch, seen) {
  ch.failed++;
  ch.resyncs++;
  ch.state = 'gap';
  ch.note = `gap: had ${ch.seq}, saw ${seen}`;
  resubscribe(ch, true);
}

/** Subscribes again at once the first time, then backing off while the checks keep failing. */
function resubscribe(ch, resume) {
  const delay = ch.streak === 0 ? 0 : Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** ch.streak);
  ch.streak++;
  if (delay === 0) return subscribe(ch, resume);
  setTimeout(() => {
    if (channels.get(ch.name) === ch) subscribe(ch, resume);
  }, delay);
}

function onFrame(msg) {
  if (msg.type === 'error') {
    const name = msg.channel ?? pending.get(msg.id);
    // An answer to another part of the page (an order, a login) is that part's to show.
    if (name === undefined && msg.id !== undefined) return undefined;
    const ch = name === undefined ? undefined : channels.get(name);
    if (ch !== undefined) {
      ch.state = 'error';
      ch.note = `${msg.code}: ${msg.message}`;
      if (msg.code === 'RATE_LIMITED') setTimeout(() => subscribe(ch, true), msg.retryAfterMs ?? 1000);
    }
    hooks.error(`${msg.code}: ${msg.message}`);
    return render('stats');
  }
  if (msg.type === 'subscribed') epoch = msg.epoch; // sequences restart with the server
  if (msg.type === 'subscribed' || msg.type === 'unsubscribed') return; // an error may still follow
  const ch = msg.channel === undefined ? undefined : channels.get(msg.channel);
  if (ch === undefined) return; // not ours (any more)
  switch (msg.type) {
    case 'snapshot':
      onSnapshot(ch, msg);
      break;
    case 'update':
      onUpdate(ch, msg);
      break;
    case 'heartbeat':
      if (ch.seq === null) break;
      if (msg.seq > ch.seq && ch.state === 'live') gap(ch, msg.seq);
      // Resumed after a reconnect with nothing missed: the server had nothing to replay.
      else if (msg.seq === ch.seq && ch.state === 'subscribing') ch.state = 'live';
      break;
    case 'conflated':
      ch.state = 'conflated';
      ch.note = `conflated at seq ${msg.seq}: a snapshot follows`;
      break;
    default:
      return;
  }
  render(ch.kind);
  render('stats');
}

// ---------------------------------------------------------------------------------------------
// Subscriptions, on the page's socket.

/** The server run the channels' sequences belong to (from `subscribed`). */
let epoch = null;

/** Subscribes (again): from the last seq applied when `resume` and one is known, else for a snapshot. */
function subscribe(ch, resume) {
  const id = newId();
  const msg = { op: 'subscribe', id, channel: ch.name };
  if (resume && ch.seq !== null && epoch !== null) {
    msg.fromSeq = ch.seq;
    msg.epoch = epoch;
  }
  if (send(msg)) pending.set(id, ch.name);
  pending.delete(id - 100); // answered long ago
}

/** Follows exactly the channels named: unsubscribes from the others, subscribes to the new ones. */
export function follow(want) {
  for (const name of [...channels.keys()]) {
    if (want.includes(name)) continue;
    channels.delete(name);
    send({ op: 'unsubscribe', id: newId(), channel: name });
  }
  for (const name of want) {
    if (channels.has(name)) continue;
    const ch = newChannel(name);
    channels.set(name, ch);
    subscribe(ch, false);
  }
}

/** The socket (re)opened: every channel subscribes again, replaying onto a book only if it was sound. */
function resubscribeAll() {
  pending.clear();
  for (const ch of channels.values()) {
    const sound = ch.state === 'live' || ch.state === 'gap' || ch.state === 'subscribing';
    ch.state = 'subscribing';
    ch.streak = 0;
    subscribe(ch, sound);
  }
  render('stats');
}

/**
 * Follows market data on the page's socket; `onError(text)` hears of each error the server
 * answers about it (or about nothing the page asked, such as a bad frame).
 */
export function startFeed({ onError }) {
  hooks.error = onError;
  onMessage(onFrame);
  onOpen(resubscribeAll);
}

/** Whether the feed follows channels (then a silent socket is a dead one). */
export const following = () => channels.size > 0;
