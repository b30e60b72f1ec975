// The ticker strip of the chosen instrument: best bid and ask, last price, volume and spread.

import { spreadOf } from './decimals.js';
import { $ } from './dom.js';
import { channelOf } from './feed.js';
import { priceDecimals } from './instruments.js';

export function renderTicker() {
  const t = channelOf('ticker')?.ticker ?? null;
  const level = (l) => (l === null || l === undefined ? '—' : `${l[0]} × ${l[1]}`);
  $('[data-testid="ticker-bid"]').textContent = level(t?.bid);
  $('[data-testid="ticker-ask"]').textContent = level(t?.ask);
  $('[data-testid="ticker-last"]').textContent = t?.last ?? '—';
  $('[data-testid="ticker-volume"]').textContent = t?.volume ?? '—';
  $('[data-testid="ticker-spread"]').textContent = spreadOf(t?.bid, t?.ask, priceDecimals()) ?? '—';
  const box = $('[data-testid="ticker"]');
  box.dataset.last = t?.last ?? '';
  box.dataset.seq = t === null ? '' : String(t.seq);
}
