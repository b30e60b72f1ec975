/**
 * Where things live in NATS, and which shard owns what. Each shard has a command stream (its
 * journal: one subject per venue, the instrument group) and an event stream (one message per
 * command message, on the subject of the venue it concerns, or under it for messages of orders
 * only: WIDE_KINDS); snapshots sit in an object store bucket.
 * Order, trade and withdrawal ids carry their shard: shard N numbers from N * 2^40.
 */
import type { EventKind, Unstamped } from '../engine/index.ts';
import type { ClusterConfig } from './config.ts';

/** Ids each shard may hand out: 2^40 orders and 2^40 trades. */
export const ID_SPAN = 2 ** 40;

export class Topology {
  readonly name: string;
  readonly shards: number;
  #owner = new Map<string, number>();
  #catchAll: number | undefined;

  constructor(config: Pick<ClusterConfig, 'name' | 'shards'>) {
    this.name = config.name;
    this.shards = config.shards.length;
    config.shards.forEach((s, i) => {
      for (const v of s.venues) {
        if (v === '*') this.#catchAll = i;
        else this.#owner.set(v, i);
      }
    });
  }

  commandStream(shard: number): string {
    return `${this.name.toUpperCase()}_CMD_${shard}`;
  }

  eventStream(shard: number): string {
    return `${this.name.toUpperCase()}_EVT_${shard}`;
  }

  /** The subject of a shard's commands for a venue (`_`: commands of no venue, e.g. ticks). */
  commandSubject(shard: number, venue: string | undefined): string {
    return `${this.name}.cmd.${shard}.${token(venue)}`;
  }

  /**
   * The subject of a shard's event message for a venue (`_`: events of no venue): the venue's
   * own when the message has events of WIDE_KINDS, else the venue's `.orders` under it.
   */
  eventSubject(shard: number, venue: string | undefined, wide: boolean): string {
    return `${this.name}.evt.${shard}.${token(venue)}${wide ? '' : '.orders'}`;
  }

  /** The subjects of a shard's event messages with events of WIDE_KINDS (a consumer's filter). */
  wideEventSubjects(shard: number): string {
    return `${this.name}.evt.${shard}.*`;
  }

  /** The subject of an account's events from a shard (`keyed.ts`). */
  accountSubject(shard: number, accountToken: string): string {
    return `${this.name}.acct.${shard}.${accountToken}`;
  }

  /** The subject of an instrument's market data from a shard (`keyed.ts`). */
  marketSubject(shard: number, instrumentToken: string): string {
    return `${this.name}.md.${shard}.${instrumentToken}`;
  }

  /** Where a shard says how far it has published its accounts' events and market data; `shard` '*' for every shard. */
  beatSubject(shard: number | '*'): string {
    return `${this.name}.beat.${shard}`;
  }

  /** Where a shard answers reads of its engine's state (request/reply, `reads.ts`). */
  readSubject(shard: number): string {
    return `${this.name}.read.${shard}`;
  }

  /** Where a shard's history answers reads (request/reply). */
  historySubject(shard: number): string {
    return `${this.name}.history.${shard}`;
  }

  /** Where a venue's daemons take demo funding requests. */
  faucetSubject(venue: string): string {
    return `${this.name}.fund.${token(venue)}`;
  }

  /** Where gateways report what each account did through them, for the account limits. */
  get limitsSubject(): string {
    return `${this.name}.limits`;
  }

  /** The stream of the secrets every process of the cluster shares (`sharedKey`). */
  get keyStream(): string {
    return `${this.name.toUpperCase()}_KEYS`;
  }

  get snapshotBucket(): string {
    return `${this.name}-snapshots`;
  }

  /** The object store of event messages too large for NATS (large-events.ts). */
  get eventObjectBucket(): string {
    return `${this.name}-events`;
  }

  snapshotName(shard: number): string {
    return `shard-${shard}`;
  }

  /** The shard owning a venue, or undefined when none does. */
  shardOfVenue(venue: string): number | undefined {
    return this.#owner.get(venue) ?? this.#catchAll;
  }

  /** The shard that numbered an order or trade id. */
  shardOfId(id: number): number {
    return Math.floor(id / ID_SPAN);
  }

  /** Where shard `shard` starts numbering orders and trades. */
  idBase(shard: number): number {
    return shard * ID_SPAN;
  }

  /**
   * The shard a command goes to, or undefined when the command does not say (a cancel by client
   * order id, a cancel-all over every instrument, a tick: the sender picks the shard).
   */
  shardOf(command: Unstamped): number | undefined {
    const venue = venueOf(command);
    if (venue !== undefined) return this.shardOfVenue(venue);
    if (command.type === 'settle') return this.shardOfId(command.tradeId);
    if (command.type === 'settle-withdrawal') return this.shardOfId(command.withdrawalId);
    if ((command.type === 'cancel' || command.type === 'replace') && command.orderId !== undefined)
      return this.shardOfId(command.orderId);
    return undefined;
  }
}

/**
 * The kinds of events every gateway keeps from the event streams (listings, trades, settlement
 * verdicts, withdrawals): an event message with none of them (orders accepted, canceled, books'
 * levels: what gateways take from accounts' and instruments' subjects) goes on a subject of its
 * own, which gateways do not consume.
 */
export const WIDE_KINDS: ReadonlySet<EventKind> = new Set<EventKind>([
  'instrument',
  'trade',
  'settlement',
  'withdrawal',
]);

/** The venue of an instrument (`SYMBOL@venue`) or asset (`ASSET@venue`). */
export function venueOfId(id: string): string {
  return id.slice(id.indexOf('@') + 1);
}

/** The venue a command names, if it names one. */
export function venueOf(command: Unstamped): string | undefined {
  switch (command.type) {
    case 'new':
    case 'set-status':
    case 'update-instrument':
      return venueOfId(command.instrument);
    case 'cancel-all':
      return command.instrument === undefined ? undefined : venueOfId(command.instrument);
    case 'list-instrument':
      return venueOfId(command.spec.id);
    case 'deposit':
    case 'withdraw':
    case 'request-withdrawal':
      return venueOfId(command.asset);
    case 'set-account':
      return command.venue;
    default:
      return undefined;
  }
}

/** A venue as one subject token ('.' separates tokens; venue names never hold '~'). */
function token(venue: string | undefined): string {
  return venue === undefined ? '_' : venue.replaceAll('.', '~');
}
