/**
 * Channel names of the protocol: `book.N:INSTRUMENT`, `trades:INSTRUMENT`, `ticker:INSTRUMENT`
 * and `consolidated.N:SYMBOL`, N one of `DEPTHS`. The instrument id itself contains ':'
 * (`ACME@evm:31337`), so the kind is what comes before the first ':'.
 */
import { makeError } from '../errors.ts';

/** Book depths a channel may ask for. */
export const DEPTHS: readonly number[] = [1, 5, 10, 25, 50, 100];

export type ChannelKind = 'book' | 'trades' | 'ticker' | 'consolidated';

export interface ChannelName {
  kind: ChannelKind;
  /** Levels a side (book and consolidated), else 0. */
  depth: number;
  /** The instrument id, or the symbol for a consolidated book. */
  target: string;
}

const BOOK = new Map(DEPTHS.map((n) => [`book.${n}`, n]));
const CONSOLIDATED = new Map(DEPTHS.map((n) => [`consolidated.${n}`, n]));

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
  }
  if (parsed === null) {
    throw makeError(
      `unknown channel ${JSON.stringify(name)}: channels are book.N:INSTRUMENT, trades:INSTRUMENT, ` +
        `ticker:INSTRUMENT and consolidated.N:SYMBOL, N one of ${DEPTHS.join(', ')}`,
      'UNKNOWN_CHANNEL',
      { channel: name },
    );
  }
  return parsed;
}
