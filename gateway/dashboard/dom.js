// Small DOM helpers shared by the dashboard and the API page: text only, never HTML from the wire.

export const $ = (sel) => document.querySelector(sel);

/** Attributes set as such (the others are set as properties: `type`, `value`, `disabled`...). */
const ATTRIBUTE = /^(data-|aria-)|^(title|role|for|autocomplete|inputmode|placeholder)$/;

/** An element with attributes (`class`, `data-*`, `aria-*`, `title`, `role`... as attributes, others as properties). */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'class') e.className = v;
    else if (ATTRIBUTE.test(k)) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c);
  return e;
}

/** `HH:MM:SS` of a timestamp, local time. */
export const clock = (ts) => new Date(ts).toTimeString().slice(0, 8);
/** `HH:MM:SS.mmm` of a timestamp, local time. */
export const clockMs = (ts) => `${clock(ts)}.${String(ts % 1000).padStart(3, '0')}`;
