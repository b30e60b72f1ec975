// The last trades of the chosen instrument, newest first, coloured by the aggressor's side; rows
// new since the last frame are marked `fresh` (the stylesheet flashes them).

import { $, clockMs, el } from './dom.js';
import { channelOf } from './feed.js';

export function renderTrades() {
  const ch = channelOf('trades');
  const rows = (ch?.trades ?? []).map((t) => {
    const row = el(
      'tr',
      {
        'data-testid': 'trade-row',
        'data-trade-id': String(t.tradeId),
        'data-price': t.price,
        'data-quantity': t.quantity,
        'data-side': t.side,
        class: `${t.side === 'buy' ? 'bid' : 'ask'}${ch.freshTrades.has(t.tradeId) ? ' fresh' : ''}`,
      },
      el('td', {}, clockMs(t.ts)),
      el('td', { class: 'num' }, t.price),
      el('td', { class: 'num' }, t.quantity),
      el('td', {}, t.side),
    );
    return row;
  });
  if (ch !== undefined) ch.freshTrades.clear();
  $('[data-testid="trades"]').replaceChildren(...rows);
}
