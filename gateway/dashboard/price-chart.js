// The price chart of the chosen instrument: candles (open, high, low, close) and their volume at
// one interval (1s, 1m, 5m, 1h), drawn with lightweight-charts (its standalone build, served from
// node_modules by the dashboard plugin). The history comes from `GET /api/candles`, what changes
// from the `candles.<interval>:INSTRUMENT` channel, which the feed follows and checks like the
// others (docs/ws-protocol.md, "Candles"). Prices become floats here only to be drawn.

import { CandlestickSeries, createChart, HistogramSeries } from '/dashboard/vendor/lightweight-charts.js';
import { $, el } from './dom.js';
import { channelOf } from './feed.js';
import { bearer, currentSession } from './session.js';

export const INTERVALS = ['1s', '1m', '5m', '1h'];
const HISTORY = 500;

let interval = '1m';
let chart = null;
let candles = null;
let volume = null;
/** `instrument interval` -> candles by open time, from REST. */
let history = { key: '', byTime: new Map() };
let onIntervalChange = () => {};

/** The interval shown (the feed follows its channel). */
export const chartInterval = () => interval;

/** The candles channel to follow for an instrument at the chosen interval. */
export const candlesChannel = (id) => `candles.${interval}:${id}`;

function note(text) {
  $('[data-testid="price-chart-note"]').textContent = text;
}

/** Builds the interval buttons and the chart (once); `changed()` is told when the interval changes. */
export function startPriceChart(changed) {
  onIntervalChange = changed;
  const buttons = INTERVALS.map((i) => {
    const b = el(
      'button',
      { type: 'button', class: 'tab', 'data-testid': 'chart-interval', 'data-interval': i },
      i,
    );
    b.setAttribute('aria-pressed', String(i === interval));
    b.addEventListener('click', () => {
      interval = i;
      for (const x of buttons) x.setAttribute('aria-pressed', String(x === b));
      onIntervalChange();
    });
    return b;
  });
  $('[data-testid="chart-intervals"]').replaceChildren(...buttons);
  const box = $('[data-testid="price-chart"]');
  box.replaceChildren();
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  chart = createChart(box, {
    autoSize: true,
    layout: { background: { color: color('--panel') }, textColor: color('--muted'), attributionLogo: false },
    grid: { vertLines: { color: color('--line') }, horzLines: { color: color('--line') } },
    timeScale: { timeVisible: true, secondsVisible: true, borderColor: color('--grid') },
    rightPriceScale: { borderColor: color('--grid') },
  });
  candles = chart.addSeries(CandlestickSeries, {
    upColor: color('--bid'),
    downColor: color('--ask'),
    borderVisible: false,
    wickUpColor: color('--bid'),
    wickDownColor: color('--ask'),
  });
  volume = chart.addSeries(HistogramSeries, {
    priceScaleId: 'volume',
    color: color('--grid'),
    priceFormat: { type: 'volume' },
  });
  chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
}

/** Reads the history of the chosen instrument at the chosen interval, then draws. */
export async function loadCandleHistory(inst) {
  const key = `${inst.id} ${interval}`;
  history = { key, byTime: new Map() };
  const s = currentSession();
  const url = `/api/candles?instrument=${encodeURIComponent(inst.id)}&interval=${interval}&limit=${HISTORY}`;
  try {
    const res = await fetch(url, { cache: 'no-store', headers: s === null ? {} : bearer(s) });
    const body = await res.json();
    if (!res.ok) throw new Error(`${body.code ?? res.status}: ${body.message ?? res.statusText}`);
    if (history.key !== key) return; // another instrument or interval meanwhile
    for (const c of body.candles) history.byTime.set(c.t, c);
    note('');
  } catch (err) {
    note(`history: ${err.message}`);
  }
  renderPriceChart();
}

/** The candles shown: the history, with the channel's (newer, or the same candle changed) over it. */
export function shownCandles() {
  const all = new Map(history.byTime);
  for (const [t, c] of channelOf('candles')?.candles ?? []) all.set(t, c);
  return [...all.values()].sort((a, b) => a.t - b.t);
}

export function renderPriceChart() {
  if (chart === null) return;
  const shown = shownCandles();
  candles.setData(
    shown.map((c) => ({
      time: c.t / 1000,
      open: Number(c.open),
      high: Number(c.high),
      low: Number(c.low),
      close: Number(c.close),
    })),
  );
  volume.setData(shown.map((c) => ({ time: c.t / 1000, value: Number(c.volume) })));
  const box = $('[data-testid="price-chart"]');
  box.dataset.candles = String(shown.length);
  box.dataset.last = shown.length === 0 ? '' : JSON.stringify(shown.at(-1));
  const noteEl = $('[data-testid="price-chart-note"]');
  if (shown.length === 0 && noteEl.textContent === '') note(`no trades yet at ${interval}`);
  else if (shown.length > 0 && noteEl.textContent.startsWith('no trades')) note('');
}
