// The consolidated book of the chosen instrument's symbol across venues: each level's total and
// its split by venue, and a flag when one venue's bid is at or above another's ask.

import { $, el } from './dom.js';
import { channelOf, DEPTH } from './feed.js';
import { currentInstrument } from './instruments.js';

export function renderConsolidated() {
  const ch = channelOf('consolidated');
  $('[data-testid="consolidated-symbol"]').textContent = currentInstrument()?.symbol ?? '';
  const row = (side) => (l) =>
    el(
      'tr',
      { 'data-testid': 'consolidated-row', 'data-side': side, 'data-price': l[0], 'data-quantity': l[1] },
      el('td', { class: side }, side),
      el('td', { class: `num ${side}` }, l[0]),
      el('td', { class: 'num' }, l[1]),
      el(
        'td',
        { class: 'venues' },
        ...Object.entries(l[2] ?? {}).map(([v, q]) =>
          el('span', { class: 'venue', 'data-venue': v }, `${v} ${q}`),
        ),
      ),
    );
  const rows =
    ch === undefined
      ? []
      : [...ch.asks.slice(0, DEPTH).reverse().map(row('ask')), ...ch.bids.slice(0, DEPTH).map(row('bid'))];
  $('[data-testid="consolidated"]').replaceChildren(...rows);
  // Venues' books are separate: a bid on one above an ask on another is a real cross-venue spread.
  const bid = ch?.bids[0];
  const ask = ch?.asks[0];
  $('[data-testid="consolidated-crossed"]').hidden = !(bid && ask && Number(bid[0]) >= Number(ask[0]));
}
