// The order ticket for the chosen instrument: side, type (limit, market, stop, stop-limit),
// quantity, price and stop price, time in force (GTD with its expiry), post-only. Each field is
// checked as the user types, with the server's rules and words (ticket-rules.js); an estimate
// shows the notional, the fee and what the order reserves beside what is available. Enter (or the
// button) asks to confirm; the confirmation sends the order on the page's socket (Enter confirms,
// Escape goes back), and the execution reports follow in the log below (reports.js).

import { availableOf } from './balances.js';
import { compare } from './decimals.js';
import { $, el } from './dom.js';
import { channelOf } from './feed.js';
import { currentInstrument } from './instruments.js';
import { logRequest } from './reports.js';
import { currentSession } from './session.js';
import { request } from './socket.js';
import { checkTicket, estimate, takesPrice, takesStopPrice } from './ticket-rules.js';

const TIFS = { priced: ['GTC', 'GTD', 'IOC', 'FOK'], unpriced: ['IOC', 'FOK'] };
let form = null;
let checked = null;
let ticketOf = null;

const input = (name) => form.elements.namedItem(name);

/** The ticket's fields as typed. */
function fields() {
  const expires = input('expireAt').value;
  return {
    side: input('side').value,
    orderType: input('orderType').value,
    quantity: input('quantity').value.trim(),
    price: input('price').value.trim(),
    stopPrice: input('stopPrice').value.trim(),
    tif: input('tif').value,
    expireAt: expires === '' ? undefined : new Date(expires).getTime(),
    postOnly: input('postOnly').checked,
  };
}

/** A labelled control with the place its problem shows, tied to it for screen readers. */
function field(label, control, name) {
  const problem = el('p', {
    class: 'problem',
    id: `ticket-${name}-problem`,
    'data-testid': `problem-${name}`,
    'aria-live': 'polite',
  });
  control.setAttribute('aria-describedby', problem.id);
  return el('label', { class: `field field-${name}` }, el('span', {}, label), control, problem);
}

/** Builds the ticket's form (once) in its panel. */
function build() {
  const side = el(
    'fieldset',
    { class: 'side', 'data-testid': 'ticket-side' },
    el('legend', { class: 'sr-only' }, 'Side'),
    ...['buy', 'sell'].map((s) =>
      el(
        'label',
        { class: `side-${s}` },
        el('input', {
          type: 'radio',
          name: 'side',
          value: s,
          checked: s === 'buy',
          'data-testid': `ticket-${s}`,
        }),
        el('span', {}, s === 'buy' ? 'Buy' : 'Sell'),
      ),
    ),
  );
  const type = el(
    'select',
    { name: 'orderType', 'data-testid': 'ticket-type' },
    ...['limit', 'market', 'stop', 'stop-limit'].map((t) => el('option', { value: t }, t)),
  );
  const text = (name, placeholder) =>
    el('input', {
      name,
      type: 'text',
      inputmode: 'decimal',
      autocomplete: 'off',
      placeholder,
      'data-testid': `ticket-${name}`,
    });
  const tif = el('select', { name: 'tif', 'data-testid': 'ticket-tif' });
  const expireAt = el('input', {
    name: 'expireAt',
    type: 'datetime-local',
    'data-testid': 'ticket-expire-at',
  });
  const postOnly = el('input', { name: 'postOnly', type: 'checkbox', 'data-testid': 'ticket-post-only' });
  form = el(
    'form',
    { class: 'ticket', 'data-testid': 'ticket', 'aria-label': 'Order ticket' },
    side,
    el(
      'div',
      { class: 'row' },
      el('label', { class: 'field' }, el('span', {}, 'Type'), type),
      el('label', { class: 'field' }, el('span', {}, 'Time in force'), tif),
    ),
    el(
      'div',
      { class: 'row' },
      field('Quantity', text('quantity', 'lots'), 'quantity'),
      field('Price', text('price', 'limit'), 'price'),
    ),
    el(
      'div',
      { class: 'row' },
      field('Stop price', text('stopPrice', 'trigger'), 'stopPrice'),
      field('Expires (GTD)', expireAt, 'expireAt'),
    ),
    el('label', { class: 'check' }, postOnly, el('span', {}, 'Post-only (rest, never take)')),
    el('p', { class: 'problem', 'data-testid': 'problem-tif', 'aria-live': 'polite' }),
    el('p', { class: 'problem', 'data-testid': 'problem-form', 'aria-live': 'polite' }),
    el('dl', { class: 'estimate', 'data-testid': 'ticket-estimate', 'aria-live': 'polite' }),
    el('button', { type: 'submit', class: 'primary', 'data-testid': 'ticket-submit' }, 'Review order'),
  );
  form.addEventListener('input', () => update());
  form.addEventListener('change', () => update());
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    review();
  });
  $('[data-testid="ticket-panel"]').replaceChildren(form, confirmBox());
}

/** The confirmation, hidden until an order is reviewed: Enter confirms, Escape goes back. */
function confirmBox() {
  const box = el('div', {
    class: 'confirm',
    role: 'dialog',
    'aria-modal': 'false',
    'aria-labelledby': 'confirm-title',
    'data-testid': 'ticket-confirm',
    hidden: true,
  });
  const send = el(
    'button',
    { type: 'button', class: 'primary', 'data-testid': 'confirm-send' },
    'Send order',
  );
  const back = el('button', { type: 'button', 'data-testid': 'confirm-back' }, 'Back');
  send.addEventListener('click', () => place());
  back.addEventListener('click', () => closeConfirm());
  box.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') {
      ev.preventDefault();
      closeConfirm();
    }
  });
  box.append(
    el('p', { id: 'confirm-title', class: 'confirm-title' }),
    el('p', { class: 'muted confirm-cost' }),
    el('div', { class: 'row' }, send, back),
  );
  return box;
}

const confirmBoxEl = () => $('[data-testid="ticket-confirm"]');

function closeConfirm() {
  confirmBoxEl().hidden = true;
  form.hidden = false;
  $('[data-testid="ticket-submit"]').focus();
}

/** Shows the order to confirm, if the ticket is sound and the visitor logged in. */
function review() {
  update(true);
  if (checked === null || checked.order === null) {
    form.querySelector('[aria-invalid="true"]')?.focus();
    return;
  }
  if (currentSession() === null) {
    showProblem('form', { code: 'AUTH_REQUIRED', message: 'log in first (Your account)' });
    return;
  }
  const o = checked.order;
  const inst = ticketOf;
  const box = confirmBoxEl();
  const at = [o.price && `at ${o.price}`, o.stopPrice && `when ${o.stopPrice} trades`]
    .filter(Boolean)
    .join(' ');
  box.querySelector('.confirm-title').textContent =
    `${o.side === 'buy' ? 'Buy' : 'Sell'} ${o.quantity} ${inst.symbol} ${o.orderType} ${at} ${o.tif}${o.postOnly ? ' post-only' : ''}`;
  box.querySelector('.confirm-cost').textContent = $('[data-testid="ticket-estimate"]').textContent;
  form.hidden = true;
  box.hidden = false;
  box.querySelector('[data-testid="confirm-send"]').focus();
}

/** Sends the confirmed order with a fresh client order id; its reports go to the log. */
function place() {
  const order = {
    op: 'new',
    clientOrderId: `web-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`,
    ...checked.order,
  };
  closeConfirm();
  logRequest(order, request(order));
}

function showProblem(name, problem) {
  const p = form.querySelector(`[data-testid="problem-${name}"]`);
  if (p === null) return;
  p.textContent = problem === undefined ? '' : `${problem.code}: ${problem.message}`;
  const control = input(name);
  if (control instanceof HTMLElement) control.setAttribute('aria-invalid', String(problem !== undefined));
}

/**
 * Re-checks the ticket and redraws its problems and estimate; called on every keystroke and on
 * market news. An empty field is not yet a mistake, unless `strict` (the user asked to review).
 */
export function update(strict = false) {
  const inst = currentInstrument();
  if (inst === null) return;
  if (form === null) build();
  if (ticketOf?.id !== inst.id) {
    ticketOf = inst;
    $('[data-testid="ticket-instrument"]').textContent = `${inst.symbol} ${inst.venue}`;
  }
  const t = fields();
  const priced = takesPrice(t.orderType);
  const tifs = priced ? TIFS.priced : TIFS.unpriced;
  const tif = input('tif');
  if ([...tif.options].map((o) => o.value).join() !== tifs.join()) {
    tif.replaceChildren(...tifs.map((v) => el('option', { value: v }, v)));
    t.tif = tif.value;
  }
  input('price').disabled = !priced;
  input('stopPrice').disabled = !takesStopPrice(t.orderType);
  input('expireAt').disabled = t.tif !== 'GTD';
  input('postOnly').disabled = !(t.orderType === 'limit' && (t.tif === 'GTC' || t.tif === 'GTD'));
  if (input('postOnly').disabled) t.postOnly = input('postOnly').checked = false;
  const ticker = channelOf('ticker')?.ticker ?? null;
  checked = checkTicket(inst, t, ticker?.last ?? null);
  for (const name of ['quantity', 'price', 'stopPrice', 'expireAt', 'tif', 'form']) {
    const empty = name in t && (t[name] === '' || t[name] === undefined);
    showProblem(name, empty && !strict ? undefined : checked.problems[name]);
  }
  renderEstimate(inst, t, ticker);
  const submit = $('[data-testid="ticket-submit"]');
  submit.disabled = currentSession() === null;
  submit.textContent = submit.disabled ? 'Log in to trade (Your account)' : 'Review order';
}

function renderEstimate(inst, t, ticker) {
  const dl = $('[data-testid="ticket-estimate"]');
  if (checked.order === null)
    return dl.replaceChildren(el('dt', {}, 'Estimate'), el('dd', { class: 'muted' }, 'a sound order first'));
  const near = (t.side === 'buy' ? ticker?.ask : ticker?.bid)?.[0] ?? null;
  const e = estimate(inst, t, checked, near);
  const quote = inst.quote;
  const approx = e.approximate ? '≈ ' : '';
  const available = availableOf(e.reserveAsset);
  const short = available !== null && compare(available, e.reserve) < 0;
  // A post-only order priced at or through the best price on the other side would take: the
  // engine refuses it (POST_ONLY_WOULD_TAKE). Said here, not enforced: the book may move first.
  const takes =
    t.postOnly &&
    near !== null &&
    (t.side === 'buy' ? compare(t.price, near) >= 0 : compare(t.price, near) <= 0);
  const row = (label, value, attrs = {}) => [
    el('dt', {}, label),
    el('dd', { class: 'num', ...attrs }, value),
  ];
  dl.replaceChildren(
    ...row('Notional', e.notional === null ? 'at market' : `${approx}${e.notional} ${quote}`, {
      'data-testid': 'estimate-notional',
    }),
    ...row(`Fee (${e.feeBps} bps)`, e.fee === null ? '—' : `${approx}${e.fee} ${quote}`, {
      'data-testid': 'estimate-fee',
    }),
    ...row(
      t.side === 'buy' ? `Reserves (up to ${e.cap})` : 'Reserves',
      `${e.reserve} ${e.reserveAsset.slice(0, e.reserveAsset.indexOf('@'))}`,
      { 'data-testid': 'estimate-reserve' },
    ),
    ...row('Available', available === null ? '—' : available, {
      class: `num${short ? ' ask' : ''}`,
      'data-testid': 'estimate-available',
      title: short ? 'less than the order reserves: the engine will refuse it' : '',
    }),
    ...(takes
      ? row('Post-only', `would take at ${near}`, {
          class: 'num ask',
          'data-testid': 'estimate-post-only',
          title: `a post-only order would take liquidity (best ${t.side === 'buy' ? 'ask' : 'bid'} ${near}): the engine will refuse it`,
        })
      : []),
  );
  return undefined;
}
