// The settlement pipeline per venue (pending, settled, failed), polled over REST every 2 s, with
// what settling cost per trade where the ledger charges for it (gas, and the fee in gwei; "—"
// where no verdict has reported a cost), and the exchange's fees collected there. Below it, the
// last cross-ledger trades, each leg's venue and state as its ledger reports it.

import { $, clock, el } from './dom.js';

const SETTLEMENT_POLL_MS = 2000;
/** Cross-ledger trades shown. */
const LEGS_SHOWN = 5;

/** A REST answer's JSON, or an error naming its status. */
async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** Fetches the pipeline and the last cross-ledger trades and shows them, then polls again, for as long as the page is open. */
export async function pollSettlements() {
  const updated = $('[data-testid="settlement-updated"]');
  try {
    const [pipelines, crossLedger] = await Promise.all([
      getJson('/api/settlements'),
      getJson(`/api/settlements/legs?limit=${LEGS_SHOWN}`),
    ]);
    renderSettlements(pipelines, crossLedger);
    updated.textContent = `updated ${clock(Date.now())}`;
    updated.classList.remove('bad');
  } catch (err) {
    updated.textContent = `unreachable (${err.message})`;
    updated.classList.add('bad');
  }
  setTimeout(pollSettlements, SETTLEMENT_POLL_MS);
}

/**
 * Shows one row per venue's pipeline, and one per cross-ledger trade (newest first), or a
 * placeholder row where there is none yet.
 */
export function renderSettlements(pipelines, crossLedger = []) {
  const rows = pipelines.map((p) =>
    el(
      'tr',
      { 'data-testid': 'settlement-row', 'data-venue': p.venue },
      el('td', {}, p.venue),
      el('td', { class: 'num' }, String(p.pending)),
      el('td', { class: 'num' }, String(p.settled)),
      el('td', { class: `num${p.failed > 0 ? ' ask' : ''}` }, String(p.failed)),
      costCell(p),
      feesCell(p),
    ),
  );
  if (rows.length === 0) {
    rows.push(
      el(
        'tr',
        { 'data-testid': 'settlement-empty' },
        el('td', { colSpan: 6, class: 'muted' }, 'no trades since the gateway started'),
      ),
    );
  }
  $('[data-testid="settlement"]').replaceChildren(...rows);
  renderLegs(crossLedger);
}

/** A row per cross-ledger trade: its status, then each leg's venue and state. */
function renderLegs(trades) {
  const rows = trades.map((t) =>
    el(
      'tr',
      { 'data-testid': 'legs-row', 'data-trade': String(t.tradeId), 'data-status': t.status },
      el('td', { class: 'num' }, String(t.tradeId)),
      el('td', { title: t.instrument }, t.instrument.slice(0, t.instrument.indexOf('@'))),
      ...t.legs.map(legCell),
      el('td', { class: t.status === 'failed' ? 'ask' : '', title: t.reason ?? '' }, t.status),
    ),
  );
  if (rows.length === 0) {
    rows.push(
      el(
        'tr',
        { 'data-testid': 'legs-empty' },
        el('td', { colSpan: 5, class: 'muted' }, 'no cross-ledger trades since the gateway started'),
      ),
    );
  }
  $('[data-testid="legs"]').replaceChildren(...rows);
}

/** A leg's state on its venue, its reference, cost and reason in the title. */
function legCell(l) {
  const title = [
    l.ref && `ref ${l.ref}`,
    l.gasFee && `${whole.format(l.gas)} gas, ${l.gasFee} wei`,
    l.reason && `reason: ${l.reason}`,
  ].filter(Boolean);
  return el(
    'td',
    {
      'data-testid': 'leg-state',
      'data-leg': l.leg,
      'data-venue': l.venue,
      'data-state': l.status,
      class: `leg ${l.status}`,
      title: title.join('; ') || 'nothing reported yet',
    },
    el('span', { class: 'leg-state' }, l.status),
    el('span', { class: 'leg-venue' }, l.venue),
  );
}

const GWEI = 1_000_000_000n;
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
/** Five significant digits: 94,799 gwei on a busy chain, 0.081289 gwei on a quiet one (the title has the exact wei). */
const gweiFormat = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 5 });

/** Average gas and fee (in gwei) per trade whose cost was reported, or "—" if none was. */
function costCell(p) {
  if (p.costed === 0) {
    return el('td', { class: 'num muted', 'data-testid': 'settlement-cost', title: 'no cost reported' }, '—');
  }
  // Whole gas and wei per trade, rounded down alike.
  const gas = Math.floor(p.gas / p.costed);
  const fee = BigInt(p.gasFee) / BigInt(p.costed);
  // Whole gwei and the remainder in thousandths: exact enough to read, no float on the total.
  const gwei = Number(fee / GWEI) + Number((fee % GWEI) / 1_000_000n) / 1000;
  return el(
    'td',
    {
      class: 'num',
      'data-testid': 'settlement-cost',
      'data-gas': String(gas),
      'data-fee': fee.toString(),
      title: `${p.costed} trades with a reported cost: ${whole.format(p.gas)} gas, ${p.gasFee} wei in all`,
    },
    // A line each (the separator shows only in the text, for readers and copies).
    el('span', { class: 'part' }, `${whole.format(gas)} gas`),
    el('span', { class: 'sep' }, ' · '),
    el('span', { class: 'part' }, `${gweiFormat.format(gwei)} gwei`),
  );
}

/** The exchange's fees collected on the venue's ledger (and those still pending), per cash asset, or "—". */
function feesCell(p) {
  const fees = p.fees ?? [];
  if (fees.length === 0) return el('td', { class: 'num muted', 'data-testid': 'settlement-fees' }, '—');
  return el(
    'td',
    {
      class: 'num',
      'data-testid': 'settlement-fees',
      title: fees.map((f) => `${f.asset}: ${f.collected} collected, ${f.pending} pending`).join('; '),
    },
    fees.map((f) => `${f.collected} ${f.asset.slice(0, f.asset.indexOf('@'))}`).join(' · '),
  );
}
