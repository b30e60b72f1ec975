// The depth chart: cumulative size by price on a canvas, bids stepping down to the left, asks to
// the right, colours from the stylesheet. Floats are fine here: it is only a drawing.

import { $ } from './dom.js';
import { DEPTH } from './feed.js';
import { priceDecimals } from './instruments.js';

/** Draws book channel `ch` into the page's canvas, sized to the canvas's CSS box. */
export function drawDepth(ch) {
  const canvas = $('[data-testid="depth-chart"]');
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth;
  const h = canvas.clientHeight;
  if (w === 0 || h === 0) return;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  g.font = `11px ${color('--mono')}`;
  g.fillStyle = color('--muted');

  const cumulative = (side) => {
    let sum = 0;
    return side.slice(0, DEPTH).map((l) => [Number(l[0]), (sum += Number(l[1]))]);
  };
  const bids = cumulative(ch.bids);
  const asks = cumulative(ch.asks);
  if (bids.length === 0 && asks.length === 0) {
    g.fillText('empty book', w / 2 - 28, h / 2);
    return;
  }
  const prices = [...bids, ...asks].map((p) => p[0]);
  let lo = Math.min(...prices);
  let hi = Math.max(...prices);
  const pad = (hi - lo) * 0.05 || Math.max(1e-9, Math.abs(hi) * 0.01);
  lo -= pad;
  hi += pad;
  const top = Math.max(bids.at(-1)?.[1] ?? 0, asks.at(-1)?.[1] ?? 0);
  const left = 8;
  const right = w - 8;
  const base = h - 20;
  const x = (p) => left + ((p - lo) / (hi - lo)) * (right - left);
  const y = (q) => base - (q / top) * (base - 14);

  const area = (points, edge, fill, stroke) => {
    if (points.length === 0) return;
    g.beginPath();
    g.moveTo(x(points[0][0]), base);
    let prev = 0;
    for (const [p, q] of points) {
      g.lineTo(x(p), y(prev));
      g.lineTo(x(p), y(q));
      prev = q;
    }
    g.lineTo(edge, y(prev));
    g.lineTo(edge, base);
    g.closePath();
    g.fillStyle = fill;
    g.fill();
    g.strokeStyle = stroke;
    g.lineWidth = 1.5;
    g.stroke();
  };
  area(bids, left, color('--bid-fill'), color('--bid'));
  area(asks, right, color('--ask-fill'), color('--ask'));

  const d = priceDecimals();
  g.fillStyle = color('--muted');
  g.strokeStyle = color('--grid');
  g.beginPath();
  g.moveTo(left, base + 0.5);
  g.lineTo(right, base + 0.5);
  g.stroke();
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    const p = lo + f * (hi - lo);
    const label = p.toFixed(d);
    const tx = Math.min(
      right - g.measureText(label).width,
      Math.max(left, x(p) - g.measureText(label).width / 2),
    );
    g.fillText(label, tx, h - 5);
  }
  g.fillText(`max ${top}`, left, 11);
}
