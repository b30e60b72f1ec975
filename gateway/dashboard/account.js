// The visitor's own account, on the public API like any client: a login with an injected
// Ethereum wallet (wallet-login.js) or with a Fabric identity's certificate and key files
// (fabric-login.js), the session kept in the tab (session.js), and the account as the exchange
// holds it now (`GET /api/account`): the identities linked to it and, per venue, whether it may
// trade there and why not. Errors from the server show with their code and text.

import { $, el } from './dom.js';
import { loginWithFabric } from './fabric-login.js';
import { currentSession, endSession, getMine } from './session.js';
import { hasWallet, loginWithWallet } from './wallet-login.js';

/** Runs a login, then redraws the panel: with the account, or with the error. */
function attempt(login) {
  login().then(
    () => renderAccount(),
    (err) => renderAccount(err.message ?? String(err)),
  );
}

/** The text of a chosen file, or '' when none is. */
const fileText = (input) => input.files?.[0]?.text() ?? Promise.resolve('');

/** The Fabric login form: certificate and key files (read here, the key never sent), MSP id. */
function fabricForm() {
  const field = (label, input) => el('label', { class: 'field' }, el('span', {}, label), input);
  const cert = el('input', {
    type: 'file',
    accept: '.pem,.crt,.cert',
    'data-testid': 'fabric-cert',
    required: true,
  });
  const key = el('input', {
    type: 'file',
    accept: '.pem,.key,_sk',
    'data-testid': 'fabric-key',
    required: true,
  });
  const msp = el('input', {
    type: 'text',
    'data-testid': 'fabric-msp',
    placeholder: 'e.g. DemoInvestorsMSP',
    autocomplete: 'organization',
    required: true,
  });
  const form = el(
    'form',
    { class: 'fabric-login', 'data-testid': 'fabric-login' },
    el('p', { class: 'muted' }, 'or a Fabric identity (the key signs here and is never sent)'),
    field('Certificate (PEM)', cert),
    field('Private key (PEM)', key),
    field('MSP id', msp),
    el('button', { type: 'submit', 'data-testid': 'login-fabric' }, 'Log in with the certificate'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    attempt(async () => loginWithFabric(await fileText(cert), await fileText(key), msp.value));
  });
  return form;
}

/** How soon the panel asks again while a venue has not yet made the account eligible. */
const RECHECK_MS = 2000;
let recheck = 0;

/**
 * Renders the account panel: the logins, or the account, its identities and its access per venue
 * (asked again every 2 s while a venue says `not-eligible`: the demo's faucet enrolls a new
 * account within seconds of its login, without telling the page).
 */
export async function renderAccount(error = '') {
  clearTimeout(recheck);
  const panel = $('[data-testid="account"]');
  const shownError =
    error === '' ? [] : [el('p', { class: 'note', role: 'alert', 'data-testid': 'account-error' }, error)];
  const s = currentSession();
  if (s === null) {
    const wallet = hasWallet();
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
    button.addEventListener('click', () => attempt(loginWithWallet));
    panel.replaceChildren(...shownError, button, fabricForm());
    return;
  }
  let a;
  try {
    a = await getMine('account');
  } catch (err) {
    // Refused (unlinked, expired at the server, or the exchange restarted): log in again.
    endSession();
    return renderAccount(err.message);
  }
  const logout = el('button', { type: 'button', 'data-testid': 'logout' }, 'Log out');
  logout.addEventListener('click', () => endSession());
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
  if (a.access.some((v) => v.reason === 'not-eligible'))
    recheck = setTimeout(() => renderAccount(error), RECHECK_MS);
  panel.replaceChildren(
    ...shownError,
    el('p', {}, 'Account ', el('strong', { 'data-testid': 'account-name' }, a.account), ' ', logout),
    el('p', { class: 'muted' }, 'Linked identities'),
    el('ul', { class: 'identities' }, ...identities),
    el('table', { class: 'access' }, el('tbody', {}, ...access)),
  );
}
