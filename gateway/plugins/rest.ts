/**
 * REST under `/api`: instruments, book snapshots and recent trades (public venues for anyone,
 * permissioned ones for members), login for a bearer token, and a holder's live orders,
 * balances and withdrawals (its fills and finished orders: `history.ts`); settlement status of a
 * trade (a cross-ledger one's legs too), of the last cross-ledger trades and of each ledger's
 * pipeline. TypeBox schemas are the contract (and the OpenAPI document at /docs).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import { quoteUnitOf } from '../../engine/index.ts';
import { times } from '../decimals.ts';
import { makeError } from '../errors.ts';
import { DEPTHS } from '../feed/index.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';
import type { InstrumentCodec } from '../instrument-codec.ts';
import { addressKey } from '../limits.ts';
import { CROSS_LEDGER_KEPT } from '../settlements.ts';
import type { Holder } from '../tokens.ts';
import { type Message, Messages, parseMessage } from '../wire.ts';

export const ErrorBody = Type.Object(
  { code: Type.String(), message: Type.String() },
  { additionalProperties: true },
);
export const Decimal = Type.String({ description: 'a decimal string' });
const Level = Type.Tuple([Decimal, Decimal]);
const Depth = Type.Union(
  DEPTHS.map((n) => Type.Literal(n)),
  { description: 'levels a side', default: 10 },
);
/** A WebSocket login's signed proof, as a body: the same schema without the envelope (a token buys no other). */
const LoginBody = Type.Union(
  Messages.login.anyOf
    .filter((branch) => !('token' in branch.properties))
    .map((branch) => Type.Omit(branch, ['op', 'id', 'cancelOnDisconnect'], { additionalProperties: false })),
);
const InstrumentParams = Type.Object({ id: Type.String({ minLength: 3, maxLength: 64 }) });
export const Auth = { security: [{ bearer: [] }] };
export const Unauthorized = { 401: ErrorBody };
/** Past a per-address limit (docs/ws-protocol.md#limits): `RATE_LIMITED` with `retryAfterMs`. */
const Limited = {
  429: Type.Object(
    { code: Type.Literal('RATE_LIMITED'), message: Type.String(), retryAfterMs: Type.Integer() },
    { description: 'RATE_LIMITED: too many from this address; retry after retryAfterMs' },
  ),
};

const Order = Type.Object({
  orderId: Type.Integer(),
  clientOrderId: Type.String(),
  instrument: Type.String(),
  side: Type.String(),
  orderType: Type.String(),
  tif: Type.String(),
  price: Type.Union([Decimal, Type.Null()]),
  stopPrice: Type.Union([Decimal, Type.Null()]),
  cumQty: Decimal,
  leavesQty: Decimal,
  state: Type.String({ description: 'resting, or waiting for its stop price' }),
});
/** An amount of a balance's asset, with as many decimals as its unit. */
const Amount = Type.String({ description: 'a decimal string with the decimals of `unit`' });
const Balance = Type.Object({
  asset: Type.String({ description: 'SYMBOL@venue or QUOTE@venue' }),
  unit: Decimal,
  available: Amount,
  reserved: Amount,
  pendingIn: Amount,
  pendingOut: Amount,
});
/** An amount in a ledger's native base units (wei on EVM chains), as a decimal string. */
const baseUnits = (description: string) => Type.String({ pattern: '^[0-9]+$', description });
const Pipeline = Type.Object({
  venue: Type.String(),
  pending: Type.Integer(),
  settled: Type.Integer(),
  failed: Type.Integer(),
  costed: Type.Integer({
    description:
      "verdicts, and steps of cross-ledger trades' legs on this venue, that reported what settling cost",
  }),
  gas: Type.Integer({ description: 'gas used over the costed verdicts and steps, whole units' }),
  gasFee: baseUnits('fee paid over the costed verdicts and steps, native base units (wei)'),
  fees: Type.Array(
    Type.Object({
      asset: Type.String({ description: 'the cash asset, QUOTE@venue' }),
      collected: Type.String({
        description: "the exchange's fees of the trades the ledger settled, paid to its fee account",
      }),
      pending: Type.String({ description: 'the fees of the trades waiting for their ledger' }),
    }),
    { description: "the exchange's take per cash asset since the gateway started (pre-trade risk on)" },
  ),
});
const Leg = Type.Object({
  leg: Type.Union([Type.Literal('security'), Type.Literal('cash')]),
  venue: Type.String({
    description: "the leg's ledger: the instrument's venue for the security, its quoteVenue for the cash",
  }),
  status: Type.Union(
    [
      Type.Literal('pending'),
      Type.Literal('locked'),
      Type.Literal('claimed'),
      Type.Literal('refunded'),
      Type.Literal('refused'),
    ],
    {
      description:
        'pending until its ledger reports a first step: locked or refused, then claimed or refunded',
    },
  ),
  reason: Type.Optional(Type.String({ description: 'why its ledger refused it' })),
  ref: Type.Optional(Type.String({ description: "the ledger's reference of its last step that had one" })),
  gas: Type.Optional(
    Type.Integer({ description: 'gas its steps used, their shares of their batches, whole units' }),
  ),
  gasFee: Type.Optional(baseUnits('fee its steps paid, native base units (wei)')),
});
const Settlement = Type.Object({
  tradeId: Type.Integer(),
  instrument: Type.String(),
  venue: Type.String(),
  status: Type.Union([
    Type.Literal('pending'),
    Type.Literal('settled'),
    Type.Literal('failed'),
    Type.Literal('not-required'),
  ]),
  reason: Type.Optional(Type.String()),
  matchedAt: Type.Integer(),
  settledAt: Type.Optional(Type.Integer()),
  ref: Type.Optional(Type.String({ description: "the ledger's reference: transaction hash or id" })),
  gas: Type.Optional(Type.Integer({ description: "the trade's share of its batch's gas, whole units" })),
  gasFee: Type.Optional(baseUnits("the trade's share of the fee paid, native base units (wei)")),
  fee: Type.Optional(
    Type.String({
      description: "the exchange's fees on the trade, taker's and maker's (negative: a net rebate)",
    }),
  ),
  feeAsset: Type.Optional(
    Type.String({
      description: 'the cash asset of `fee`, QUOTE@venue (a cross-ledger trade: its quoteVenue)',
    }),
  ),
  legs: Type.Optional(
    Type.Array(Leg, {
      description:
        'a cross-ledger trade: its security leg, then its cash leg, each as its ledger last reported it (their costs are here, not in the trade)',
    }),
  ),
});
const Withdrawal = Type.Object({
  withdrawalId: Type.Integer(),
  account: Type.String(),
  asset: Type.String({ description: 'SYMBOL@venue or QUOTE@venue' }),
  venue: Type.String(),
  amount: Type.String({
    description: "a decimal string with the decimals of the asset's unit, as its balance",
  }),
  status: Type.Union([Type.Literal('pending'), Type.Literal('released'), Type.Literal('refused')]),
  requestedAt: Type.Integer({ description: 'ms since the epoch; 0 if granted before the gateway started' }),
  settledAt: Type.Optional(Type.Integer()),
  reason: Type.Optional(
    Type.String({ description: 'why the ledger refused it (the amount is available again)' }),
  ),
  ref: Type.Optional(
    Type.String({ description: "the ledger's reference of the release: transaction hash or id" }),
  ),
  gas: Type.Optional(
    Type.Integer({ description: "the release's share of its transaction's gas, whole units" }),
  ),
  gasFee: Type.Optional(baseUnits("the release's share of the fee paid, native base units (wei)")),
});
const Challenge = Type.Object({
  nonce: Type.String(),
  message: Type.String({ description: 'signed by eip191 and x509' }),
  typedData: Type.Object({}, { additionalProperties: true, description: 'signed by eip712' }),
  expiresAt: Type.Integer(),
});

const Access = Type.Object({
  venue: Type.String(),
  canTrade: Type.Boolean(),
  reason: Type.Optional(
    Type.Union([Type.Literal('other-ledger'), Type.Literal('not-eligible'), Type.Literal('frozen')]),
  ),
  message: Type.Optional(Type.String()),
});

const Account = Type.Object({
  account: Type.String(),
  identities: Type.Array(Type.String(), { description: 'identities linked to the account, in link order' }),
  venues: Type.Array(Type.String(), { description: 'the venues its identities see' }),
  access: Type.Array(Access),
});

const Instrument = Type.Object({
  id: Type.String(),
  symbol: Type.String(),
  venue: Type.String(),
  status: Type.String(),
  tickSize: Decimal,
  lotSize: Decimal,
  priceDecimals: Type.Integer(),
  quantityDecimals: Type.Integer(),
  minQty: Decimal,
  maxQty: Decimal,
  makerFeeBps: Type.Integer({
    description: 'fee of a resting order that fills, basis points (negative: a rebate)',
  }),
  takerFeeBps: Type.Integer({ description: 'fee of an order that takes liquidity, basis points' }),
  maxPrice: Type.String({ description: 'the highest price an order may have, a decimal string' }),
  referencePrice: Type.Union([Decimal, Type.Null()], {
    description: 'the price band is around the last price, or this before the first trade (null: none)',
  }),
  bandBps: Type.Integer({
    description:
      'the price band, basis points either side of the reference (0: none): limit prices must lie within it, and a market buy reserves at its high',
  }),
  quoteUnit: Type.String({
    description: 'the cash unit: cash balances and reservations are whole numbers of it (0.01 for USD)',
  }),
  quote: Type.String(),
  quoteVenue: Type.String({
    description: "the cash's venue: another than `venue` for a cross-ledger instrument",
  }),
  lastPrice: Type.Union([Decimal, Type.Null()]),
});

export default async function restPlugin(base: FastifyInstance, { gateway }: { gateway: Gateway<Exchange> }) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();
  const { exchange, feed, trading, settlements, withdrawals } = gateway;
  const engine = exchange.view;

  /** The bearer's holder, or undefined for an anonymous request. */
  const who = (req: FastifyRequest) => trading.optionalHolder(req.headers.authorization);
  const must = (req: FastifyRequest): Holder => trading.holder(req.headers.authorization);
  const visible = (holder: Holder | undefined, venue: string) =>
    exchange.canSee(venue, holder?.memberNames ?? []);
  const codecOf = (req: FastifyRequest, id: string) => visibleInstrument(gateway, req, id);

  app.get(
    '/api/instruments',
    { schema: { summary: 'Instruments this caller may see', response: { 200: Type.Array(Instrument) } } },
    async (req) => {
      const holder = who(req);
      return engine
        .instruments()
        .map((id) => exchange.codec(id)!)
        .filter((c) => visible(holder, c.venue))
        .map((c) => {
          const inst = engine.instrument(c.spec.id)!;
          const s = c.spec;
          return {
            id: s.id,
            symbol: c.symbol,
            venue: c.venue,
            status: inst.status,
            tickSize: s.tickSize,
            lotSize: s.lotSize,
            priceDecimals: s.priceDecimals,
            quantityDecimals: s.quantityDecimals,
            minQty: c.quantity(s.minQty),
            maxQty: c.quantity(s.maxQty),
            makerFeeBps: s.makerFeeBps,
            takerFeeBps: s.takerFeeBps,
            maxPrice: c.price(s.maxPrice),
            referencePrice: s.referencePrice > 0 ? c.price(s.referencePrice) : null,
            bandBps: s.bandBps,
            quoteUnit: quoteUnitOf(s),
            quote: s.quote ?? 'USD',
            quoteVenue: s.quoteVenue ?? c.venue,
            lastPrice: inst.lastPrice > 0 ? c.price(inst.lastPrice) : null,
          };
        });
    },
  );

  app.get(
    '/api/instruments/:id/book',
    {
      schema: {
        summary: 'L2 book snapshot with its channel sequence and checksum',
        params: InstrumentParams,
        querystring: Type.Object({ depth: Type.Optional(Depth) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            instrument: Type.String(),
            seq: Type.Integer({
              description:
                'the book.N channel sequence of this depth: a WebSocket subscription resumes after it with fromSeq and epoch',
            }),
            epoch: Type.Integer({
              description: 'the epoch of that sequence (the subscribed answer carries the same)',
            }),
            commandSeq: Type.Integer({ description: 'the last engine command the book reflects' }),
            bids: Type.Array(Level),
            asks: Type.Array(Level),
            checksum: Type.Integer(),
          }),
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      codecOf(req, req.params.id);
      return { instrument: req.params.id, ...(await feed.book(req.params.id, req.query.depth ?? 10)) };
    },
  );

  app.get(
    '/api/instruments/:id/trades',
    {
      schema: {
        summary: 'Recent trades, oldest first',
        params: InstrumentParams,
        response: {
          200: Type.Array(
            Type.Object({
              tradeId: Type.Integer(),
              price: Decimal,
              quantity: Decimal,
              side: Type.String(),
              ts: Type.Integer(),
            }),
          ),
          404: ErrorBody,
        },
      },
    },
    async (req) => {
      codecOf(req, req.params.id);
      return feed.trades(req.params.id);
    },
  );

  app.post(
    '/api/challenge',
    {
      schema: {
        summary: 'A login challenge to sign (see docs/ws-protocol.md)',
        response: { 200: Challenge, ...Limited },
      },
    },
    async (req) => trading.newChallenge(addressKey(req.ip)),
  );

  app.post(
    '/api/login',
    {
      validatorCompiler: () => (value: unknown) => ({ value }),
      schema: {
        summary: 'Exchange a signed challenge for a bearer token',
        // Documented by the schema below, checked by the WebSocket login's parser (same errors).
        body: LoginBody,
        response: {
          200: Type.Object({ account: Type.String(), token: Type.String(), expiresAt: Type.Integer() }),
          401: ErrorBody,
          ...Limited,
        },
      },
    },
    async (req) => {
      const body = req.body as unknown;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw makeError('the body must be a JSON object: a login proof', 'BAD_MESSAGE');
      }
      // The same checks, and the same words, as a WebSocket login.
      const {
        op: _op,
        id: _id,
        cancelOnDisconnect: _c,
        ...proof
      } = parseMessage({ ...body, op: 'login' }) as Message<'login'>;
      if (proof.scheme === 'token') {
        throw makeError(
          'a token is not exchanged for another: sign a challenge (scheme eip191, eip712 or x509)',
          'BAD_MESSAGE',
        );
      }
      const { account, name, memberNames } = trading.authenticate(proof, addressKey(req.ip));
      return { account, ...trading.tokens.issue(account, memberNames, name) };
    },
  );

  app.get(
    '/api/account',
    {
      schema: {
        summary: "The caller's account: its linked identities, and per venue whether it may trade there",
        ...Auth,
        response: { 200: Account, ...Unauthorized },
      },
    },
    async (req) => trading.accountView(must(req).account),
  );

  app.get(
    '/api/orders',
    {
      schema: {
        summary: "The caller's live orders",
        ...Auth,
        response: { 200: Type.Array(Order), ...Unauthorized },
      },
    },
    async (req) => {
      const { account } = must(req);
      return (await exchange.openOrders(account)).map((o) => {
        const c = exchange.codec(o.instrument)!;
        return { ...orderTerms(c, o), leavesQty: c.quantity(o.leaves), state: o.state };
      });
    },
  );

  app.get(
    '/api/balances',
    {
      schema: {
        summary: "The caller's balances per asset (pre-trade risk)",
        ...Auth,
        response: { 200: Type.Array(Balance), ...Unauthorized },
      },
    },
    async (req) => {
      const { account } = must(req);
      return (await exchange.balances(account)).map((b) => ({
        asset: b.asset,
        unit: b.unit,
        available: times(b.available, b.unit),
        reserved: times(b.reserved, b.unit),
        pendingIn: times(b.pendingIn, b.unit),
        pendingOut: times(b.pendingOut, b.unit),
      }));
    },
  );

  app.get(
    '/api/withdrawals',
    {
      schema: {
        summary: "The caller's withdrawals (ask for one with the WebSocket op withdraw), oldest first",
        ...Auth,
        response: { 200: Type.Array(Withdrawal), ...Unauthorized },
      },
    },
    async (req) => withdrawals.of(must(req).account),
  );

  app.get(
    '/api/withdrawals/:withdrawalId',
    {
      schema: {
        summary: "Where one of the caller's withdrawals stands",
        ...Auth,
        params: Type.Object({ withdrawalId: Type.Integer({ minimum: 1 }) }),
        response: { 200: Withdrawal, 404: ErrorBody, ...Unauthorized },
      },
    },
    async (req) => {
      const { account } = must(req);
      const w = withdrawals.get(req.params.withdrawalId);
      if (w === undefined || w.account !== account) {
        throw makeError(
          `withdrawal ${req.params.withdrawalId} of this account is unknown here (or older than what is kept)`,
          'NOT_FOUND',
        );
      }
      return w;
    },
  );

  app.get(
    '/api/settlements',
    {
      schema: {
        summary: 'Settlement pipeline per ledger (venue) since the gateway started',
        response: { 200: Type.Array(Pipeline) },
      },
    },
    async (req) => {
      const holder = who(req);
      return settlements.pipelines().filter((p) => visible(holder, p.venue));
    },
  );

  app.get(
    '/api/settlements/legs',
    {
      schema: {
        summary: 'The last cross-ledger trades the gateway knows, newest first, with their legs',
        querystring: Type.Object(
          {
            limit: Type.Optional(
              Type.Integer({
                minimum: 1,
                maximum: CROSS_LEDGER_KEPT,
                default: 10,
                description: 'trades at most',
              }),
            ),
          },
          { additionalProperties: false },
        ),
        response: { 200: Type.Array(Settlement) },
      },
    },
    async (req) => {
      const holder = who(req);
      return settlements.crossLedger(req.query.limit ?? 10, (venue) => visible(holder, venue));
    },
  );

  app.get(
    '/api/trades/:tradeId/settlement',
    {
      schema: {
        summary: 'Where a trade stands in settlement',
        params: Type.Object({ tradeId: Type.Integer({ minimum: 1 }) }),
        response: { 200: Settlement, 404: ErrorBody },
      },
    },
    async (req) => {
      const t = settlements.get(req.params.tradeId);
      if (t === undefined || !visible(who(req), t.venue)) {
        throw makeError(
          `trade ${req.params.tradeId} is unknown here (or older than what is kept)`,
          'NOT_FOUND',
        );
      }
      return t;
    },
  );
}

/**
 * The codec of an instrument the caller may see (a permissioned venue's: its members only);
 * UNKNOWN_INSTRUMENT otherwise, the same answer as for one that is not listed.
 */
export function visibleInstrument(
  gateway: Gateway<Exchange>,
  req: FastifyRequest,
  id: string,
): InstrumentCodec {
  const { exchange, trading } = gateway;
  const codec = exchange.codec(id);
  const memberNames = trading.optionalHolder(req.headers.authorization)?.memberNames ?? [];
  if (codec === undefined || !exchange.canSee(codec.venue, memberNames)) {
    throw makeError(`unknown instrument "${id}"`, 'UNKNOWN_INSTRUMENT', { instrument: id });
  }
  return codec;
}

/** What REST shows of any order, live or finished: its ids, terms and what filled. */
export function orderTerms<
  O extends {
    orderId: number | null;
    clientOrderId: string;
    instrument: string;
    side: string | null;
    orderType: string | null;
    tif: string | null;
    price: number;
    stopPrice: number;
    filled: number;
  },
>(c: InstrumentCodec, o: O) {
  return {
    orderId: o.orderId as O['orderId'],
    clientOrderId: o.clientOrderId,
    instrument: o.instrument,
    side: o.side as O['side'],
    orderType: o.orderType as O['orderType'],
    tif: o.tif as O['tif'],
    price: o.price > 0 ? c.price(o.price) : null,
    stopPrice: o.stopPrice > 0 ? c.price(o.stopPrice) : null,
    cumQty: c.quantity(o.filled),
  };
}
