/**
 * Configuration errors are short: each problem once, naming the setting, where it came from, and
 * for a setting of a few values those values; a setting of several shapes is judged by the shape
 * it has. (`test/cli/start.test.ts` runs the same through `mosaic start`.)
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { isGatewayError } from '../../gateway/index.ts';
import { loadConfig, startExchange } from '../../app/index.ts';

describe('configuration errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = (content: unknown) => {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify(content));
    return f;
  };
  const problems = (env: Record<string, string>, content?: unknown): string[] => {
    try {
      loadConfig(env, content === undefined ? undefined : file(content));
    } catch (err) {
      assert.ok(isGatewayError(err, 'BAD_CONFIG'), String(err));
      return (err.info.problems as string[]).map((p) => p.replace(/ \(in [^)]*\)/, ' (in FILE)'));
    }
    assert.fail('the configuration was accepted');
  };

  const cases: Array<[string, Record<string, string>, unknown, string[]]> = [
    [
      'a log level that is none of the levels',
      { MOSAIC_LOG_LEVEL: 'verbose' },
      undefined,
      [
        '/logLevel (from MOSAIC_LOG_LEVEL): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"',
      ],
    ],
    [
      'a log level of another type',
      {},
      { logLevel: true },
      ['/logLevel (in FILE): must be "fatal", "error", "warn", "info", "debug" or "silent", got true'],
    ],
    [
      'contracts of neither shape',
      {},
      { evm: { contracts: 5 } },
      ['/evm/contracts (in FILE): must be null or object, got 5'],
    ],
    [
      'contracts with one address wrong: that field, not the null branch',
      {},
      {
        evm: {
          contracts: {
            settlement: '0x12',
            registry: `0x${'1'.repeat(40)}`,
            cash: {},
            securities: {},
          },
        },
      },
      ['/evm/contracts/settlement (in FILE): must match pattern "^0x[0-9a-fA-F]{40}$"'],
    ],
    [
      'an unknown setting, nested',
      {},
      { evm: { maxFeeGwei: 10, maxFee: 10 } },
      ['/evm/maxFee (in FILE): unknown setting'],
    ],
    [
      'a batch replacement sooner than 100 ms, and a fee bump below what nodes ask',
      {},
      { evm: { replaceAfterMs: 50, feeBumpPercent: 5 } },
      ['/evm/replaceAfterMs (in FILE): must be >= 100', '/evm/feeBumpPercent (in FILE): must be >= 10'],
    ],
    [
      'more problems than TypeBox keeps by default (8 errors), every one named',
      { MOSAIC_LOG_LEVEL: 'verbose', MOSAIC_PORT: '70000' },
      { evm: { maxFeeGwei: 0 }, feed: { retain: 0 } },
      [
        '/port (from MOSAIC_PORT): must be <= 65535',
        '/logLevel (from MOSAIC_LOG_LEVEL): must be "fatal", "error", "warn", "info", "debug" or "silent", got "verbose"',
        '/evm/maxFeeGwei (in FILE): must be > 0',
        '/feed/retain (in FILE): must be >= 1',
      ],
    ],
  ];
  for (const [name, env, content, expected] of cases) {
    it(`given ${name}: ${expected.length === 1 ? 'one problem' : 'each problem once'}`, () => {
      assert.deepEqual(problems(env, content), expected);
    });
  }
});

describe('connectors: the ledgers as one list, each entry by its kind', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const load = (content: unknown, env: Record<string, string> = {}) => {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify(content));
    const warnings: string[] = [];
    const config = loadConfig(env, f, (w) => warnings.push(w));
    return { config, warnings };
  };
  const refused = (content: unknown): string[] => {
    try {
      load(content);
    } catch (err) {
      assert.ok(isGatewayError(err, 'BAD_CONFIG'), String(err));
      return (err.info.problems as string[] | undefined) ?? [err.message];
    }
    assert.fail('the configuration was accepted');
  };
  /** The problems without the file each names. */
  const strip = (problems: string[]) => problems.map((p) => p.replace(/ \(in [^)]*\)/, ''));

  it('by default: a local anvil for evm:31337 and a devnet for each demo Fabric venue', () => {
    const { config, warnings } = load({});
    assert.deepEqual(
      config.connectors.map((c) => [c.kind, c.venue, c.enabled]),
      [
        ['evm', 'evm:31337', true],
        ['fabric', 'fabric:bank-net', true],
        ['fabric', 'fabric:club-net', true],
      ],
    );
    assert.deepEqual(warnings, []);
  });

  it("fills what an entry leaves out from its kind's defaults for its venue", () => {
    const { config } = load({
      connectors: [
        { kind: 'evm', venue: 'evm:31338' },
        { kind: 'fabric', venue: 'fabric:trade-net' },
      ],
    });
    const [evm, fabric] = config.connectors;
    assert.equal(evm!.chainId, 31338);
    assert.equal(evm!.rpcUrl, '');
    assert.equal(fabric!.channel, 'trade-net');
    assert.equal(fabric!.endpoint, '');
  });

  it('switches every connector of a kind off with MOSAIC_<KIND>=0', () => {
    const { config } = load({}, { MOSAIC_FABRIC: '0' });
    assert.deepEqual(
      config.connectors.map((c) => [c.kind, c.enabled]),
      [
        ['evm', true],
        ['fabric', false],
        ['fabric', false],
      ],
    );
  });

  it('refuses an unknown kind, naming the kinds there are', () => {
    assert.deepEqual(
      refused({ connectors: [{ kind: 'ripple', venue: 'xrp:main' }] }).map((p) =>
        p.replace(/ \(in [^)]*\)/, ''),
      ),
      ['/connectors/0/kind: must be "evm" or "fabric", got "ripple"'],
    );
  });

  it("refuses a setting of another kind and a venue its kind does not settle, by the entry's kind", () => {
    const problems = refused({ connectors: [{ kind: 'fabric', venue: 'evm:1', rpcUrl: '' }] }).map((p) =>
      p.replace(/ \(in [^)]*\)/, ''),
    );
    assert.deepEqual(problems, [
      '/connectors/0/rpcUrl: unknown setting',
      '/connectors/0/venue: must match pattern "^fabric:[A-Za-z0-9._-]{1,64}$"',
    ]);
  });

  it('reads the old form (a section per kind) with a deprecation warning, its problems named where written', () => {
    const { config, warnings } = load({
      evm: { enabled: false },
      fabric: { networks: [{ venue: 'fabric:x-net' }] },
    });
    assert.deepEqual(
      config.connectors.map((c) => [c.kind, c.venue, c.enabled]),
      [
        ['evm', 'evm:31337', false],
        ['fabric', 'fabric:x-net', true],
      ],
    );
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /"evm" and "fabric" are deprecated: list the ledgers in "connectors"/);
    assert.deepEqual(
      refused({ fabric: { networks: [{ venue: 'fabric:x-net' }, { venue: 'fabric:y', batchSize: 0 }] } }).map(
        (p) => p.replace(/ \(in [^)]*\)/, ''),
      ),
      ['/fabric/networks/1/batchSize: must be >= 1'],
    );
  });

  it('names problems of both old sections where each was written', () => {
    assert.deepEqual(
      refused({ evm: { maxFee: 3 }, fabric: { networks: [{ venue: 'fabric:x-net', batchSize: 0 }] } }).map(
        (p) => p.replace(/ \(in [^)]*\)/, ''),
      ),
      ['/evm/maxFee: unknown setting', '/fabric/networks/0/batchSize: must be >= 1'],
    );
  });

  it('takes a Fabric batch of up to 5,000 trades (one past the ordering preferred bytes is cut at once), and no more', () => {
    assert.deepEqual(
      refused({
        connectors: [{ kind: 'fabric', venue: 'fabric:x-net', batchSize: 5_001, inFlight: 0 }],
      }).map((p) => p.replace(/ \(in [^)]*\)/, '')),
      ['/connectors/0/batchSize: must be <= 5000', '/connectors/0/inFlight: must be >= 1'],
    );
    const { config } = load({ connectors: [{ kind: 'fabric', venue: 'fabric:x-net', batchSize: 5_000 }] });
    assert.deepEqual(
      config.connectors.map((c) => [c.venue, (c as { batchSize?: number }).batchSize]),
      [['fabric:x-net', 5_000]],
    );
  });

  it('refuses a devnet given an operator', () => {
    assert.deepEqual(
      refused({
        connectors: [{ kind: 'fabric', operator: { mspId: 'M', certificate: 'c', privateKey: 'k' } }],
      }).map((p) => p.replace(/ \(in [^)]*\)/, '')),
      [
        '/connectors/0/operator: must be null on the devnet (endpoint empty): the devnet makes its own operator',
      ],
    );
  });

  it("takes a devnet's block cutting (devnetBlocks) and names each wrong field of it", () => {
    const blocks = { blockMs: 2_000, blockSize: 10, blockBytes: 524_288 };
    const { config } = load({ connectors: [{ kind: 'fabric', devnetBlocks: blocks }] });
    assert.deepEqual(config.connectors[0]!.devnetBlocks, blocks);
    assert.deepEqual(
      strip(
        refused({
          connectors: [
            { kind: 'fabric', devnetBlocks: { blockMs: 0, blockSize: 1.5, blockBytes: 0, timeout: 1 } },
          ],
        }),
      ),
      [
        '/connectors/0/devnetBlocks/timeout: unknown setting',
        '/connectors/0/devnetBlocks/blockMs: must be >= 1',
        '/connectors/0/devnetBlocks/blockSize: must be integer',
        '/connectors/0/devnetBlocks/blockBytes: must be >= 1',
      ],
    );
  });

  it("refuses devnetBlocks beside an endpoint: the peer's orderer cuts its blocks", () => {
    const operator = { mspId: 'M', certificate: 'c', privateKey: 'k' };
    assert.deepEqual(
      strip(
        refused({
          connectors: [
            { kind: 'fabric', endpoint: 'peer0:7051', operator, devnetBlocks: { blockMs: 2_000 } },
          ],
        }),
      ),
      [
        "/connectors/0/devnetBlocks: is for a devnet started with the exchange (endpoint empty): a peer's network cuts blocks as its orderer is configured",
      ],
    );
  });

  it('refuses a venue named twice, where each was written', () => {
    assert.deepEqual(
      strip(
        refused({
          connectors: [
            { kind: 'evm', venue: 'evm:31337' },
            { kind: 'evm', venue: 'evm:31338' },
            { kind: 'evm', venue: 'evm:31337', enabled: false },
          ],
        }),
      ),
      ['/connectors/2/venue: evm:31337 is the venue of /connectors/0 already: one entry per venue'],
    );
    assert.deepEqual(
      strip(refused({ fabric: { networks: [{ venue: 'fabric:x-net' }, { venue: 'fabric:x-net' }] } })),
      [
        '/fabric/networks/1/venue: fabric:x-net is the venue of /fabric/networks/0 already: one entry per venue',
      ],
    );
  });

  it('takes the chain id from an EVM venue named by a decimal number only', () => {
    const { config } = load({
      connectors: [
        { kind: 'evm', venue: 'evm:0x10' },
        { kind: 'evm', venue: 'evm:137' },
      ],
    });
    assert.deepEqual(
      config.connectors.map((c) => c.chainId),
      [31337, 137],
    );
  });

  it('refuses the old and the new form together', () => {
    assert.match(
      refused({ evm: {}, connectors: [] })[0]!,
      /"evm" is the old form of "connectors": give "connectors" alone/,
    );
  });

  it('names venue members with their kind of identity; reads bare ones with a deprecation warning', () => {
    const address = `0x${'ab'.repeat(20)}`;
    const { config, warnings } = load({
      venues: { 'fabric:club-net': { permissioned: true, members: ['ClubMSP', address, 'x509:OtherMSP'] } },
    });
    assert.deepEqual(config.venues['fabric:club-net']!.members, [
      'x509:ClubMSP',
      `evm:${address}`,
      'x509:OtherMSP',
    ]);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /venue members without their kind of identity are deprecated/);
  });

  it('reads feed.hardBytes as limits.maxUnsentBytes, with a deprecation warning', () => {
    const { config, warnings } = load({ feed: { hardBytes: 8_388_608 } });
    assert.equal(config.limits.maxUnsentBytes, 8_388_608);
    assert.equal('hardBytes' in config.feed, false);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /feed.hardBytes is deprecated: write limits.maxUnsentBytes/);
    const both = load({ feed: { hardBytes: 8_388_608 }, limits: { maxUnsentBytes: 2_097_152 } });
    assert.equal(both.config.limits.maxUnsentBytes, 2_097_152);
    assert.match(
      refused({ limits: { maxUnsentBytes: 262_144 } })[0]!,
      /limits.maxUnsentBytes must be larger than feed.slowBytes/,
    );
  });
});

describe('instruments: listed at start', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mosaic-config-'));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const load = (content: unknown) => {
    const f = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
    fs.writeFileSync(f, JSON.stringify(content));
    return loadConfig({}, f, () => {});
  };
  const bond = {
    id: 'BOND@fabric:bank-net',
    tickSize: '0.01',
    lotSize: '1',
    priceDecimals: 2,
    quantityDecimals: 0,
    minQty: 1,
    maxQty: 1000,
    maxPrice: 1_000_000,
    referencePrice: 10_000,
    bandBps: 500,
    makerFeeBps: 0,
    takerFeeBps: 2,
  };

  it('refuses an instrument the engine would refuse, naming it and why', () => {
    assert.throws(
      () => load({ instruments: [bond, { ...bond, id: 'X@fabric:bank-net', priceDecimals: 1 }] }),
      (err) =>
        isGatewayError(err, 'BAD_CONFIG') &&
        /\/instruments\/1 \(in [^)]*\): priceDecimals must be an integer from 2/.test(err.message),
    );
  });

  it('lists the configured instruments beside the demo ones, also after a restart', async () => {
    const config = load({ instruments: [bond], connectors: [] });
    config.port = 0;
    config.logLevel = 'silent';
    config.dataDir = path.join(dir, 'data');
    config.demo.marketMaker = false;
    for (let run = 0; run < 2; run++) {
      const gw = await startExchange(config);
      try {
        assert.deepEqual(gw.exchange.engine.instrument(bond.id)?.spec.takerFeeBps, 2);
        assert.equal(gw.exchange.engine.instruments().length, 4);
      } finally {
        await gw.close();
      }
    }
  });
});
