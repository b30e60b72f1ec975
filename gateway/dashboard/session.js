// The visitor's session in this tab: the bearer token a login gave (and its account and expiry),
// kept in sessionStorage so that a reload keeps it until it expires, and never longer. Parts of
// the page hear of each change (a login, a logout, an expiry) through `onSessionChange`.

const KEY = 'mosaic.session';
const listeners = [];
let expiryTimer = 0;

/** The session kept in this tab, unless it expired (then it is forgotten). */
export function currentSession() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (s !== null && typeof s.token === 'string' && s.expiresAt > Date.now()) return s;
  } catch {
    // not ours, or damaged: forgotten below
  }
  sessionStorage.removeItem(KEY);
  return null;
}

/** Keeps a login's session (`account`, `token`, `expiresAt`, how it logged in) and tells the page. */
export function startSession(s) {
  sessionStorage.setItem(KEY, JSON.stringify(s));
  changed();
}

/** Forgets the session (logout, expiry, or a token the server refused) and tells the page. */
export function endSession() {
  sessionStorage.removeItem(KEY);
  changed();
}

/** Calls `listener(session or null)` after each change. */
export const onSessionChange = (listener) => listeners.push(listener);

/** Ends the session when its token expires, while the page stays open. */
export function watchExpiry() {
  clearTimeout(expiryTimer);
  const s = currentSession();
  if (s === null) return;
  // setTimeout takes at most about 24.8 days; a token lives an hour.
  expiryTimer = setTimeout(() => endSession(), Math.min(s.expiresAt - Date.now(), 2 ** 31 - 1));
}

function changed() {
  watchExpiry();
  const s = currentSession();
  for (const listener of listeners) listener(s);
}

/** The `Authorization` header of the session, for REST. */
export const bearer = (s) => ({ authorization: `Bearer ${s.token}` });

/** An error from the server as the page shows it: its code and text. */
export async function failure(res) {
  const body = await res.json().catch(() => ({}));
  return new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
}

/** Exchanges a signed challenge (`proof`: scheme, nonce, signature...) for a session. */
export async function logIn(proof) {
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(proof),
  });
  if (!res.ok) throw await failure(res);
  const { account, token, expiresAt } = await res.json();
  startSession({ account, token, expiresAt, scheme: proof.scheme });
}

/** A fresh login challenge from the server. */
export async function challenge() {
  const res = await fetch('/api/challenge', { method: 'POST' });
  if (!res.ok) throw await failure(res);
  return res.json();
}

/** A REST answer of the session's account (`path` under /api), or throws with the server's code and text. */
export async function getMine(path) {
  const s = currentSession();
  if (s === null) throw new Error('AUTH_REQUIRED: log in first');
  const res = await fetch(`/api/${path}`, { headers: bearer(s), cache: 'no-store' });
  if (!res.ok) throw await failure(res);
  return res.json();
}
