// The settlement pipeline per venue (pending, settled, failed), polled over REST every 2 s; the
// gas / fee column stays "—" until the connectors report it.

import { $, clock, el } from './dom.js';

const SETTLEMENT_POLL_MS = 2000;

/** Fetches the pipeline and shows it, then polls again, for as long as the page is open. */
export async function pollSettlements() {
  const updated = $('[data-testid="settlement-updated"]');
  try {
    const res = await fetch('/api/settlements', { cache: 'no-store' });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    renderSettlements(await res.json());
    updated.textContent = `updated ${clock(Date.now())}`;
    updated.classList.remove('bad');
  } catch (err) {
    updated.textContent = `unreachable (${err.message})`;
    updated.classList.add('bad');
  }
  setTimeout(pollSettlements, SETTLEMENT_POLL_MS);
}

/** Shows one row per venue's pipeline, or a placeholder row when there is none yet. */
export function renderSettlements(pipelines) {
  const rows = pipelines.map((p) =>
    el(
      'tr',
      { 'data-testid': 'settlement-row', 'data-venue': p.venue },
      el('td', {}, p.venue),
      el('td', { class: 'num' }, String(p.pending)),
      el('td', { class: 'num' }, String(p.settled)),
      el('td', { class: `num${p.failed > 0 ? ' ask' : ''}` }, String(p.failed)),
      el('td', { class: 'num muted', title: 'not reported by the connectors yet' }, '—'),
    ),
  );
  if (rows.length === 0) {
    rows.push(
      el(
        'tr',
        { 'data-testid': 'settlement-empty' },
        el('td', { colSpan: 5, class: 'muted' }, 'no trades since the gateway started'),
      ),
    );
  }
  $('[data-testid="settlement"]').replaceChildren(...rows);
}
