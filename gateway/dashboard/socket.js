// The page's one WebSocket (docs/ws-protocol.md), shared by the market-data feed and the account's
// order entry: it connects, logs in with the session's bearer token when there is one (scheme
// "token", sent first: the server handles what follows after the login), reconnects with backoff
// when it closes or falls silent, and hands every message to the listeners. `request` sends a
// message with a fresh id and resolves with the first answer that carries it.

import { currentSession } from './session.js';

const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 10_000;
/** Heartbeats come every second on a quiet channel: this long without any frame means a dead link. */
const SILENCE_MS = 5000;

let socket = null;
let attempts = 0;
let nextId = 1;
let lastFrameAt = 0;
/** Whether the link must carry frames (channels followed): only then does silence mean it is dead. */
let expectFrames = () => false;
const listeners = [];
const openers = [];
/** Request id -> resolve, for `request`. */
const waiting = new Map();
const status = { on: (_state, _text) => {} };

/** A fresh request id. */
export const newId = () => nextId++;

/** Sends a message if the socket is open; whether it was sent. */
export function send(msg) {
  if (socket === null || socket.readyState !== WebSocket.OPEN) return false;
  socket.send(JSON.stringify(msg));
  return true;
}

/** Sends `msg` with a fresh id; resolves with the first message that answers it (an error too). */
export function request(msg) {
  const id = newId();
  return new Promise((resolve, reject) => {
    if (!send({ ...msg, id })) {
      reject(new Error('UNAVAILABLE: not connected to the exchange; retrying'));
      return;
    }
    waiting.set(id, resolve);
  });
}

/** Calls `listener(msg)` with every message from the server. */
export const onMessage = (listener) => listeners.push(listener);
/** Calls `opened()` each time the socket opens (after its login, if any, was sent). */
export const onOpen = (opened) => openers.push(opened);

/**
 * Answers every request still waiting, UNAVAILABLE (`local`: the page's own answer, not the
 * server's): taken off the list first, so that what an answer sets off (a reconnection) finds
 * none of them.
 */
function failWaiting(message) {
  const pending = [...waiting.values()];
  waiting.clear();
  for (const resolve of pending) resolve({ type: 'error', code: 'UNAVAILABLE', message, local: true });
}

/** Closes the socket and opens a new one at once: after a login or a logout, to be that session. */
export function reconnect() {
  const old = socket;
  socket = null;
  attempts = 0;
  failWaiting('reconnecting');
  if (old !== null) old.close(1000, 'session changed');
  connect();
}

function connect() {
  status.on('connecting', 'connecting…');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => {
    if (socket !== ws) return;
    attempts = 0;
    lastFrameAt = Date.now();
    status.on('open', 'live');
    const s = currentSession();
    if (s !== null) {
      const id = newId();
      // A refused token (expired, or the exchange restarted): the account's part of the page hears
      // of it. A connection closed before the answer is no refusal: the next one logs in again.
      waiting.set(id, (answer) => {
        if (answer.type !== 'login' && answer.local !== true) dispatch({ ...answer, type: 'login-error' });
      });
      send({ op: 'login', id, scheme: 'token', token: s.token });
    }
    for (const opened of openers) opened();
  };
  ws.onmessage = (ev) => {
    if (socket !== ws) return;
    lastFrameAt = Date.now();
    let msg;
    try {
      msg = JSON.parse(ev.data);
    } catch {
      return;
    }
    const resolve = msg.id === undefined ? undefined : waiting.get(msg.id);
    if (resolve !== undefined) {
      waiting.delete(msg.id);
      resolve(msg);
    }
    dispatch(msg);
  };
  ws.onclose = (ev) => {
    if (socket !== ws) return;
    socket = null;
    failWaiting('the connection closed');
    const delay = Math.round(
      Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** attempts++) * (0.75 + Math.random() / 2),
    );
    const why =
      ev.code === 1000 || ev.code === 1005 ? '' : ` (${ev.code}${ev.reason ? ` ${ev.reason}` : ''})`;
    status.on('closed', `disconnected${why}; retrying in ${(delay / 1000).toFixed(1)} s`);
    setTimeout(() => {
      if (socket === null) connect();
    }, delay);
  };
}

function dispatch(msg) {
  for (const listener of listeners) listener(msg);
}

/**
 * Opens the socket and keeps it open. `onStatus(state, text)` hears of the connection
 * (`connecting`, `open`, `closed`); `busy()` says whether frames are due (else silence is fine).
 */
export function startSocket({ onStatus, busy }) {
  status.on = onStatus;
  expectFrames = busy;
  setInterval(() => {
    const quiet = Date.now() - lastFrameAt;
    if (socket !== null && socket.readyState === WebSocket.OPEN && expectFrames() && quiet > SILENCE_MS) {
      socket.close(4000, 'no heartbeat');
    }
  }, 1000);
  connect();
}
