// The account's open orders: loaded from `GET /api/orders` at login and at each (re)connection,
// then kept by the execution reports. Each row cancels, or replaces its open quantity and price
// in place: the new values are checked with the server's rules as they are typed (Enter sends,
// Escape gives up), and what the server answers shows in the reports log.

import { $, el } from './dom.js';
import { instrumentById } from './instruments.js';
import { logRequest } from './reports.js';
import { getMine } from './session.js';
import { request } from './socket.js';
import { checkReplace } from './ticket-rules.js';

/** orderId -> the order as REST lists it, kept up to date by reports. */
const open = new Map();
/** The order whose replace form is open, if any. */
let editing = null;

/** Reloads the open orders from REST (nothing when logged out). */
export async function loadOrders(loggedIn) {
  open.clear();
  if (loggedIn) {
    try {
      for (const o of await getMine('orders')) open.set(o.orderId, o);
    } catch (err) {
      $('[data-testid="orders-error"]').textContent = err.message;
    }
  }
  renderOrders();
}

/** An execution report of the account's: the order it names appears, changes or goes. */
export function onOrderReport(m) {
  if (m.orderId === undefined) return;
  if (['filled', 'canceled', 'rejected'].includes(m.status)) open.delete(m.orderId);
  else if (m.status !== 'pending-new') {
    const before = open.get(m.orderId) ?? {
      tif: m.tif ?? '',
      stopPrice: m.stopPrice ?? null,
      state: 'resting',
    };
    open.set(m.orderId, {
      ...before,
      orderId: m.orderId,
      clientOrderId: m.clientOrderId,
      instrument: m.instrument,
      side: m.side,
      orderType: m.orderType,
      price: m.price ?? null,
      cumQty: m.cumQty,
      leavesQty: m.leavesQty,
      ...(m.triggered ? { state: 'triggered' } : {}),
    });
  }
  renderOrders();
}

function cancel(o) {
  const msg = { op: 'cancel', orderId: o.orderId };
  logRequest(msg, request(msg));
}

/** The replace form of a row: open quantity and price, checked as typed; Enter sends, Escape gives up. */
function replaceForm(o) {
  const inst = instrumentById(o.instrument);
  const quantity = el('input', {
    type: 'text',
    inputmode: 'decimal',
    value: o.leavesQty,
    'aria-label': 'New open quantity',
    'data-testid': 'replace-quantity',
  });
  const price = el('input', {
    type: 'text',
    inputmode: 'decimal',
    value: o.price ?? '',
    disabled: o.price === null,
    'aria-label': 'New price',
    'data-testid': 'replace-price',
  });
  const problem = el('span', { class: 'problem', 'data-testid': 'replace-problem', 'aria-live': 'polite' });
  const send = el('button', { type: 'submit', 'data-testid': 'replace-send' }, 'Send');
  const back = el('button', { type: 'button', 'data-testid': 'replace-back' }, 'Back');
  const form = el(
    'form',
    { class: 'replace', 'aria-label': `Replace order ${o.orderId}` },
    quantity,
    price,
    send,
    back,
    problem,
  );
  const msg = () => {
    const m = { op: 'replace', orderId: o.orderId };
    if (quantity.value.trim() !== o.leavesQty) m.quantity = quantity.value.trim();
    if (o.price !== null && price.value.trim() !== o.price) m.price = price.value.trim();
    return m;
  };
  const check = () => {
    const p = checkReplace(inst, msg());
    problem.textContent = p === null ? '' : `${p.code}: ${p.message}`;
    return p === null;
  };
  form.addEventListener('input', check);
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!check()) return;
    const m = msg();
    editing = null;
    logRequest(m, request(m));
    renderOrders();
  });
  const giveUp = () => {
    editing = null;
    renderOrders();
    $(`[data-testid="order-row"][data-order-id="${o.orderId}"] [data-testid="order-replace"]`)?.focus();
  };
  back.addEventListener('click', giveUp);
  form.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      giveUp();
    }
  });
  setTimeout(() => quantity.focus());
  return form;
}

export function renderOrders() {
  const rows = [...open.values()]
    .sort((a, b) => b.orderId - a.orderId)
    .map((o) => {
      const cancelButton = el(
        'button',
        { type: 'button', 'data-testid': 'order-cancel', 'aria-label': `Cancel order ${o.orderId}` },
        'Cancel',
      );
      cancelButton.addEventListener('click', () => cancel(o));
      const replaceButton = el(
        'button',
        { type: 'button', 'data-testid': 'order-replace', 'aria-label': `Replace order ${o.orderId}` },
        'Replace',
      );
      replaceButton.addEventListener('click', () => {
        editing = o.orderId;
        renderOrders();
      });
      const actions =
        editing === o.orderId
          ? replaceForm(o)
          : el('span', { class: 'actions' }, replaceButton, cancelButton);
      return el(
        'tr',
        {
          'data-testid': 'order-row',
          'data-order-id': String(o.orderId),
          'data-client-order-id': o.clientOrderId,
          'data-price': o.price ?? '',
          'data-leaves': o.leavesQty,
        },
        el('td', { title: o.instrument }, o.instrument.slice(0, o.instrument.indexOf('@'))),
        el('td', { class: o.side === 'buy' ? 'bid' : 'ask' }, o.side),
        el('td', { title: o.state }, `${o.orderType}${o.tif ? ` ${o.tif}` : ''}`),
        el('td', { class: 'num' }, o.price ?? (o.stopPrice ? `stop ${o.stopPrice}` : 'market')),
        el('td', { class: 'num' }, o.leavesQty),
        el('td', { class: 'num' }, o.cumQty),
        el('td', {}, actions),
      );
    });
  if (rows.length === 0) rows.push(el('tr', {}, el('td', { colSpan: 7, class: 'muted' }, 'no open orders')));
  $('[data-testid="orders"]').replaceChildren(...rows);
}
