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
  // One level: asks show their size on the right, bids on the left, the price in the middle.
  const level = (side, [p, q]) => {
    const size = el('td', { class: `num ${side} size` }, q);
    size.style.setProperty('--w', bar(q));
    const price = el('td', { class: `num ${side} price` }, p);
    const empty = el('td', { class: 'num' });
    const attrs = { 'data-testid': 'ladder-row', 'data-side': side, 'data-price': p, 'data-quantity': q };
    return el('tr', attrs, ...(side === 'ask' ? [empty, price, size] : [size, price, empty]));
  };
  const rows = ch.asks
    .slice(0, DEPTH)
    .reverse()
    .map((l) => level('ask', l));
  const bid = ch.bids[0];
  const ask = ch.asks[0];
  const spread = spreadOf(bid, ask, priceDecimals());
  const gapText = bid === undefined && ask === undefined ? 'empty book' : 'one-sided book';
  rows.push(
    el('tr', { class: 'spread' }, el('td', { colSpan: 3 }, spread === null ? gapText : `spread ${spread}`)),
  );
  for (const l of ch.bids.slice(0, DEPTH)) rows.push(level('bid', l));
  body.replaceChildren(...rows);
  drawDepth(ch);
}
