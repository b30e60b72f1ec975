/**
 * The order of a Fabric ledger's batch transactions that touch the same keys. A transaction is
 * endorsed against the state of the moment and commits only if nothing it read has changed
 * since (MVCC), so a batch that shares a key with one handed over before it is endorsed only
 * once that one is committed (or has failed). It is made (its proposal built, signed and
 * recorded) as soon as that one is submitted, so its making overlaps the other's wait for a
 * block. Batches that share no key go at once.
 */

/** One batch's place in the order. */
export interface Turn {
  /** Resolves once every batch before it that shares a key is submitted or done. */
  readonly submittedBefore: Promise<void>;
  /** Resolves once every batch before it that shares a key is done. */
  readonly doneBefore: Promise<void>;
  /** This batch's transaction is submitted: the next may be made. */
  submitted(): void;
  /** This batch is committed or has failed: the next may be endorsed. Idempotent. */
  done(): void;
}

interface Place {
  submitted: Promise<void>;
  done: Promise<void>;
}

export class KeyOrder {
  /** The last batch handed over on each key, until it is done. */
  readonly #last = new Map<string, Place>();

  /** Takes a place after the batches handed over before on any of `keys` (call in handing-over order). */
  take(keys: Iterable<string>): Turn {
    const owned = [...new Set(keys)];
    const before = new Set<Place>();
    for (const k of owned) {
      const p = this.#last.get(k);
      if (p !== undefined) before.add(p);
    }
    let submitted!: () => void;
    let done!: () => void;
    const place: Place = {
      submitted: new Promise<void>((resolve) => (submitted = resolve)),
      done: new Promise<void>((resolve) => (done = resolve)),
    };
    for (const k of owned) this.#last.set(k, place);
    const all = (pick: (p: Place) => Promise<void>) =>
      before.size === 0 ? Promise.resolve() : Promise.all([...before].map(pick)).then(() => undefined);
    return {
      submittedBefore: all((p) => p.submitted),
      doneBefore: all((p) => p.done),
      submitted,
      done: () => {
        submitted();
        done();
        for (const k of owned) if (this.#last.get(k) === place) this.#last.delete(k);
      },
    };
  }
}
