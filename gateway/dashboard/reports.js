// The log of the account's order requests and what came of them, newest first, under the ticket:
// each execution report as it comes (status, quantities, price, a fill's fee; a refusal's engine
// code and reason), each reject of a cancel or replace, and each error the server answered to a
// request, with its code and text. Reports of orders sent from elsewhere (another tab) show too.

import { $, clockMs, el } from './dom.js';

const KEPT = 40;

/** One line of the log; `kind` (`exec`, `reject`, `error`) and `status` become its data attributes. */
function line(kind, status, text, ts = Date.now(), extra = {}) {
  const body = $('[data-testid="reports"]');
  const row = el(
    'li',
    {
      class: `report ${kind} ${status}`,
      'data-testid': 'report',
      'data-kind': kind,
      'data-status': status,
      ...extra,
    },
    el('span', { class: 'muted' }, clockMs(ts)),
    ' ',
    text,
  );
  body.prepend(row);
  while (body.children.length > KEPT) body.lastElementChild.remove();
}

/** An execution report, or a reject of a cancel or replace, as the log shows it. */
export function logReport(m) {
  if (m.type === 'reject') {
    const what = m.orderId ?? m.clientOrderId ?? '';
    line('reject', m.codeName, `${m.op} ${what} refused: ${m.codeName} (${m.code}): ${m.reason}`, m.ts);
    return;
  }
  const order = `${m.side ?? ''} ${m.quantity ?? ''} ${m.instrument.slice(0, m.instrument.indexOf('@'))}${m.price ? ` @ ${m.price}` : ''}`;
  const fill =
    m.lastQty === undefined ? '' : ` · filled ${m.lastQty} @ ${m.lastPrice} (${m.liquidity}, fee ${m.fee})`;
  const why =
    m.status === 'rejected' ? `: ${m.codeName} (${m.code}): ${m.reason}` : m.reason ? ` (${m.reason})` : '';
  const done = m.cumQty === undefined ? '' : ` · done ${m.cumQty}/${m.quantity}`;
  line(
    'exec',
    m.status,
    `${m.status} ${m.clientOrderId}${m.orderId ? ` #${m.orderId}` : ''} ${order.trim()}${done}${fill}${why}`,
    m.ts,
    {
      'data-client-order-id': m.clientOrderId,
    },
  );
}

/**
 * Logs a request's failure: an `error` answer (code and text) or no answer at all. Its other
 * answers are reports (or an ack), which reach the log as every report does.
 */
export function logRequest(msg, answer) {
  answer.then(
    (a) => {
      if (a.type === 'error')
        line(
          'error',
          a.code,
          `${msg.op} ${msg.clientOrderId ?? msg.orderId ?? ''} refused: ${a.code}: ${a.message}`,
        );
    },
    (err) => line('error', 'UNAVAILABLE', `${msg.op} not sent: ${err.message}`),
  );
}
