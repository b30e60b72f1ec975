/**
 * Everything the engine knows, in one place: instruments, accounts, live orders and the
 * sequences. The pipeline (`engine.ts`) changes it; views, the state hash and snapshots
 * (`views.ts`, `snapshot.ts`) read it. Internal to the engine.
 */
import { Account } from './account.ts';
import type { BookKind } from './book.ts';
import { ClientIdTable } from './client-ids.ts';
import { ExpiryQueue } from './expiry.ts';
import { Fingerprint } from './fingerprint.ts';
import { IdTable } from './id-table.ts';
import type { Instrument } from './instrument.ts';
import { type Order, OrderPool } from './order.ts';
import { RiskBook } from './risk.ts';
import { CLIENT_ID_MEMORY, UsedClientIds } from './used-client-ids.ts';

export class EngineState {
  readonly instruments: Instrument[] = [];
  readonly byId = new Map<string, Instrument>();
  readonly accounts: Account[] = [];
  readonly accountById = new Map<string, Account>();
  /** Linked identities and the account each is linked to (`identities.ts`). */
  readonly owners = new Map<string, Account>();
  /** Live orders (resting and waiting stops) by order id. */
  readonly orders: IdTable<Order>;
  /** Live orders by (account, client order id). */
  readonly clientIds: ClientIdTable;
  /** Client order ids of accepted orders, remembered after the orders end. */
  readonly usedClientIds: UsedClientIds;
  readonly pool: OrderPool;
  readonly expiries = new ExpiryQueue();
  // Sequences: the last one used of each.
  commandSeq = 0;
  eventSeq = 0;
  orderSeq = 0;
  tradeSeq = 0;
  /** Timestamp of the last command. */
  ts = 0;

  /** The pre-trade risk stage's books, or null when risk is off. */
  readonly risk: RiskBook | null;

  /** `capacity`: live orders to preallocate records and tables for; `clientIdMemory`: ids remembered. */
  constructor(
    readonly kind: BookKind,
    risk: boolean,
    capacity = 1024,
    clientIdMemory = CLIENT_ID_MEMORY,
  ) {
    this.risk = risk ? new RiskBook() : null;
    this.orders = new IdTable<Order>(capacity);
    // One fingerprint for both tables: a new order's id is hashed once.
    const fp = new Fingerprint();
    this.clientIds = new ClientIdTable(capacity, fp);
    this.usedClientIds = new UsedClientIds(clientIdMemory, fp);
    this.pool = new OrderPool(capacity);
  }

  /** The account with this id, created on first use. */
  account(id: string): Account {
    let acc = this.accountById.get(id);
    if (acc === undefined) {
      acc = new Account(this.accounts.length, id);
      this.accounts.push(acc);
      this.accountById.set(id, acc);
    }
    return acc;
  }

  accountName(index: number): string {
    return this.accounts[index]!.id;
  }
}
