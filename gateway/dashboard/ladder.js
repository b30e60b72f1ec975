// The depth ladder of the chosen instrument's book: asks above the spread, bids below, each size
// with a bar relative to the largest level shown; the depth chart is redrawn with it.

import { spreadOf } from './decimals.js';
import { drawDepth } from './depth-chart.js';
import { $, el } from './dom.js';
import { channelOf, DEPTH } from './feed.js';
import { priceDecimals } from './instruments.js';

export function renderLadder() {
  const ch = channelOf('book');
  const body = $('[data-testid="ladder"]');
  $('[data-testid="ladder-channel"]').textContent = ch?.name ?? '';
  if (ch === undefined) return body.replaceChildren();
  const max = Math.max(1, ...[...ch.bids, ...ch.asks].slice(0, 2 * DEPTH).map((l) => Number(l[1])));
  const bar = (q) => `${((100 * Number(q)) / max).toFixed(1)}%`;
  const rows = [];
  for (const [p, q] of ch.asks.slice(0, DEPTH).reverse()) {
    const size = el('td', { class: 'num ask size' }, q);
    size.style.setProperty('--w', bar(q));
    rows.push(
      el(
        'tr',
        { 'data-testid': 'ladder-row', 'data-side': 'ask', 'data-price': p, 'data-quantity': q },
        el('td', { class: 'num' }),
        el('td', { class: 'num ask price' }, p),
        size,
      ),
    );
  }
  const bid = ch.bids[0];
  const ask = ch.asks[0];
  const spread = spreadOf(bid, ask, priceDecimals());
  const gapText = bid === undefined && ask === undefined ? 'empty book' : 'one-sided book';
  rows.push(
    el('tr', { class: 'spread' }, el('td', { colSpan: 3 }, spread === null ? gapText : `spread ${spread}`)),
  );
  for (const [p, q] of ch.bids.slice(0, DEPTH)) {
    const size = el('td', { class: 'num bid size' }, q);
    size.style.setProperty('--w', bar(q));
    rows.push(
      el(
        'tr',
        { 'data-testid': 'ladder-row', 'data-side': 'bid', 'data-price': p, 'data-quantity': q },
        size,
        el('td', { class: 'num bid price' }, p),
        el('td', { class: 'num' }),
      ),
    );
  }
  body.replaceChildren(...rows);
  drawDepth(ch);
}
