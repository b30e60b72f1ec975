/**
 * The devnet's hand-written protobuf (`ProtoWriter`, `proto-reader.ts`): the read-write sets,
 * batched state answers and endorsed transactions it writes are byte for byte what
 * google-protobuf writes for the same messages, at every varint and length boundary and for
 * random ones; the batched state calls it reads read as google-protobuf reads them, random ones
 * and damaged ones (or are left to it); a simulation's read-write sets, as the committer takes
 * them from an endorsement, are what reading its bytes back gives; and its keys are in Fabric's
 * byte order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { common, ledger, peer } from '@hyperledger/fabric-protos';
import {
  stateMultipleResult,
  stateMultipleResultReference,
} from '../../connectors/fabric/devnet/chaincode-link.ts';
import {
  responsePayload,
  responsePayloadReference,
  transactionPayload,
  transactionPayloadReference,
} from '../../connectors/fabric/devnet/endorsed-tx.ts';
import {
  getStateMultiple,
  readGetStateMultiple,
  readWriteBatchState,
  writeBatchState,
} from '../../connectors/fabric/devnet/proto-reader.ts';
import { ProtoWriter } from '../../connectors/fabric/devnet/proto-writer.ts';
import {
  encodeRwSets,
  kvRwSet,
  kvRwSetReference,
  txRwSetReference,
} from '../../connectors/fabric/devnet/rwset-encode.ts';
import { TxSimulator } from '../../connectors/fabric/devnet/simulator.ts';
import { byteOrder, WorldState } from '../../connectors/fabric/devnet/state.ts';
import { readRwSets, type NamespaceRwSet } from '../../connectors/fabric/devnet/transaction.ts';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** `x` with every byte array as its hex (Buffer or Uint8Array alike), for deep comparison. */
const plain = (x: unknown): unknown =>
  x instanceof Uint8Array
    ? `bytes:${hex(x)}`
    : Array.isArray(x)
      ? x.map(plain)
      : x !== null && typeof x === 'object'
        ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, plain(v)]))
        : x;

/** A namespace's set with only what `kvRwSet` writes. */
const kvSet = (set: Partial<NamespaceRwSet>): NamespaceRwSet => ({
  namespace: 'ns',
  reads: [],
  ranges: [],
  writes: [],
  collections: [],
  ...set,
});

/** Keys without surrogates (what `kvRwSet` takes): ASCII, NUL-separated composite keys, BMP text. */
const plainKey = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc
    .array(fc.string({ maxLength: 6 }), { maxLength: 4 })
    .map((parts) => `\u0000${parts.join('\u0000')}\u0000`),
  fc.string({ unit: 'binary', maxLength: 8 }).map((s) => s.replace(/[\uD800-\uDFFF]/g, 'x')),
);
const version = fc.option(
  fc.record({
    block: fc.oneof(fc.nat(300), fc.constantFrom(127, 128, 16_383, 16_384, 2 ** 32, 2 ** 53 - 1)),
    tx: fc.nat(1_000),
  }),
  { nil: undefined },
);
const value = fc.option(fc.uint8Array({ maxLength: 200 }), { nil: undefined });
const kvSets = fc.record({
  reads: fc.array(fc.record({ key: plainKey, version }), { maxLength: 20 }),
  ranges: fc.array(
    fc.record({
      startKey: plainKey,
      endKey: plainKey,
      exhausted: fc.boolean(),
      reads: fc.array(fc.record({ key: plainKey, version }), { maxLength: 5 }),
    }),
    { maxLength: 3 },
  ),
  writes: fc.array(fc.record({ key: plainKey, value }), { maxLength: 20 }),
});

describe('Devnet protobuf writer', () => {
  it('writes a KVRWSet byte for byte as google-protobuf does, for random sets', () => {
    fc.assert(
      fc.property(kvSets, (set) => {
        assert.equal(hex(kvRwSet(kvSet(set))), hex(kvRwSetReference(kvSet(set))));
      }),
      { numRuns: 500 },
    );
  });

  it('writes varints and message lengths across every byte boundary as google-protobuf does', () => {
    const lengths = [0, 1, 100, 120, 127, 128, 129, 16_383, 16_384, 16_400, 70_000];
    for (const n of lengths) {
      // a write whose value takes the KVWrite's length (and the set's) across each boundary
      const set = kvSet({ writes: [{ key: 'k', value: Buffer.alloc(n, 7) }] });
      assert.equal(hex(kvRwSet(set)), hex(kvRwSetReference(set)), `a value of ${n} bytes`);
    }
    for (const key of [
      'k'.repeat(127),
      'k'.repeat(128),
      'é'.repeat(63),
      'é'.repeat(64),
      '€'.repeat(43),
      'k'.repeat(16_384),
    ]) {
      // a key whose UTF-8 takes its string's length, and its read's, across a boundary
      const set = kvSet({
        reads: [{ key, version: { block: 1, tx: 2 } }],
        writes: [{ key, value: undefined }],
      });
      assert.equal(hex(kvRwSet(set)), hex(kvRwSetReference(set)), `a key of ${Buffer.byteLength(key)} bytes`);
    }
    for (const n of [1, 127, 128, 16_383, 16_384, 2 ** 21, 2 ** 28, 2 ** 31, 2 ** 32 + 5, 2 ** 53 - 1]) {
      const w = new ProtoWriter(1);
      w.uint64(1, n);
      const reference = new ledger.rwset.kvrwset.Version();
      reference.setBlockNum(n);
      assert.equal(hex(w.finish()), hex(reference.serializeBinary()), `uint64 ${n}`);
    }
  });

  it('answers GET_STATE_MULTIPLE as google-protobuf does, an empty value for a key not found', () => {
    const cases = [[], [new Uint8Array()], [Buffer.from('ab'), new Uint8Array(), Buffer.alloc(300, 1)]];
    for (const values of cases) {
      assert.equal(hex(stateMultipleResult(values)), hex(stateMultipleResultReference(values)));
    }
  });

  it('leaves a key with a surrogate to google-protobuf, and says reading the bytes back may not give it', () => {
    const lone = kvSet({
      reads: [{ key: 'a\uD800b', version: undefined }],
      writes: [{ key: '\uDC00', value: Buffer.from('v') }],
    });
    const encoded = encodeRwSets([lone]);
    assert.equal(encoded.exact, false);
    const nsSet = ledger.rwset.TxReadWriteSet.deserializeBinary(encoded.bytes).getNsRwsetList()[0]!;
    assert.equal(hex(nsSet.getRwset_asU8()), hex(kvRwSetReference(lone)));
    assert.equal(encodeRwSets([kvSet({ reads: [{ key: 'plain', version: undefined }] })]).exact, true);
  });
});

describe('Devnet endorsed transaction bytes', () => {
  /** Bytes of sizes around the length boundaries, empty ones among them. */
  const someBytes = fc.oneof(
    fc.uint8Array({ maxLength: 140 }),
    fc.constantFrom(0, 127, 128, 16_383, 16_384, 20_000).map((n) => Buffer.alloc(n, 5)),
  );
  const response = fc
    .record({
      status: fc.oneof(fc.constantFrom(0, 200, 500), fc.integer()),
      message: fc.string(),
      payload: someBytes,
    })
    .map(({ status, message, payload }) => {
      const r = new peer.Response();
      r.setStatus(status);
      r.setMessage(message);
      r.setPayload(payload);
      return r;
    });
  const header = fc.record({ channel: someBytes, signature: someBytes }).map(({ channel, signature }) => {
    const h = new common.Header();
    h.setChannelHeader(channel);
    h.setSignatureHeader(signature);
    return h;
  });

  it('writes the response payload the peer signs as google-protobuf does', () => {
    fc.assert(
      fc.property(
        fc.record({
          proposalHash: fc.oneof(
            fc.constant(new Uint8Array()),
            fc.uint8Array({ minLength: 32, maxLength: 32 }),
          ),
          results: someBytes,
          events: someBytes,
          response,
          chaincodeName: fc.string({ unit: 'binary', maxLength: 12 }),
        }),
        (parts) => assert.equal(hex(responsePayload(parts)), hex(responsePayloadReference(parts))),
      ),
      { numRuns: 300 },
    );
  });

  it('writes the transaction payload the client signs as google-protobuf does', () => {
    fc.assert(
      fc.property(
        fc.record({
          header,
          payloadForTx: someBytes,
          responsePayload: someBytes,
          endorser: someBytes,
          signature: someBytes,
        }),
        (parts) => assert.equal(hex(transactionPayload(parts)), hex(transactionPayloadReference(parts))),
      ),
      { numRuns: 300 },
    );
  });
});

describe('Devnet protobuf reader', () => {
  /** What google-protobuf reads, or 'throws'. */
  const library = <T>(read: () => T): T | 'throws' => {
    try {
      return read();
    } catch {
      return 'throws';
    }
  };
  type RecordType = (typeof peer.WriteRecord.Type)[keyof typeof peer.WriteRecord.Type];
  const { PUT_STATE, DEL_STATE } = peer.WriteRecord.Type;
  /** Mostly ASCII (the plain form), now and then any code point. */
  const anyString = fc.oneof(
    { arbitrary: fc.string({ maxLength: 10 }), weight: 4 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 1 },
  );
  const getStateMultiples = fc
    .record({ keys: fc.array(anyString, { maxLength: 12 }), collection: anyString })
    .map(({ keys, collection }) => {
      const call = new peer.GetStateMultiple();
      call.setKeysList(keys);
      call.setCollection(collection);
      return call.serializeBinary();
    });
  const writeBatches = fc
    .array(
      fc.record({
        key: anyString,
        value: fc.uint8Array({ maxLength: 200 }),
        collection: anyString,
        type: fc.oneof(
          { arbitrary: fc.constantFrom(0, PUT_STATE, DEL_STATE), weight: 8 },
          { arbitrary: fc.integer(), weight: 1 },
        ),
        metadata: fc.oneof(
          { arbitrary: fc.constant(false), weight: 8 },
          { arbitrary: fc.constant(true), weight: 1 },
        ),
      }),
      { maxLength: 8 },
    )
    .map((records) => {
      const batch = new peer.WriteBatchState();
      for (const r of records) {
        const record = new peer.WriteRecord();
        record.setKey(r.key);
        record.setValue(r.value);
        record.setCollection(r.collection);
        record.setType(r.type as RecordType);
        if (r.metadata) record.setMetadata(new peer.StateMetadata());
        batch.addRec(record);
      }
      return batch.serializeBinary();
    });
  /** A message with bytes cut, flipped or spliced in. */
  const damaged = (messages: fc.Arbitrary<Uint8Array>) =>
    fc
      .tuple(messages, fc.nat(), fc.nat(255), fc.constantFrom('cut', 'flip', 'insert'))
      .map(([m, at, byte, how]) => {
        const i = m.length === 0 ? 0 : at % m.length;
        if (how === 'cut') return m.subarray(0, i);
        const copy = Buffer.from(m);
        if (how === 'flip' && copy.length > 0) copy[i] = byte;
        return how === 'insert'
          ? Buffer.concat([copy.subarray(0, i), Buffer.from([byte]), copy.subarray(i)])
          : copy;
      });

  it('reads GET_STATE_MULTIPLE as google-protobuf does, the plain form itself, and leaves the rest to it', () => {
    let plainRead = 0;
    fc.assert(
      fc.property(
        fc.oneof({ arbitrary: getStateMultiples, weight: 2 }, damaged(getStateMultiples)),
        (bytes) => {
          const read = readGetStateMultiple(bytes);
          if (read === undefined) return;
          plainRead++;
          assert.deepEqual(
            read,
            library(() => getStateMultiple(bytes)),
          );
        },
      ),
      { numRuns: 2_000 },
    );
    assert.ok(plainRead > 500, `${plainRead} of 2,000 read in the plain form`);
  });

  it('reads WRITE_BATCH_STATE as google-protobuf does, the plain form itself, and leaves the rest to it', () => {
    let plainRead = 0;
    fc.assert(
      fc.property(fc.oneof({ arbitrary: writeBatches, weight: 2 }, damaged(writeBatches)), (bytes) => {
        const read = readWriteBatchState(bytes);
        if (read === undefined) return;
        plainRead++;
        assert.deepEqual(plain(read), plain(library(() => writeBatchState(bytes))));
      }),
      { numRuns: 2_000 },
    );
    assert.ok(plainRead > 250, `${plainRead} of 2,000 read in the plain form`);
  });

  it('reads the form fabric-shim writes: ASCII composite keys, puts and deletes', () => {
    const batch = new peer.WriteBatchState();
    const records = [
      ['\u0000balance\u0000ACME\u0000BankAMSP:investor-1\u0000', PUT_STATE],
      ['gone', DEL_STATE],
    ] as const;
    for (const [key, type] of records) {
      const record = new peer.WriteRecord();
      record.setKey(key);
      if (type === PUT_STATE) record.setValue(Buffer.from('10'));
      record.setType(type);
      batch.addRec(record);
    }
    const bytes = batch.serializeBinary();
    assert.deepEqual(plain(readWriteBatchState(bytes)), plain(writeBatchState(bytes)));
    const call = new peer.GetStateMultiple();
    call.setKeysList(['config', '\u0000balance\u0000USD\u0000BankAMSP:investor-2\u0000']);
    assert.deepEqual(readGetStateMultiple(call.serializeBinary()), getStateMultiple(call.serializeBinary()));
  });
});

describe('Devnet simulation results', () => {
  /** Keys mostly plain; now and then any code point, a surrogate pair among them. */
  const key = fc.oneof(
    { arbitrary: fc.string({ maxLength: 6 }), weight: 9 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 6 }), weight: 1 },
  );
  /** Two namespaces: the chaincode's, where keys are committed, and another. */
  const ns = fc.constantFrom('cc', 'cc', 'other');
  /** Random operations on a simulator over a state with some keys committed. */
  const operation = fc.oneof(
    fc.record({ op: fc.constant('get' as const), ns, key }),
    fc.record({ op: fc.constant('put' as const), ns, key, value: fc.uint8Array({ maxLength: 8 }) }),
    fc.record({ op: fc.constant('delete' as const), ns, key }),
    fc.record({
      op: fc.constant('range' as const),
      start: fc.string({ maxLength: 2 }),
      end: fc.string({ maxLength: 2 }),
      pages: fc.nat(2),
    }),
    fc.record({
      op: fc.constant('private' as const),
      ns: fc.constantFrom('cc', 'private-only'),
      key: fc.string({ maxLength: 4 }),
      value: fc.option(fc.uint8Array({ maxLength: 4 })),
    }),
  );
  const committed = fc.array(
    fc.record({ key, value: fc.uint8Array({ minLength: 1, maxLength: 8 }), block: fc.nat(5), tx: fc.nat(3) }),
    { maxLength: 60 },
  );

  it("gives the committer what reading its read-write set back gives, keys in Fabric's byte order", () => {
    let exact = 0;
    fc.assert(
      fc.property(committed, fc.array(operation, { maxLength: 30 }), (keys, operations) => {
        const state = new WorldState();
        for (const k of keys) state.apply('cc', k.key, k.value, k);
        const sim = new TxSimulator(state);
        for (const o of operations) {
          if (o.op === 'get') sim.getState(o.ns, o.key);
          else if (o.op === 'put') sim.putState(o.ns, o.key, o.value);
          else if (o.op === 'delete') sim.deleteState(o.ns, o.key);
          else if (o.op === 'private') {
            sim.getPrivateData(o.ns, 'secrets', o.key);
            if (o.value !== null) sim.putPrivateData(o.ns, 'secrets', o.key, o.value);
          } else {
            const { id, hasMore } = sim.openRange('cc', o.start, o.end);
            for (let page = 0, more = hasMore; more && page < o.pages; page++)
              more = sim.nextPage(id).hasMore;
          }
        }
        const { readWriteSet, rwSets } = sim.results();
        const read = readRwSets(readWriteSet);
        if (rwSets === undefined) {
          // only a key with a surrogate (read, written or scanned) leaves the bytes alone to say it
          const named = [...keys, ...operations].map((o) => ('key' in o ? o.key : ''));
          assert.ok(named.some((key) => /[\uD800-\uDFFF]/.test(key)));
          return;
        }
        assert.deepEqual(plain(rwSets), plain(read));
        exact++;
        for (const set of rwSets) {
          for (const keys of [set.reads.map((r) => r.key), set.writes.map((w) => w.key)]) {
            assert.deepEqual(keys, [...keys].sort(byteOrder));
          }
        }
        // the bytes are google-protobuf's
        assert.equal(hex(readWriteSet), hex(txRwSetReference(rwSets)));
      }),
      { numRuns: 300 },
    );
    assert.ok(exact > 150, `${exact} of 300 simulations checked against their bytes read back`);
  });
});
