/**
 * Private data collections, as a chaincode definition's collection config declares them: each has
 * a name and the MSPs whose peers keep its values. Fabric keeps a collection in two derived
 * namespaces of the state database: `<chaincode>$$h<collection>` holds sha256(key) -> sha256(value)
 * on every peer of the channel (what the public ledger carries), `<chaincode>$$p<collection>`
 * holds the values themselves on member peers; a key has one version in both. With
 * `memberOnlyRead` only clients of a member MSP may read the values (Fabric's member-only read),
 * with `memberOnlyWrite` only they may write them.
 */
import { createHash } from 'node:crypto';

/** One collection of a chaincode (Fabric's `StaticCollectionConfig`, as far as the devnet uses it). */
export interface DevnetCollection {
  /** Letters, digits, `-` and `_` (not first), as Fabric names collections. */
  name: string;
  /** The MSPs whose members may read (and whose peers keep) the values. */
  memberMsps: readonly string[];
  /** Refuse reads of values by clients of other MSPs; default true. */
  memberOnlyRead?: boolean;
  /** Refuse writes by clients of other MSPs; default false (as in Fabric). */
  memberOnlyWrite?: boolean;
}

const NAME = /^[A-Za-z0-9-][A-Za-z0-9_-]{0,63}$/;

/** sha256, as Fabric hashes private keys, values and private read-write sets. */
export function sha256(bytes: Uint8Array | string): Buffer {
  return createHash('sha256').update(bytes).digest();
}

/** Where a collection's hashes live in the world state (keys: hex of sha256(key)). */
export function hashedNamespace(chaincode: string, collection: string): string {
  return `${chaincode}$$h${collection}`;
}

/** Where a collection's values live in the world state (keys: the keys themselves). */
export function privateNamespace(chaincode: string, collection: string): string {
  return `${chaincode}$$p${collection}`;
}

/** The state key of a private key's hash: hex(sha256(key)). */
export function keyHash(key: string): string {
  return sha256(key).toString('hex');
}

/** A chaincode's collections and who may read and write them. */
export class Collections {
  readonly #chaincode: string;
  readonly #byName = new Map<string, DevnetCollection>();

  /** Checks the configs: names valid and distinct, each with at least one member MSP. */
  constructor(chaincode: string, configs: readonly DevnetCollection[] = []) {
    this.#chaincode = chaincode;
    for (const c of configs) {
      if (!NAME.test(c.name)) {
        throw new Error(`chaincode ${chaincode}: collection name ${JSON.stringify(c.name)} is not valid`);
      }
      if (this.#byName.has(c.name)) throw new Error(`chaincode ${chaincode}: collection ${c.name} twice`);
      if (c.memberMsps.length === 0) {
        throw new Error(`chaincode ${chaincode}: collection ${c.name} needs at least one member MSP`);
      }
      this.#byName.set(c.name, { ...c, memberMsps: [...c.memberMsps] });
    }
  }

  /** The collection, or an error naming what is defined (Fabric fails the call the same way). */
  get(collection: string): DevnetCollection {
    const c = this.#byName.get(collection);
    if (c === undefined) {
      const defined = [...this.#byName.keys()].join(', ') || 'none';
      throw new Error(
        `collection ${collection} is not defined for chaincode ${this.#chaincode} (defined: ${defined})`,
      );
    }
    return c;
  }

  /** Throws unless a client of `mspId` may read the collection's values. */
  checkRead(collection: string, mspId: string): void {
    const c = this.get(collection);
    if ((c.memberOnlyRead ?? true) && !c.memberMsps.includes(mspId)) {
      throw new Error(
        `tx creator (${mspId}) does not have read access permission on privatedata in ` +
          `chaincodeName:${this.#chaincode} collectionName: ${collection}`,
      );
    }
  }

  /** Throws unless a client of `mspId` may write the collection. */
  checkWrite(collection: string, mspId: string): void {
    const c = this.get(collection);
    if ((c.memberOnlyWrite ?? false) && !c.memberMsps.includes(mspId)) {
      throw new Error(
        `tx creator (${mspId}) does not have write access permission on privatedata in ` +
          `chaincodeName:${this.#chaincode} collectionName: ${collection}`,
      );
    }
  }
}
