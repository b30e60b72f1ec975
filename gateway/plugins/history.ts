/**
 * REST history of the bearer's account: `/api/fills` and `/api/orders/history` (finished
 * orders), read from the history store (the embedded engine's, or the shards' over NATS) in
 * pages. Newest first unless `order=asc`; `before`/`after` (an id), `beforeTime`/`afterTime`
 * (ms) and `cursor` (a page's `next`) are exclusive bounds and all apply together. Entries of
 * a permissioned venue the caller is no member of are left out. See docs/history.md (also served
 * at /docs/history.md).
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifySchemaValidationError } from 'fastify';
import Type, { type Static } from 'typebox';
import { codeName } from '../../engine/index.ts';
import {
  cursorOf,
  type FillRecord,
  type HistoryKind,
  type OrderRecord,
  type PageQuery,
  parseCursor,
  type Position,
  tighter,
  timeBound,
} from '../../history/index.ts';
import { isGatewayError, makeError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';
import type { InstrumentCodec } from '../instrument-codec.ts';
import { averagePrice } from '../reports.ts';
import type { Holder } from '../tokens.ts';
import { Auth, Decimal, ErrorBody, orderTerms, Unauthorized } from './rest.ts';

/** Entries a page holds at most. */
export const MAX_LIMIT = 1000;

const ms = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });
const id = (description: string) =>
  Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description });

/** The query of a history route; `what` names its ids. */
const pageParams = (what: string) =>
  Type.Object(
    {
      limit: Type.Optional(
        Type.Integer({ minimum: 1, maximum: MAX_LIMIT, default: 100, description: 'entries in the page' }),
      ),
      order: Type.Optional(
        Type.Enum(['desc', 'asc'], { default: 'desc', description: 'desc: newest first; asc: oldest first' }),
      ),
      before: Type.Optional(id(`only entries older than this ${what} (exclusive)`)),
      after: Type.Optional(id(`only entries newer than this ${what} (exclusive)`)),
      beforeTime: Type.Optional(ms('only entries earlier than this time, ms since the epoch (exclusive)')),
      afterTime: Type.Optional(ms('only entries later than this time, ms since the epoch (exclusive)')),
      cursor: Type.Optional(
        Type.String({
          maxLength: 64,
          description: 'the `next` of the previous page: the page after it, in `order`',
        }),
      ),
    },
    { additionalProperties: false },
  );
const FillsQuery = pageParams('trade id');
const OrdersQuery = pageParams('order id');
type Query = Static<typeof FillsQuery>;

const Next = Type.Union([Type.String(), Type.Null()], {
  description:
    'pass it as `cursor` (with the same other parameters) for the next page; null: this page is the last',
});
const Fill = Type.Object({
  tradeId: Type.Integer(),
  orderId: Type.Integer(),
  clientOrderId: Type.String(),
  instrument: Type.String(),
  side: Type.String(),
  price: Decimal,
  quantity: Decimal,
  liquidity: Type.String({ description: 'maker or taker' }),
  fee: Type.String({
    description: 'in the quote currency, with the decimals of its cash unit; negative is a rebate',
  }),
  ts: Type.Integer(),
});
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T, description: string) =>
  Type.Union([t, Type.Null()], { description });
const FinishedOrder = Type.Object({
  orderId: Nullable(Type.Integer(), 'null: refused at entry, it never got one'),
  clientOrderId: Type.String(),
  instrument: Type.String(),
  side: Nullable(Type.String(), 'null where the history did not see its terms'),
  orderType: Nullable(Type.String(), 'null where the history did not see its terms'),
  tif: Nullable(Type.String(), 'null where the history did not see its terms'),
  price: Nullable(Decimal, 'null for a market order (or unknown)'),
  stopPrice: Nullable(Decimal, 'null without one'),
  quantity: Decimal,
  cumQty: Decimal,
  avgPrice: Nullable(Decimal, 'null before any fill'),
  status: Type.String({ description: 'filled, canceled, expired or rejected' }),
  reason: Nullable(Type.String(), 'why it was canceled or refused'),
  code: Type.Optional(Type.Integer({ description: "a refusal's engine result code" })),
  codeName: Type.Optional(Type.String()),
  createdAt: Nullable(Type.Integer(), 'when it was accepted'),
  ts: Type.Integer({ description: 'when it ended' }),
});

const summary = {
  fills: "The caller's fills, newest first, in pages",
  orders: "The caller's finished orders (filled, canceled, expired, rejected), newest first, in pages",
};

export default async function historyPlugin(
  base: FastifyInstance,
  { gateway }: { gateway: Gateway<Exchange> },
) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { exchange, trading } = gateway;

  /** The page a query asks for, its bounds resolved to positions. */
  const pageOf = async (kind: HistoryKind, holder: Holder, query: Query): Promise<PageQuery> => {
    const order = query.order ?? 'desc';
    let below = query.beforeTime === undefined ? undefined : timeBound(query.beforeTime, 'below');
    let above = query.afterTime === undefined ? undefined : timeBound(query.afterTime, 'above');
    if (query.before !== undefined)
      below = tighter(below, await positionOf(kind, holder, query.before, 'before'), 'below');
    if (query.after !== undefined)
      above = tighter(above, await positionOf(kind, holder, query.after, 'after'), 'above');
    if (query.cursor !== undefined) {
      const at = parseCursor(query.cursor);
      if (at === undefined) {
        throw makeError(`cursor "${query.cursor}" is not a cursor this API gave`, 'BAD_MESSAGE', {
          parameter: 'cursor',
        });
      }
      if (order === 'desc') below = tighter(below, at, 'below');
      else above = tighter(above, at, 'above');
    }
    const hidden = Object.keys(exchange.venues).filter((v) => !exchange.canSee(v, holder.memberNames));
    return {
      kind,
      account: holder.account,
      order,
      limit: query.limit ?? 100,
      ...(below === undefined ? {} : { below }),
      ...(above === undefined ? {} : { above }),
      hidden,
    };
  };

  const positionOf = async (
    kind: HistoryKind,
    holder: Holder,
    id: number,
    parameter: string,
  ): Promise<Position> => {
    const pos = await read(() => exchange.history.position(kind, holder.account, id));
    if (pos === undefined) {
      const what =
        kind === 'fills'
          ? `trade ${id} is not one of your fills`
          : `order ${id} is not one of your finished orders`;
      throw makeError(`${parameter}: ${what}`, 'BAD_MESSAGE', { parameter });
    }
    return pos;
  };

  /** The records of one page, and the cursor of the next. */
  const serve = async (kind: HistoryKind, authorization: string | undefined, query: Query) => {
    const q = await pageOf(kind, trading.holder(authorization), query);
    const entries = await read(() => exchange.history.page({ ...q, limit: q.limit + 1 }));
    const page = entries.slice(0, q.limit);
    return {
      records: page.map((e) => e.record),
      next: entries.length > q.limit ? cursorOf(page.at(-1)!.pos) : null,
    };
  };

  const codec = (instrument: string): InstrumentCodec => {
    const c = exchange.codec(instrument);
    if (c === undefined)
      throw makeError(`instrument ${instrument} of the history is not listed`, 'UNAVAILABLE');
    return c;
  };

  app.get(
    '/api/fills',
    {
      schemaErrorFormatter: parameterError,
      schema: {
        summary: summary.fills,
        description:
          'Ordered by time (then by shard and event); bounds are exclusive and apply together. See /docs/history.md.',
        ...Auth,
        querystring: FillsQuery,
        response: {
          200: Type.Object({ fills: Type.Array(Fill), next: Next }),
          400: ErrorBody,
          ...Unauthorized,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const { records, next } = await serve('fills', req.headers.authorization, req.query);
      const fills = (records as FillRecord[]).map((f) => {
        const c = codec(f.instrument);
        return { ...f, price: c.price(f.price), quantity: c.quantity(f.quantity), fee: c.notional(f.fee) };
      });
      return { fills, next };
    },
  );

  app.get(
    '/api/orders/history',
    {
      schemaErrorFormatter: parameterError,
      schema: {
        summary: summary.orders,
        description: 'Ordered by the time each order ended; the same parameters as /api/fills, by order id.',
        ...Auth,
        querystring: OrdersQuery,
        response: {
          200: Type.Object({ orders: Type.Array(FinishedOrder), next: Next }),
          400: ErrorBody,
          ...Unauthorized,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const { records, next } = await serve('orders', req.headers.authorization, req.query);
      return { orders: (records as OrderRecord[]).map((o) => finished(codec(o.instrument), o)), next };
    },
  );
}

/** A finished order as REST shows it. */
function finished(c: InstrumentCodec, o: OrderRecord) {
  return {
    ...orderTerms(c, o),
    quantity: c.quantity(o.quantity),
    avgPrice: o.filled > 0 && o.notional !== null ? averagePrice(o.notional, o.filled, c) : null,
    status: o.status,
    reason: o.reason === '' ? null : o.reason,
    ...(o.code === 0 ? {} : { code: o.code, codeName: codeName(o.code) }),
    createdAt: o.createdAt,
    ts: o.ts,
  };
}

/** A read of the history; a failure of its store (or of the shards' answer) is a 503. */
async function read<T>(what: () => Promise<T>): Promise<T> {
  try {
    return await what();
  } catch (err) {
    if (isGatewayError(err)) throw err;
    throw makeError(`the history cannot be read now: ${(err as Error).message}`, 'UNAVAILABLE', {}, err);
  }
}

/** A query parameter that fails its schema (or is missing), named in the message and as `parameter`. */
export function parameterError(errors: FastifySchemaValidationError[], dataVar: string): Error {
  const e = errors[0]!;
  const extra = e.params.additionalProperty as string | undefined;
  const missing = e.params.missingProperty as string | undefined;
  const parameter = extra ?? missing ?? e.instancePath.replace(/^\//, '');
  const allowed = e.params.allowedValues as unknown[] | undefined;
  const problem =
    extra !== undefined
      ? 'is not a parameter of this route'
      : missing !== undefined
        ? 'is required'
        : allowed !== undefined
          ? `must be one of ${allowed.join(', ')}`
          : (e.message ?? 'is not valid');
  return makeError(`${dataVar} parameter ${parameter} ${problem}`, 'BAD_MESSAGE', { parameter });
}
