// The instruments: the list from REST, the tabs, the one chosen (named by the page's address,
// `/#ACME@evm:31337`) with the channels that follow from it (its candles' at the chart's
// interval too, where the exchange serves candles), and the info line under the tabs.

import { $, el } from './dom.js';
import { DEPTH, follow } from './feed.js';
import { candlesChannel, loadCandleHistory } from './price-chart.js';
import { render } from './render.js';
import { bearer, currentSession } from './session.js';

let instruments = [];
let current = null;

/** The instrument shown, or null before the list has loaded. */
export const currentInstrument = () => current;
/** A listed instrument by id (REST's fields), if this session sees it. */
export const instrumentById = (id) => instruments.find((i) => i.id === id);
/** Decimal places of the shown instrument's prices. */
export const priceDecimals = () => current?.priceDecimals ?? 2;

/**
 * Loads the instrument list (retrying until it can), as the session sees it (a member sees its
 * permissioned venues), and chooses the one in the address, or the first.
 */
export async function loadInstruments() {
  try {
    const s = currentSession();
    let res = await fetch('/api/instruments', { cache: 'no-store', headers: s === null ? {} : bearer(s) });
    // A token the server refuses (the account panel says so and ends the session): as anyone.
    if (res.status === 401) res = await fetch('/api/instruments', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    instruments = await res.json();
  } catch (err) {
    banner(`cannot load instruments (${err.message}); retrying`);
    setTimeout(loadInstruments, 2000);
    return;
  }
  const wanted = hashId();
  const first = instruments.find((i) => i.id === wanted) ?? instruments[0];
  renderTabs();
  if (first !== undefined) choose(first.id);
  else banner('no instruments are listed');
}

/** Shows instrument `id` (if listed): its book, trades, ticker and its symbol's consolidated book. */
export function choose(id) {
  const inst = instruments.find((i) => i.id === id);
  if (inst === undefined) return;
  current = inst;
  if (hashId() !== id) history.replaceState(null, '', `#${id}`);
  follow(channelsOf(inst));
  // The candles' channel once the exchange is known to serve candles (and at the interval shown).
  loadCandleHistory(inst).then(() => {
    if (current === inst) follow(channelsOf(inst));
  });
  renderTabs();
  renderInfo();
  for (const part of ['book', 'trades', 'ticker', 'consolidated', 'stats', 'ticket', 'candles']) render(part);
}

/** The channels the page follows for an instrument. */
function channelsOf(inst) {
  const id = inst.id;
  return [
    `book.${DEPTH}:${id}`,
    `trades:${id}`,
    `ticker:${id}`,
    `consolidated.${DEPTH}:${inst.symbol}`,
    candlesChannel(id),
  ];
}

/** The instrument named by the page's address (`/#ACME@evm:31337`). */
export function hashId() {
  try {
    return decodeURIComponent(location.hash.slice(1));
  } catch {
    return '';
  }
}

/** Shows a note (an error, most often) after the instrument's info. */
export function banner(text) {
  const e = $('[data-testid="instrument-info"]');
  e.dataset.note = text;
  renderInfo();
}

function renderTabs() {
  const nav = $('[data-testid="instrument-tabs"]');
  nav.replaceChildren(
    ...instruments.map((i) => {
      const b = el(
        'button',
        { type: 'button', class: 'tab', 'data-testid': 'instrument-tab', 'data-instrument': i.id },
        el('strong', {}, i.symbol),
        ` ${i.venue}`,
      );
      b.setAttribute('aria-pressed', String(current?.id === i.id));
      b.addEventListener('click', () => choose(i.id));
      return b;
    }),
  );
}

function renderInfo() {
  const e = $('[data-testid="instrument-info"]');
  const parts = [];
  if (current !== null) {
    const c = current;
    parts.push(
      el('strong', {}, c.id),
      ` · ${c.status} · tick ${c.tickSize} · lot ${c.lotSize} · fees maker ${c.makerFeeBps} / taker ${c.takerFeeBps} bps · quoted in ${c.quote}` +
        // A cross-ledger instrument's cash is on another ledger.
        (c.quoteVenue !== c.venue ? ` on ${c.quoteVenue} (cross-ledger)` : ''),
    );
  }
  if (e.dataset.note) parts.push(el('span', { class: 'note' }, ` · ${e.dataset.note}`));
  e.replaceChildren(...parts);
}
