// The account's balances per asset and venue (`GET /api/balances`): available, reserved by open
// orders, pending in and out (trades and withdrawals waiting for their ledger). Asked again after
// each report of the account's and every 2 s while logged in, since a ledger's verdict moves
// pending amounts without a report.

import { $, el } from './dom.js';
import { currentSession, getMine } from './session.js';

const POLL_MS = 2000;
let balances = [];
let timer = 0;
let asked = false;

/** The available amount of an asset (`SYMBOL@venue`, `QUOTE@venue`), or null when not known. */
export const availableOf = (asset) => balances.find((b) => b.asset === asset)?.available ?? null;

/** Reads the balances now (nothing when logged out), then every 2 s. */
export async function loadBalances() {
  clearTimeout(timer);
  if (asked) return; // one read at a time; the one under way shows what changed
  if (currentSession() === null) {
    balances = [];
    renderBalances();
    return;
  }
  asked = true;
  const error = $('[data-testid="balances-error"]');
  try {
    balances = await getMine('balances');
    error.textContent = '';
  } catch (err) {
    error.textContent = err.message;
  }
  asked = false;
  renderBalances();
  timer = setTimeout(loadBalances, POLL_MS);
}

function renderBalances() {
  // Two rows an asset: its name and venue, then its four amounts (narrow panels stay readable).
  const rows = balances.flatMap((b) => [
    el(
      'tr',
      { class: 'asset' },
      el(
        'td',
        { colSpan: 4 },
        b.asset.slice(0, b.asset.indexOf('@')),
        ' ',
        el('span', { class: 'muted' }, b.asset.slice(b.asset.indexOf('@') + 1)),
      ),
    ),
    el(
      'tr',
      {
        'data-testid': 'balance-row',
        'data-asset': b.asset,
        'data-available': b.available,
        'data-reserved': b.reserved,
        'data-pending-in': b.pendingIn,
        'data-pending-out': b.pendingOut,
      },
      el('td', { class: 'num' }, b.available),
      el('td', { class: 'num' }, b.reserved),
      el('td', { class: 'num' }, b.pendingIn),
      el('td', { class: 'num' }, b.pendingOut),
    ),
  ]);
  if (rows.length === 0) {
    const text = currentSession() === null ? 'log in to see your balances' : 'no balances yet';
    rows.push(el('tr', {}, el('td', { colSpan: 4, class: 'muted' }, text)));
  }
  $('[data-testid="balances"]').replaceChildren(...rows);
}
