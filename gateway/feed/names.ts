/**
 * Channel names of the protocol: `book.N:INSTRUMENT`, `trades:INSTRUMENT`, `ticker:INSTRUMENT`,
 * `consolidated.N:SYMBOL`, N one of `DEPTHS`, and `candles.I:INSTRUMENT`, I one of the candle
 * intervals. The instrument id itself contains ':' (`ACME@evm:31337`), so the kind is what
 * comes before the first ':'.
 */
import { CANDLE_INTERVAL_NAMES, type CandleInterval } from '../../history/index.ts';
import { makeError } from '../errors.ts';

/** Book depths a channel may ask for. */
export const DEPTHS: readonly number[] = [1, 5, 10, 25, 50, 100];

export type ChannelKind = 'book' | 'trades' | 'ticker' | 'consolidated' | 'candles';

export interface ChannelName {
  kind: ChannelKind;
  /** Levels a side (book and consolidated), else 0. */
  depth: number;
  /** The instrument id, or the symbol for a consolidated book. */
  target: string;
  /** The candles' interval (candles only). */
  interval?: CandleInterval;
}

const BOOK = new Map(DEPTHS.map((n) => [`book.${n}`, n]));
const CONSOLIDATED = new Map(DEPTHS.map((n) => [`consolidated.${n}`, n]));
const CANDLES = new Map(CANDLE_INTERVAL_NAMES.map((i) => [`candles.${i}`, i]));

/** Parses a channel name; throws UNKNOWN_CHANNEL for one that is not of the protocol. */
export function parseChannel(name: string): ChannelName {
  const colon = name.indexOf(':');
  const head = colon < 0 ? name : name.slice(0, colon);
  const target = colon < 0 ? '' : name.slice(colon + 1);
  let parsed: ChannelName | null = null;
  if (target.length > 0) {
    if (head === 'trades' || head === 'ticker') parsed = { kind: head, depth: 0, target };
    else if (BOOK.has(head)) parsed = { kind: 'book', depth: BOOK.get(head)!, target };
    else if (CONSOLIDATED.has(head))
      parsed = { kind: 'consolidated', depth: CONSOLIDATED.get(head)!, target };
    else if (CANDLES.has(head)) parsed = { kind: 'candles', depth: 0, target, interval: CANDLES.get(head)! };
  }
  if (parsed === null) {
    throw makeError(
      `unknown channel ${JSON.stringify(name)}: channels are book.N:INSTRUMENT, trades:INSTRUMENT, ` +
        `ticker:INSTRUMENT, consolidated.N:SYMBOL and candles.I:INSTRUMENT, N one of ${DEPTHS.join(', ')}, ` +
        `I one of ${CANDLE_INTERVAL_NAMES.join(', ')}`,
      'UNKNOWN_CHANNEL',
      { channel: name },
    );
  }
  return parsed;
}
