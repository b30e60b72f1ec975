/**
 * The order-entry rules a client can check before it sends, in the server's words: a decimal
 * field's syntax, a price or quantity on the instrument's grid (tick or lot), and which order
 * types take a price and a stop price. The gateway's checks (`wire.ts`, `instrument-codec.ts`,
 * `trading.ts`) are these functions, and the dashboard loads this very module, compiled, from
 * `/dashboard/rules/order-rules.js` to check its order ticket as the user types: one source, so
 * the page and the server cannot drift. Hence no imports at all, and exact integer arithmetic
 * (BigInt), never a float.
 */

/** A plain positive decimal string, as every decimal on the wire must be (no sign, exponent or spaces). */
export const DECIMAL_PATTERN = '^(0|[1-9][0-9]*)(\\.[0-9]+)?$';
/** The longest decimal string the wire takes. */
export const DECIMAL_MAX_LENGTH = 40;
const WIRE_DECIMAL = new RegExp(DECIMAL_PATTERN);
/** What the grid reads (the engine's edge takes up to 64 characters; the wire refuses more than 40 first). */
const GRID_MAX_LENGTH = 64;

/** A problem with a field, as the server answers it: an error `code` and its `message`. */
export interface FieldProblem {
  code: 'BAD_DECIMAL' | 'BAD_MESSAGE';
  message: string;
  field: string;
}

/** A value as an error message shows it: short, and never a deep walk of what a client sent. */
export function shown(v: unknown): string {
  if (typeof v === 'string')
    return v.length > 40 ? `${JSON.stringify(v.slice(0, 40))}...` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
  if (v === undefined) return 'nothing';
  return Array.isArray(v) ? 'an array' : 'an object';
}

/** Why a decimal field (`quantity`, `price`, `stopPrice`, `amount`) given as a string is refused by the wire. */
export function decimalSyntaxReason(field: string, got: string): string {
  return `${field} must be a plain positive decimal string such as "12.5", got ${shown(got)}`;
}

/** The wire's refusal of a decimal field of operation `op` (`new`, `replace`), or null if its syntax is sound. */
export function decimalSyntax(op: string, field: string, text: string): FieldProblem | null {
  if (text.length >= 1 && text.length <= DECIMAL_MAX_LENGTH && WIRE_DECIMAL.test(text)) return null;
  return { code: 'BAD_DECIMAL', message: `${op}: ${decimalSyntaxReason(field, text)}`, field };
}

/** Whether an order type rests at a limit price (`price`). */
export const takesPrice = (orderType: string): boolean => orderType === 'limit' || orderType === 'stop-limit';
/** Whether an order type waits for a trigger (`stopPrice`). */
export const takesStopPrice = (orderType: string): boolean =>
  orderType === 'stop' || orderType === 'stop-limit';

/**
 * A `new` order's price fields against its type: a limit or stop-limit order needs `price`, a
 * stop or stop-limit order `stopPrice`, and the others take none. The first problem, or null.
 */
export function priceFieldsProblem(
  orderType: string,
  hasPrice: boolean,
  hasStopPrice: boolean,
): FieldProblem | null {
  const problem = (field: string, text: string): FieldProblem => ({
    code: 'BAD_MESSAGE',
    message: `new: a ${orderType} order ${text} "${field}"`,
    field,
  });
  if (takesPrice(orderType) && !hasPrice) return problem('price', 'needs');
  if (!takesPrice(orderType) && hasPrice) return problem('price', 'takes no');
  if (takesStopPrice(orderType) && !hasStopPrice) return problem('stopPrice', 'needs');
  if (!takesStopPrice(orderType) && hasStopPrice) return problem('stopPrice', 'takes no');
  return null;
}

/** A `replace` must change something: a new `price`, a new `quantity`, or both. The problem, or null. */
export function replaceFieldsProblem(hasPrice: boolean, hasQuantity: boolean): FieldProblem | null {
  if (hasPrice || hasQuantity) return null;
  return {
    code: 'BAD_MESSAGE',
    message: 'replace: give a new "price", a new "quantity", or both',
    field: 'quantity',
  };
}

/** A decimal on a grid: its whole number of units, or the server's refusal. */
export type OnGrid = { ok: true; units: number } | ({ ok: false } & FieldProblem);

/** A plain decimal string as an integer and its decimal places (`12.50` -> 1250n, 2). */
function scaled(text: string): [bigint, number] {
  const dot = text.indexOf('.');
  return dot < 0
    ? [BigInt(text), 0]
    : [BigInt(text.slice(0, dot) + text.slice(dot + 1)), text.length - dot - 1];
}

/** A decimal string without trailing zeros after the point (`0.010` -> `0.01`, `5.0` -> `5`). */
function trimmed(text: string): string {
  return text.includes('.') ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
}

/**
 * `text` (field `field` of an order) as a whole number of `unit` (the instrument's `tickSize` for
 * a price or stop price, `kind` "price"; its `lotSize` for a quantity, `kind` "quantity"): exact,
 * positive and a safe integer, or the gateway's `BAD_DECIMAL` refusal in its words. `unit` is a
 * plain positive decimal string (instrument specs are checked to be).
 */
export function gridUnits(text: string, unit: string, field: string, kind: 'price' | 'quantity'): OnGrid {
  const refuse = (reason: string): OnGrid => ({
    ok: false,
    code: 'BAD_DECIMAL',
    message: `${field} "${text}" is not valid: ${reason}`,
    field,
  });
  if (text.length > GRID_MAX_LENGTH || !WIRE_DECIMAL.test(text)) {
    return refuse(`${kind} must be a plain decimal string such as "12.5"`);
  }
  const [t, tPlaces] = scaled(text);
  const [u, uPlaces] = scaled(unit);
  const places = Math.max(tPlaces, uPlaces);
  const numerator = t * 10n ** BigInt(places - tPlaces);
  const denominator = u * 10n ** BigInt(places - uPlaces);
  if (numerator % denominator !== 0n) {
    const name = kind === 'price' ? 'tick' : 'lot';
    return refuse(
      `${kind} ${text} is not a multiple of ${trimmed(unit)}; ${field} must be a multiple of the ${name} ${unit}`,
    );
  }
  const units = numerator / denominator;
  if (units > BigInt(Number.MAX_SAFE_INTEGER)) return refuse(`${kind} ${text} is too large`);
  if (units === 0n) {
    return {
      ok: false,
      code: 'BAD_DECIMAL',
      message: `${field} must be greater than 0, got "${text}"`,
      field,
    };
  }
  return { ok: true, units: Number(units) };
}
