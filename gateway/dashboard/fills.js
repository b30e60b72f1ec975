// The account's fills, newest first: the last ones from `GET /api/fills` at login, then each fill
// as its execution report comes. Each shows its fee and where its trade stands in settlement
// (`GET /api/trades/:tradeId/settlement`, asked again every 1.5 s until final): pending; settled,
// with the ledger's reference and the trade's share of the gas; or reversed (the ledger refused
// it, the engine gave both sides back), with the ledger's reason.

import { $, clock, el } from './dom.js';
import { bearer, currentSession, failure, getMine } from './session.js';

const SHOWN = 30;
const POLL_MS = 1500;
/** tradeId-side -> the fill (REST's fields), newest first by trade time. */
let fills = [];
/** tradeId -> its settlement as REST answers it (or `{ status: 'unknown' }`). */
const settlement = new Map();
let timer = 0;

const key = (f) => `${f.tradeId}:${f.orderId}`;

/** Reloads the last fills (nothing when logged out) and follows their settlement. */
export async function loadFills(loggedIn) {
  fills = [];
  settlement.clear();
  if (loggedIn) {
    try {
      fills = (await getMine(`fills?limit=${SHOWN}`)).fills;
    } catch (err) {
      $('[data-testid="fills-error"]').textContent = err.message;
    }
  }
  renderFills();
  poll();
}

/** A report with a fill adds it (once: the same trade can fill both sides of a self-trade). */
export function onFillReport(m) {
  if (m.tradeId === undefined) return;
  const f = {
    tradeId: m.tradeId,
    orderId: m.orderId,
    clientOrderId: m.clientOrderId,
    instrument: m.instrument,
    side: m.side,
    price: m.lastPrice,
    quantity: m.lastQty,
    liquidity: m.liquidity,
    fee: m.fee,
    ts: m.ts,
  };
  if (fills.some((x) => key(x) === key(f))) return;
  fills = [f, ...fills].slice(0, SHOWN);
  renderFills();
  poll();
}

const final = (s) => s !== undefined && s.status !== 'pending';

/** Asks for the settlement of every fill shown whose trade is not final yet, then again later. */
async function poll() {
  clearTimeout(timer);
  const s = currentSession();
  if (s === null) return;
  const open = [...new Set(fills.map((f) => f.tradeId))].filter((id) => !final(settlement.get(id)));
  await Promise.all(
    open.map(async (id) => {
      const res = await fetch(`/api/trades/${id}/settlement`, { headers: bearer(s), cache: 'no-store' });
      if (res.ok) settlement.set(id, await res.json());
      // Older than the gateway keeps (or from before it started): it cannot say any more.
      else if (res.status === 404)
        settlement.set(id, { status: 'unknown', reason: (await failure(res)).message });
    }),
  ).catch(() => {});
  renderFills();
  if (open.length > 0) timer = setTimeout(poll, POLL_MS);
}

const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A trade's settlement as a cell: its state, and where final its reference and gas (or reason). */
function settlementCell(tradeId) {
  const s = settlement.get(tradeId);
  const status = s === undefined ? 'pending' : s.status === 'failed' ? 'reversed' : s.status;
  const detail =
    s?.status === 'settled'
      ? [
          el(
            'span',
            { class: 'ref', title: s.ref ?? '', 'data-testid': 'fill-ref' },
            s.ref ? `${s.ref.slice(0, 8)}…` : '',
          ),
          s.gas === undefined
            ? ''
            : el('span', { class: 'muted', 'data-testid': 'fill-gas' }, ` ${whole.format(s.gas)} gas`),
        ]
      : s?.reason
        ? [el('span', { class: 'muted', title: s.reason }, ` ${s.reason}`)]
        : [];
  return el(
    'td',
    {
      class: `settlement ${status}`,
      'data-testid': 'fill-settlement',
      'data-status': status,
      'data-ref': s?.ref ?? '',
      'data-gas': s?.gas === undefined ? '' : String(s.gas),
    },
    el('span', { class: 'state' }, status),
    ' ',
    ...detail,
  );
}

export function renderFills() {
  const rows = fills.map((f) =>
    el(
      'tr',
      {
        'data-testid': 'fill-row',
        'data-trade-id': String(f.tradeId),
        'data-fee': f.fee,
        'data-quantity': f.quantity,
        'data-price': f.price,
      },
      el('td', { title: `trade ${f.tradeId}, order ${f.orderId} (${f.clientOrderId})` }, clock(f.ts)),
      el(
        'td',
        { title: f.instrument },
        el('span', { class: f.side === 'buy' ? 'bid' : 'ask' }, f.side),
        ` ${f.quantity} ${f.instrument.slice(0, f.instrument.indexOf('@'))} @ ${f.price}`,
      ),
      el(
        'td',
        { class: 'num', title: `${f.liquidity} fee, in the quote currency (negative: a rebate)` },
        f.fee,
      ),
      settlementCell(f.tradeId),
    ),
  );
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colSpan: 4, class: 'muted' }, 'no fills yet')));
  $('[data-testid="fills"]').replaceChildren(...rows);
}
