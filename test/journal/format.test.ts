/**
 * The versioned wire format of journals and command streams. Every enumerated value has an
 * explicit tag, pinned here; a few commands of every type encode to exactly the bytes the first
 * release wrote (golden hex); a segment starts with its header; segments in a format version this
 * release does not know are refused, naming file, byte and version; and a journal written by the
 * release before formats carried a version (test/fixtures/journal-v1, made by write-fixture.ts)
 * still replays to the state hash recorded when it was written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Command } from '../../engine/index.ts';
import {
  COMMAND_TAGS,
  decodeCommand,
  DurableEngine,
  encodeCommand,
  FileJournal,
  FormatVersionError,
  LEG_STATE_TAGS,
  LEG_TAGS,
  MAX_COMMAND_BYTES,
  ORDER_TYPE_TAGS,
  scanJournal,
  SIDE_TAGS,
  STATUS_TAGS,
  STP_TAGS,
  TIF_TAGS,
} from '../../journal/index.ts';
import { folderImage, journalEntries, SEGMENT_HEADER, segmentFiles, tempDir } from './support.ts';
import { lineLogger, silentLogger } from '../../common/index.ts';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/journal-v1/', import.meta.url));

const ts = 1_700_000_000_123;
const I = 'ACME@evm:31337';

function hex(c: Command): string {
  const buf = Buffer.alloc(MAX_COMMAND_BYTES);
  return buf.subarray(0, encodeCommand(c, buf, 0)).toString('hex');
}

describe('wire format: tags', () => {
  const tables: Array<[string, Record<string, number>, Record<string, number>]> = [
    [
      'command types',
      COMMAND_TAGS,
      {
        new: 0,
        cancel: 1,
        'cancel-all': 2,
        replace: 3,
        'list-instrument': 4,
        'set-status': 5,
        tick: 6,
        deposit: 7,
        withdraw: 8,
        'set-account': 9,
        settle: 10,
        'update-instrument': 11,
        'request-withdrawal': 12,
        'settle-withdrawal': 13,
        link: 14,
        unlink: 15,
        'settle-leg': 16,
      },
    ],
    ['sides', SIDE_TAGS, { buy: 0, sell: 1 }],
    ['order types', ORDER_TYPE_TAGS, { limit: 0, market: 1, stop: 2, 'stop-limit': 3 }],
    ['times in force', TIF_TAGS, { GTC: 0, GTD: 1, IOC: 2, FOK: 3 }],
    [
      'self-trade prevention modes',
      STP_TAGS,
      { 'cancel-newest': 0, 'cancel-oldest': 1, 'cancel-both': 2, 'decrement-and-cancel': 3 },
    ],
    ['instrument statuses', STATUS_TAGS, { open: 0, halted: 1 }],
    ['legs', LEG_TAGS, { security: 0, cash: 1 }],
    ['leg states', LEG_STATE_TAGS, { locked: 0, claimed: 1, refunded: 2, refused: 3 }],
  ];
  for (const [name, table, pinned] of tables) {
    it(`given the ${name}, then each has the tag journals were written with, and no tag is used twice`, () => {
      assert.deepStrictEqual({ ...table }, pinned);
      const tags = Object.values(table);
      assert.equal(new Set(tags).size, tags.length, 'tags are unique');
      assert.ok(
        tags.every((t) => Number.isInteger(t) && t >= 0 && t <= 255),
        'each tag fits the one byte it is written in',
      );
    });
  }
});

/** [what, command, its bytes as the first release wrote them]. */
const GOLDEN: Array<[string, Command, string]> = [
  [
    'new limit buy GTC post-only with STP',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'a',
      clientOrderId: 'c1',
      side: 'buy',
      orderType: 'limit',
      quantity: 10,
      price: 1000,
      tif: 'GTC',
      postOnly: true,
      stp: 'cancel-newest',
    },
    '0000b08756febc7842750e0041434d454065766d3a333133333701006102006331000000000000000024400000000000408f400000',
  ],
  [
    'new limit sell GTD with expiry',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'b',
      clientOrderId: 'c2',
      side: 'sell',
      orderType: 'limit',
      quantity: 3,
      price: 1001,
      tif: 'GTD',
      expireAt: ts + 60_000,
    },
    '0000b08756febc78420d0e0041434d454065766d3a333133333701006202006332010000000000000008400000000000488f400100b02d65febc7842',
  ],
  [
    'new limit IOC not post-only, STP cancel-oldest',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'a',
      clientOrderId: 'c3',
      side: 'buy',
      orderType: 'limit',
      quantity: 1,
      price: 999,
      tif: 'IOC',
      postOnly: false,
      stp: 'cancel-oldest',
    },
    '0000b08756febc7842550e0041434d454065766d3a3331333337010061020063330000000000000000f03f0000000000388f400201',
  ],
  [
    'new market sell',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'b',
      clientOrderId: 'm',
      side: 'sell',
      orderType: 'market',
      quantity: 5,
    },
    '0000b08756febc7842000e0041434d454065766d3a333133333701006201006d01010000000000001440',
  ],
  [
    'new stop FOK with STP cancel-both',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'a',
      clientOrderId: 's',
      side: 'buy',
      orderType: 'stop',
      quantity: 2,
      stopPrice: 1010,
      tif: 'FOK',
      stp: 'cancel-both',
    },
    '0000b08756febc7842460e0041434d454065766d3a3331333337010061010073000200000000000000400000000000908f400302',
  ],
  [
    'new stop-limit with STP decrement-and-cancel',
    {
      type: 'new',
      ts,
      instrument: I,
      account: 'a',
      clientOrderId: 'sl',
      side: 'sell',
      orderType: 'stop-limit',
      quantity: 2,
      price: 990,
      stopPrice: 995,
      stp: 'decrement-and-cancel',
    },
    '0000b08756febc7842430e0041434d454065766d3a33313333370100610200736c010300000000000000400000000000f08e400000000000188f4003',
  ],
  [
    'cancel by order id',
    { type: 'cancel', ts, account: 'a', orderId: 42 },
    '0100b08756febc7842010100610000000000004540',
  ],
  [
    'cancel by client order id',
    { type: 'cancel', ts, account: 'a', clientOrderId: 'c1' },
    '0100b08756febc78420201006102006331',
  ],
  [
    'cancel-all of one instrument',
    { type: 'cancel-all', ts, account: 'a', instrument: I },
    '0200b08756febc7842100100610e0041434d454065766d3a3331333337',
  ],
  ['cancel-all', { type: 'cancel-all', ts, account: 'a' }, '0200b08756febc784200010061'],
  [
    'replace price and quantity',
    { type: 'replace', ts, account: 'a', orderId: 42, price: 1002, quantity: 7 },
    '0300b08756febc78420d01006100000000000045400000000000508f400000000000001c40',
  ],
  [
    'replace quantity by client order id',
    { type: 'replace', ts, account: 'a', clientOrderId: 'c1', quantity: 4 },
    '0300b08756febc78420a010061020063310000000000001040',
  ],
  [
    'list-instrument',
    {
      type: 'list-instrument',
      ts,
      spec: {
        id: 'X@e:1',
        tickSize: '0.01',
        lotSize: '1',
        priceDecimals: 2,
        quantityDecimals: 0,
        minQty: 1,
        maxQty: 100,
        maxPrice: 1000,
        referencePrice: 0,
        bandBps: 0,
        makerFeeBps: 0,
        takerFeeBps: 5,
      },
    },
    '0400b08756febc7842bc007b226964223a225840653a31222c227469636b53697a65223a22302e3031222c226c6f7453697a65223a2231222c227072696365446563696d616c73223a322c227175616e74697479446563696d616c73223a302c226d696e517479223a312c226d6178517479223a3130302c226d61785072696365223a313030302c227265666572656e63655072696365223a302c2262616e64427073223a302c226d616b6572466565427073223a302c2274616b6572466565427073223a357d',
  ],
  [
    'set-status halted',
    { type: 'set-status', ts, instrument: I, status: 'halted' },
    '0500b08756febc78420e0041434d454065766d3a333133333701',
  ],
  [
    'set-status open',
    { type: 'set-status', ts, instrument: I, status: 'open' },
    '0500b08756febc78420e0041434d454065766d3a333133333700',
  ],
  ['tick', { type: 'tick', ts }, '0600b08756febc7842'],
  [
    'deposit',
    { type: 'deposit', ts, account: 'a', asset: 'USDC@evm:31337', amount: 5000 },
    '0700b08756febc78420100610e00555344434065766d3a3331333337000000000088b340',
  ],
  [
    'withdraw',
    { type: 'withdraw', ts, account: 'a', asset: 'USDC@evm:31337', amount: 100 },
    '0800b08756febc78420100610e00555344434065766d3a33313333370000000000005940',
  ],
  [
    'request-withdrawal',
    { type: 'request-withdrawal', ts, account: 'a', asset: I, amount: 3 },
    '0c00b08756febc78420100610e0041434d454065766d3a33313333370000000000000840',
  ],
  [
    'set-account eligible, not frozen',
    { type: 'set-account', ts, account: 'a', venue: 'evm:31337', eligible: true, frozen: false },
    '0900b08756febc784207010061090065766d3a3331333337',
  ],
  [
    'set-account frozen',
    { type: 'set-account', ts, account: 'a', venue: 'evm:31337', frozen: true },
    '0900b08756febc78420c010061090065766d3a3331333337',
  ],
  [
    'update-instrument fees, band and reference',
    {
      type: 'update-instrument',
      ts,
      instrument: I,
      makerFeeBps: -1,
      takerFeeBps: 5,
      bandBps: 500,
      referencePrice: 1000,
    },
    '0b00b08756febc78420f0e0041434d454065766d3a3331333337000000000000f0bf00000000000014400000000000407f400000000000408f40',
  ],
  [
    'update-instrument band only',
    { type: 'update-instrument', ts, instrument: I, bandBps: 600 },
    '0b00b08756febc7842040e0041434d454065766d3a33313333370000000000c08240',
  ],
  [
    'settle ok with ref, gas and fee',
    { type: 'settle', ts, tradeId: 7, ok: true, ref: '0xab', gas: 51000, gasFee: '120000' },
    '0a00b08756febc78421d0000000000001c400400307861620000000000e7e8400600313230303030',
  ],
  [
    'settle refused with reason',
    { type: 'settle', ts, tradeId: 8, ok: false, reason: 'reverted' },
    '0a00b08756febc784202000000000000204008007265766572746564',
  ],
  [
    'settle-withdrawal ok',
    { type: 'settle-withdrawal', ts, withdrawalId: 3, ok: true, ref: 'tx', gas: 30000 },
    '0d00b08756febc78420d00000000000008400200747800000000004cdd40',
  ],
  [
    'settle-withdrawal refused',
    { type: 'settle-withdrawal', ts, withdrawalId: 4, ok: false, reason: 'no' },
    '0d00b08756febc784202000000000000104002006e6f',
  ],
  [
    'link',
    { type: 'link', ts, account: '0xA1', identity: 'Org1MSP:alice' },
    '0e00b08756febc78420400307841310d004f7267314d53503a616c696365',
  ],
  [
    'settle-leg cash claimed',
    {
      type: 'settle-leg',
      ts,
      tradeId: 9,
      leg: 'cash',
      state: 'claimed',
      ref: '0xab',
      gas: 40000,
      gasFee: '8',
    },
    '1000b08756febc78421c00000000000022400101040030786162000000000088e340010038',
  ],
  [
    'settle-leg security refused',
    { type: 'settle-leg', ts, tradeId: 10, leg: 'security', state: 'refused', reason: 'frozen' },
    '1000b08756febc78420200000000000024400003060066726f7a656e',
  ],
  [
    'unlink',
    { type: 'unlink', ts, account: '0xA1', identity: 'Org1MSP:alice' },
    '0f00b08756febc78420400307841310d004f7267314d53503a616c696365',
  ],
];

describe('wire format: golden bytes', () => {
  for (const [name, command, bytes] of GOLDEN) {
    it(`given ${name}, then it encodes to exactly its pinned bytes, and they decode back to it`, () => {
      assert.equal(hex(command), bytes);
      const buf = Buffer.from(bytes, 'hex');
      assert.deepStrictEqual(decodeCommand(buf, 0, buf.length), command);
    });
  }

  it('covers every command type, every side, order type, time in force, self-trade mode and status', () => {
    const seen = (field: string) =>
      new Set(GOLDEN.map(([, c]) => (c as unknown as Record<string, unknown>)[field]));
    const covers = (field: string, table: Record<string, number>) =>
      assert.deepStrictEqual(
        Object.keys(table).filter((v) => !seen(field).has(v)),
        [],
        `${field} values without a golden command`,
      );
    covers('type', COMMAND_TAGS);
    covers('side', SIDE_TAGS);
    covers('orderType', ORDER_TYPE_TAGS);
    covers('tif', TIF_TAGS);
    covers('stp', STP_TAGS);
    covers('status', STATUS_TAGS);
  });

  it('given a new journal, then its segment is the header (MWAL, version 1) and then the records, byte for byte', async (t) => {
    const dir = tempDir(t, 'format');
    const j = new FileJournal(dir, { log: lineLogger(() => assert.fail('nothing to log')) });
    j.append({ type: 'tick', ts });
    await j.close();
    const [segment] = segmentFiles(dir);
    assert.equal(segment, '00000000000000000001.wal');
    assert.equal(
      fs.readFileSync(path.join(dir, segment)).toString('hex'),
      // MWAL, u32 version 1 | u32 length 17, u32 CRC32 | f64 sequence 1 | tick tag 6, f64 ts
      '4d57414c01000000' + '11000000e7d294eb' + '000000000000f03f' + '0600b08756febc7842',
    );
  });
});

/** A copy of the fixture in a temporary folder (opening a journal may cut or append). */
function fixtureCopy(t: Parameters<typeof tempDir>[0]): string {
  const dir = tempDir(t, 'fixture');
  fs.cpSync(FIXTURE, dir, { recursive: true });
  return dir;
}

describe('wire format: a journal of the release before versions', () => {
  const expected = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'expected.json'), 'utf8')) as {
    seq: number;
    stateHash: string;
    risk: boolean;
  };

  it('given the fixture, when opened, then every command replays to the state hash it was written with', async (t) => {
    const dir = fixtureCopy(t);
    const before = folderImage(dir);
    const d = DurableEngine.open({ dir, risk: expected.risk, snapshotEvery: 0, log: silentLogger });
    assert.equal(d.recovery.replayed, expected.seq);
    assert.equal(d.recovery.lastSeq, expected.seq);
    assert.equal(d.recovery.stateHash, expected.stateHash);
    await d.close();
    assert.deepStrictEqual(folderImage(dir), before, 'opening changed nothing');
    assert.ok(
      scanJournal(dir).segments.every((s) => s.scan.version === null),
      'its segments have no header',
    );
  });

  it('given the fixture, when commands are appended, then they go to a new segment with a header, and all of it replays', async (t) => {
    const dir = fixtureCopy(t);
    const before = folderImage(dir);
    const d = DurableEngine.open({ dir, risk: expected.risk, snapshotEvery: 0, log: silentLogger });
    await d.submit({ type: 'tick', ts: d.engine.lastTs + 1 });
    await d.submit({
      type: 'deposit',
      ts: d.engine.lastTs + 1,
      account: 'a',
      asset: 'USDC@evm:31337',
      amount: 7,
    });
    const hash = d.engine.stateHash();
    await d.close();
    const after = folderImage(dir);
    for (const [name, bytes] of before) assert.deepStrictEqual(after.get(name), bytes, `${name} unchanged`);
    const added = segmentFiles(dir).filter((f) => !before.has(f));
    assert.deepStrictEqual(added, [`${String(expected.seq + 1).padStart(20, '0')}.wal`]);
    assert.equal(after.get(added[0]!)!.subarray(0, SEGMENT_HEADER).toString('hex'), '4d57414c01000000');
    assert.equal(journalEntries(dir).length, expected.seq + 2);
    const again = DurableEngine.open({ dir, risk: expected.risk, snapshotEvery: 0, log: silentLogger });
    assert.equal(again.recovery.stateHash, hash);
    await again.close();
  });
});

describe('wire format: versions this release does not know', () => {
  for (const version of [2, 0, 0xffff_ffff]) {
    it(`given a segment whose header says version ${version}, when opened, then it refuses, naming file, byte and version, and changes nothing`, async (t) => {
      const dir = tempDir(t, 'format');
      const j = new FileJournal(dir, { segmentBytes: 1, log: silentLogger });
      for (let i = 1; i <= 3; i++) {
        j.append({ type: 'tick', ts: i });
        await j.flush();
      }
      await j.close();
      const segment = segmentFiles(dir)[1]!;
      const file = path.join(dir, segment);
      const buf = fs.readFileSync(file);
      buf.writeUInt32LE(version, 4);
      fs.writeFileSync(file, buf);
      const before = folderImage(dir);
      const refused = (err: unknown): boolean => {
        assert.ok(err instanceof FormatVersionError, `expected a FormatVersionError, got ${String(err)}`);
        assert.equal(
          err.message,
          `${file} (header, byte 4) is in format version ${version}; this release reads version 1 only: read it with a release that knows version ${version}`,
        );
        return true;
      };
      assert.throws(() => scanJournal(dir), refused);
      assert.throws(
        () => new FileJournal(dir, { log: lineLogger(() => assert.fail('nothing to log')) }),
        refused,
      );
      assert.deepStrictEqual(folderImage(dir), before, 'every file unchanged');
      assert.throws(() => DurableEngine.open({ dir, log: silentLogger }), refused);
    });
  }
});
