/**
 * The Fabric devnet's hand-written protobuf against the google-protobuf code it replaced, on the
 * messages of one 100-trade settlement batch (the project's rule: a hand-made structure that
 * replaces a standard one keeps a benchmark that justifies it). Per operation, each side's time
 * per call, their ratio, and whether they give the same result:
 *
 *   read-write set          the `TxReadWriteSet` of 300 keys read with versions and 100 balances
 *                           written (`encodeRwSets` vs `txRwSetReference`)
 *   GET_STATE_MULTIPLE      reading the chaincode's call of 300 keys (`readGetStateMultiple` vs
 *                           `getStateMultiple`) and writing its answer of 300 values
 *                           (`stateMultipleResult` vs `stateMultipleResultReference`)
 *   WRITE_BATCH_STATE       reading the chaincode's call of 100 writes (`readWriteBatchState` vs
 *                           `writeBatchState`)
 *   response payload        the `ProposalResponsePayload` the peer signs (`responsePayload` vs
 *                           `responsePayloadReference`)
 *   transaction payload     the `Payload` the client signs (`transactionPayload` vs
 *                           `transactionPayloadReference`)
 *
 * The messages are seeded and built once; keys are the chaincode's composite keys
 * (`\u0000balance\u0000ACME\u0000BankAMSP:investor-17\u0000`), values short decimal strings, the
 * calls as fabric-shim writes them (by google-protobuf). Both sides' results are checked equal
 * (bytes, or what is read) before any timing, so a wrong codec is never timed. Each side is warmed
 * up, then timed in 3 runs of about 0.5 s each, the two sides' runs interleaved; the median run
 * is reported. The load average is taken at the start and the end.
 *
 *   npm run bench:devnet-codec [-- --json]
 */
import { loadavg } from 'node:os';
import { isDeepStrictEqual, parseArgs } from 'node:util';
import { common, msp, peer } from '@hyperledger/fabric-protos';
import {
  stateMultipleResult,
  stateMultipleResultReference,
} from '../../connectors/fabric/devnet/chaincode-link.ts';
import {
  responsePayload,
  responsePayloadReference,
  transactionPayload,
  transactionPayloadReference,
  type ResponseParts,
  type TransactionParts,
} from '../../connectors/fabric/devnet/endorsed-tx.ts';
import {
  getStateMultiple,
  readGetStateMultiple,
  readWriteBatchState,
  writeBatchState,
  type WriteRecord,
} from '../../connectors/fabric/devnet/proto-reader.ts';
import { encodeRwSets, txRwSetReference } from '../../connectors/fabric/devnet/rwset-encode.ts';
import { byteOrder } from '../../connectors/fabric/devnet/state.ts';
import type { NamespaceRwSet } from '../../connectors/fabric/devnet/transaction.ts';
import { median } from '../engine/stats.ts';
import { XorShift32 } from '../prng.ts';
import { machine, printTable, round2 } from './rows.ts';

const TRADES = 100;
/** Investors whose two balances and standing the batch reads: 300 keys. */
const READ_INVESTORS = 100;
/** Investors whose two balances it writes: 100 keys. */
const WRITTEN_INVESTORS = 50;
const CHAINCODE = 'mosaic-settlement';
const WARM_MS = 200;
const RUN_MS = 500;
const RUNS = 3;

/** One operation: the hand codec and the google-protobuf code it replaced, on the same input. */
interface Operation {
  name: string;
  hand: () => unknown;
  reference: () => unknown;
  /** Whether the two results are the same. */
  same: (hand: unknown, reference: unknown) => boolean;
  /** The size of the message written or read. */
  bytes: number;
}

interface Row {
  operation: string;
  bytes: number;
  handNsPerOp: number;
  referenceNsPerOp: number;
  /** referenceNsPerOp / handNsPerOp. */
  ratio: number;
  handRunsNs: number[];
  referenceRunsNs: number[];
  handIterations: number;
  referenceIterations: number;
  equal: boolean;
}

const key = (...parts: string[]): string => `\u0000${parts.join('\u0000')}\u0000`;
const decimal = (rng: XorShift32): Uint8Array => Buffer.from(String(rng.int(0, 1_000_000_000)));
const randomBytes = (rng: XorShift32, n: number): Uint8Array =>
  Uint8Array.from({ length: n }, () => rng.int(0, 255));
const txId = (rng: XorShift32): string => Buffer.from(randomBytes(rng, 32)).toString('hex');
const sameBytes = (a: unknown, b: unknown): boolean => Buffer.compare(a as Uint8Array, b as Uint8Array) === 0;
/** What a reader gives, its byte arrays as hex, for comparison. */
const comparable = (x: unknown): unknown =>
  x instanceof Uint8Array
    ? Buffer.from(x).toString('hex')
    : Array.isArray(x)
      ? x.map(comparable)
      : typeof x === 'object' && x !== null
        ? Object.fromEntries(Object.entries(x).map(([k, v]) => [k, comparable(v)]))
        : x;
const sameRead = (a: unknown, b: unknown): boolean =>
  a !== undefined && isDeepStrictEqual(comparable(a), comparable(b));

/** A serialized identity as the devnet's peers and clients send one: an MSP id and a PEM certificate. */
function identity(rng: XorShift32, mspId: string): Uint8Array {
  const body = Buffer.from(randomBytes(rng, 560)).toString('base64').replace(/.{64}/g, '$&\n');
  const id = new msp.SerializedIdentity();
  id.setMspid(mspId);
  id.setIdBytes(Buffer.from(`-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`));
  return id.serializeBinary();
}

/** The messages of one settlement batch, and the operations on them. */
function operations(): Operation[] {
  const rng = new XorShift32(2026);
  const investor = (i: number) => `BankAMSP:investor-${i}`;
  const readKeys: string[] = [];
  for (let i = 0; i < READ_INVESTORS; i++)
    readKeys.push(
      key('balance', 'ACME', investor(i)),
      key('balance', 'USD', investor(i)),
      key('standing', investor(i)),
    );
  const written = readKeys.slice(0, 3 * WRITTEN_INVESTORS).filter((_, i) => i % 3 !== 2); // the balances
  const rwSets: NamespaceRwSet[] = [
    {
      namespace: CHAINCODE,
      reads: [...readKeys]
        .sort(byteOrder)
        .map((k) => ({ key: k, version: { block: rng.int(1, 5_000), tx: rng.int(0, 99) } })),
      ranges: [],
      writes: [...written].sort(byteOrder).map((k) => ({ key: k, value: decimal(rng) })),
      collections: [],
    },
  ];
  const encoded = encodeRwSets(rwSets);
  if (!encoded.exact)
    throw new Error('the batch read-write set went to google-protobuf: no key may hold a surrogate');

  const call = new peer.GetStateMultiple();
  call.setKeysList(readKeys);
  const getCall = call.serializeBinary();
  const values = readKeys.map(() => decimal(rng));
  const batch = new peer.WriteBatchState();
  for (const k of written) {
    const record = new peer.WriteRecord();
    record.setKey(k);
    record.setValue(decimal(rng));
    record.setType(peer.WriteRecord.Type.PUT_STATE);
    batch.addRec(record);
  }
  const writeCall = batch.serializeBinary();

  const verdicts = JSON.stringify(
    Array.from({ length: TRADES }, (_, i) => ({ tradeId: 1_000 + i, ok: true, txId: txId(rng) })),
  );
  const response = new peer.Response();
  response.setStatus(200);
  response.setPayload(Buffer.from(verdicts));
  const event = new peer.ChaincodeEvent();
  event.setChaincodeId(CHAINCODE);
  event.setTxId(txId(rng));
  event.setEventName('Settled');
  event.setPayload(Buffer.from(`{"verdicts":${verdicts}}`));
  const responseParts: ResponseParts = {
    proposalHash: randomBytes(rng, 32),
    results: encoded.bytes,
    events: event.serializeBinary(),
    response,
    chaincodeName: CHAINCODE,
  };
  const txParts: TransactionParts = {
    header: header(rng),
    payloadForTx: proposalPayload(rng, investor),
    responsePayload: responsePayload(responseParts),
    endorser: identity(rng, 'DevnetPeerMSP'),
    signature: randomBytes(rng, 71),
  };

  return [
    {
      name: 'read-write set (TxReadWriteSet)',
      hand: () => encodeRwSets(rwSets).bytes,
      reference: () => txRwSetReference(rwSets),
      same: sameBytes,
      bytes: encoded.bytes.length,
    },
    {
      name: 'GET_STATE_MULTIPLE call read',
      hand: () => readGetStateMultiple(getCall),
      reference: () => getStateMultiple(getCall),
      same: sameRead,
      bytes: getCall.length,
    },
    {
      name: 'GET_STATE_MULTIPLE answer written',
      hand: () => stateMultipleResult(values),
      reference: () => stateMultipleResultReference(values),
      same: sameBytes,
      bytes: stateMultipleResult(values).length,
    },
    {
      name: 'WRITE_BATCH_STATE call read',
      hand: () => readWriteBatchState(writeCall),
      reference: (): WriteRecord[] => writeBatchState(writeCall),
      same: sameRead,
      bytes: writeCall.length,
    },
    {
      name: 'response payload (peer signs)',
      hand: () => responsePayload(responseParts),
      reference: () => responsePayloadReference(responseParts),
      same: sameBytes,
      bytes: txParts.responsePayload.length,
    },
    {
      name: 'transaction payload (client signs)',
      hand: () => transactionPayload(txParts),
      reference: () => transactionPayloadReference(txParts),
      same: sameBytes,
      bytes: transactionPayload(txParts).length,
    },
  ];
}

/** A proposal's header: its channel header and the client's signature header (identity, nonce). */
function header(rng: XorShift32): common.Header {
  const extension = new peer.ChaincodeHeaderExtension();
  const id = new peer.ChaincodeID();
  id.setName(CHAINCODE);
  extension.setChaincodeId(id);
  const channel = new common.ChannelHeader();
  channel.setType(common.HeaderType.ENDORSER_TRANSACTION);
  channel.setChannelId('bank-net');
  channel.setTxId(txId(rng));
  channel.setExtension$(extension.serializeBinary());
  const signature = new common.SignatureHeader();
  signature.setCreator(identity(rng, 'BankAMSP'));
  signature.setNonce(randomBytes(rng, 24));
  const h = new common.Header();
  h.setChannelHeader(channel.serializeBinary());
  h.setSignatureHeader(signature.serializeBinary());
  return h;
}

/** The `ChaincodeProposalPayload` of `SettleBatch` with 100 trades as JSON, without transient data. */
function proposalPayload(rng: XorShift32, investor: (i: number) => string): Uint8Array {
  const trades = Array.from({ length: TRADES }, (_, i) => {
    const quantity = rng.int(1, 100);
    const cash = quantity * rng.int(100, 200);
    return {
      tradeId: 1_000 + i,
      instrument: 'ACME@fabric:bank-net',
      buyer: investor(rng.int(0, WRITTEN_INVESTORS - 1)),
      seller: investor(rng.int(0, WRITTEN_INVESTORS - 1)),
      quantity,
      buyerCash: cash + 1,
      sellerCash: cash,
      fee: 1,
    };
  });
  const input = new peer.ChaincodeInput();
  input.setArgsList([Buffer.from('SettleBatch'), Buffer.from(JSON.stringify(trades))]);
  const id = new peer.ChaincodeID();
  id.setName(CHAINCODE);
  const spec = new peer.ChaincodeSpec();
  spec.setType(peer.ChaincodeSpec.Type.NODE);
  spec.setChaincodeId(id);
  spec.setInput(input);
  const invocation = new peer.ChaincodeInvocationSpec();
  invocation.setChaincodeSpec(spec);
  const payload = new peer.ChaincodeProposalPayload();
  payload.setInput(invocation.serializeBinary());
  return payload.serializeBinary();
}

/** Keeps the timed calls' results alive, so that no call can be left out. */
let sink: unknown;

/** Calls `fn` for `ms` milliseconds: how many calls that took (the first timing, to size the runs). */
function warm(fn: () => unknown, ms: number): number {
  const end = performance.now() + ms;
  let n = 0;
  for (; performance.now() < end; n++) sink = fn();
  return n;
}

/** Nanoseconds per call of `n` calls of `fn`. */
function timed(fn: () => unknown, n: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) sink = fn();
  return Number(process.hrtime.bigint() - start) / n;
}

function measure(op: Operation): Row {
  const handResult = op.hand();
  const referenceResult = op.reference();
  if (!op.same(handResult, referenceResult))
    throw new Error(`${op.name}: the hand codec's result is not google-protobuf's; nothing timed`);
  // The calls made while warming over WARM_MS size each run to about RUN_MS.
  const handIterations = Math.max(1, Math.round((warm(op.hand, WARM_MS) * RUN_MS) / WARM_MS));
  const referenceIterations = Math.max(1, Math.round((warm(op.reference, WARM_MS) * RUN_MS) / WARM_MS));
  const handRunsNs: number[] = [];
  const referenceRunsNs: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    handRunsNs.push(Math.round(timed(op.hand, handIterations)));
    referenceRunsNs.push(Math.round(timed(op.reference, referenceIterations)));
  }
  const handNsPerOp = median(handRunsNs, (n) => n);
  const referenceNsPerOp = median(referenceRunsNs, (n) => n);
  return {
    operation: op.name,
    bytes: op.bytes,
    handNsPerOp,
    referenceNsPerOp,
    ratio: round2(referenceNsPerOp / handNsPerOp),
    handRunsNs,
    referenceRunsNs,
    handIterations,
    referenceIterations,
    equal: true,
  };
}

function main(): void {
  let json = false;
  try {
    json = parseArgs({ options: { json: { type: 'boolean' } } }).values.json === true;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\nusage: devnet-codec.js [--json]\n`);
    process.exit(2);
  }
  const start = round2(loadavg()[0]!);
  const rows: Row[] = [];
  for (const op of operations()) {
    rows.push(measure(op));
    if (!json) process.stderr.write(`${op.name}: done\n`);
  }
  const load = { start, end: round2(loadavg()[0]!) };
  if (json) {
    const batch = { trades: TRADES, keysRead: 3 * READ_INVESTORS, keysWritten: 2 * WRITTEN_INVESTORS };
    process.stdout.write(`${JSON.stringify({ ...machine(), load, batch, runs: RUNS, rows })}\n`);
    return;
  }
  const us = (ns: number) => (ns / 1000).toFixed(2);
  printTable(
    [
      ['operation', 34],
      ['bytes', 7],
      ['hand µs/op', 11],
      ['google-protobuf µs/op', 22],
      ['ratio', 6],
      ['equal', 6],
    ],
    rows.map((r) => [
      r.operation,
      r.bytes.toLocaleString('en-US'),
      us(r.handNsPerOp),
      us(r.referenceNsPerOp),
      `${r.ratio.toFixed(2)}x`,
      r.equal ? 'yes' : 'no',
    ]),
  );
  process.stdout.write(
    `\nmedian of ${RUNS} runs of ~${RUN_MS} ms each; ratio = google-protobuf / hand; ` +
      `load ${load.start} -> ${load.end}; ${machine().cpu}, node ${machine().node}\n`,
  );
}

main();
void sink;
