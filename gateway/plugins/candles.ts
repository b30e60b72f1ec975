/**
 * REST price candles: `GET /api/candles?instrument=I&interval=1m[&from=MS][&to=MS][&limit=N]`,
 * an instrument's candles (OHLCV) of one interval from the history store, oldest first, with the
 * `candles.<interval>` channel's `seq` and `epoch`, so that a client loads them here and then
 * subscribes with `fromSeq` and `epoch` for what changes after. An instrument of a permissioned
 * venue is UNKNOWN_INSTRUMENT to a caller who is not one of its members. See docs/ws-protocol.md,
 * "Candles".
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import { CANDLE_INTERVAL_NAMES } from '../../history/index.ts';
import { makeError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';
import { parameterError } from './history.ts';
import { Decimal, ErrorBody, visibleInstrument } from './rest.ts';

/** Candles an answer holds when `limit` is not given: as many as a channel's snapshot. */
export const DEFAULT_CANDLES = 200;
/** Candles an answer holds at most. */
export const MAX_CANDLES = 1000;

const ms = (description: string) =>
  Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description });

const CandlesQuery = Type.Object(
  {
    instrument: Type.String({
      minLength: 3,
      maxLength: 64,
      description: 'an instrument id, e.g. ACME@evm:31337',
    }),
    interval: Type.Enum(CANDLE_INTERVAL_NAMES, { description: 'the candles’ interval' }),
    from: Type.Optional(ms('only candles whose open time is at or after this, ms since the epoch')),
    to: Type.Optional(ms('only candles whose open time is at or before this, ms since the epoch')),
    limit: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: MAX_CANDLES,
        default: DEFAULT_CANDLES,
        description: 'candles at most: the most recent ones within the bounds',
      }),
    ),
  },
  { additionalProperties: false },
);

const Candle = Type.Object({
  t: Type.Integer({ description: 'open time: the start of the interval, ms since the epoch (UTC)' }),
  open: Decimal,
  high: Decimal,
  low: Decimal,
  close: Decimal,
  volume: Type.String({ description: 'quantity traded, a decimal string with the instrument’s decimals' }),
  trades: Type.Integer({ description: 'trades in the interval' }),
});

export default async function candlesPlugin(
  base: FastifyInstance,
  { gateway }: { gateway: Gateway<Exchange> },
) {
  const app = base.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    '/api/candles',
    {
      schemaErrorFormatter: parameterError,
      schema: {
        summary: "An instrument's price candles (OHLCV) of one interval, oldest first",
        description:
          'Only intervals that had trades have a candle. seq and epoch are those of the candles.<interval> channel: ' +
          'subscribe with them as fromSeq and epoch for the updates after. See /docs/ws-protocol.md, "Candles".',
        querystring: CandlesQuery,
        response: {
          200: Type.Object({
            instrument: Type.String(),
            interval: Type.String(),
            seq: Type.Integer({
              description:
                'the candles.<interval> channel sequence: a WebSocket subscription resumes after it with fromSeq and epoch',
            }),
            epoch: Type.Integer({
              description: 'the epoch of that sequence (the subscribed answer carries the same)',
            }),
            candles: Type.Array(Candle),
          }),
          400: ErrorBody,
          404: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (req) => {
      const { instrument, interval, from, to } = req.query;
      if (from !== undefined && to !== undefined && from > to) {
        throw makeError(
          `querystring parameter from (${from}) is after to (${to}): from must be at most to`,
          'BAD_MESSAGE',
          { parameter: 'from' },
        );
      }
      visibleInstrument(gateway, req, instrument);
      const view = await gateway.feed.candles(instrument, interval, {
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        limit: req.query.limit ?? DEFAULT_CANDLES,
      });
      return { instrument, interval, ...view };
    },
  );
}
