// The visitor's own account, on the public REST API like any client: a login with an injected
// Ethereum wallet (EIP-1193: `eth_requestAccounts`, then `eth_signTypedData_v4` of the server's
// EIP-712 challenge), its bearer token kept in sessionStorage until it expires (a reload keeps
// the session), and the account as the exchange holds it now (`GET /api/account`): the
// identities linked to it and, per venue, whether it may trade there and why not.

import { $, el } from './dom.js';

const KEY = 'mosaic.session';

/** The session kept in this tab, unless it expired. */
function session() {
  try {
    const s = JSON.parse(sessionStorage.getItem(KEY) ?? 'null');
    if (s !== null && typeof s.token === 'string' && s.expiresAt > Date.now()) return s;
  } catch {
    // not ours, or damaged: forgotten below
  }
  sessionStorage.removeItem(KEY);
  return null;
}

/** An error from the server as the page shows it: its code and text. */
async function failure(res) {
  const body = await res.json().catch(() => ({}));
  return new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
}

/** Asks the wallet for an account, signs the server's challenge with it, keeps the token. */
async function loginWithWallet() {
  const wallet = window.ethereum;
  const [address] = await wallet.request({ method: 'eth_requestAccounts' });
  const res = await fetch('/api/challenge', { method: 'POST' });
  if (!res.ok) throw await failure(res);
  const { nonce, typedData } = await res.json();
  // eth_signTypedData_v4 wants the domain's own type beside the message's.
  const domainType = [
    { name: 'name', type: 'string' },
    { name: 'version', type: 'string' },
  ];
  const data = { ...typedData, types: { EIP712Domain: domainType, ...typedData.types } };
  const signature = await wallet.request({
    method: 'eth_signTypedData_v4',
    params: [address, JSON.stringify(data)],
  });
  const login = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scheme: 'eip712', nonce, address, signature }),
  });
  if (!login.ok) throw await failure(login);
  const { account, token, expiresAt } = await login.json();
  sessionStorage.setItem(KEY, JSON.stringify({ account, token, expiresAt }));
}

/** Renders the account panel: a login, or the account, its identities and its access per venue. */
export async function renderAccount(error = '') {
  const panel = $('[data-testid="account"]');
  const s = session();
  const shownError = error === '' ? [] : [el('p', { class: 'note', 'data-testid': 'account-error' }, error)];
  if (s === null) {
    const wallet = window.ethereum !== undefined;
    const button = el(
      'button',
      {
        type: 'button',
        'data-testid': 'login-wallet',
        disabled: !wallet,
        title: wallet
          ? 'Sign a login challenge with your wallet'
          : 'No Ethereum wallet (EIP-1193) in this browser',
      },
      'Log in with a wallet',
    );
    button.addEventListener('click', () =>
      loginWithWallet().then(
        () => renderAccount(),
        (err) => renderAccount(err.message ?? String(err)),
      ),
    );
    panel.replaceChildren(button, ...shownError);
    return;
  }
  const res = await fetch('/api/account', { headers: { authorization: `Bearer ${s.token}` } });
  if (!res.ok) {
    // Refused (unlinked, expired at the server, or the exchange restarted): log in again.
    sessionStorage.removeItem(KEY);
    return renderAccount((await failure(res)).message);
  }
  const a = await res.json();
  const logout = el('button', { type: 'button', 'data-testid': 'logout' }, 'Log out');
  logout.addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    renderAccount();
  });
  const identities =
    a.identities.length === 0
      ? [el('li', { class: 'muted' }, 'none linked')]
      : a.identities.map((i) => el('li', { 'data-testid': 'account-identity' }, i));
  const access = a.access.map((v) =>
    el(
      'tr',
      { 'data-testid': 'account-access', 'data-venue': v.venue, 'data-can-trade': String(v.canTrade) },
      el('td', {}, v.venue),
      el('td', { class: v.canTrade ? 'bid' : 'ask' }, v.canTrade ? 'may trade' : v.reason),
      el('td', { class: 'muted' }, v.message ?? ''),
    ),
  );
  panel.replaceChildren(
    el('p', {}, 'Account ', el('strong', { 'data-testid': 'account-name' }, a.account), ' ', logout),
    el('p', { class: 'muted' }, 'Linked identities'),
    el('ul', { class: 'identities' }, ...identities),
    el('table', { class: 'access' }, el('tbody', {}, ...access)),
    ...shownError,
  );
}
