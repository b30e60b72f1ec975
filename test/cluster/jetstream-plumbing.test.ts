/**
 * The cluster's JetStream plumbing against a real nats-server and the client's own errors.
 * `answered`, the JetStream request that is tried again while NATS cannot answer yet: a request
 * nobody answers (no responder on the JetStream API, as while JetStream starts) and one that gets
 * no answer in time (a responder that stays silent, as a stream without a leader) are tried again
 * until the deadline; an error the server answers (a stream that does not exist) goes to the
 * caller at the first try. `consume`: stopping it ends it, also when the stop comes while it is
 * getting its consumer (a follower or a shard closed just after it started), which used to leave
 * the new consumer's messages flowing and `close` waiting for ever.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { consume } from '../../cluster/consume.ts';
import { answered } from '../../cluster/nats.ts';
import { type TestNats, testNats } from '../support/cluster.ts';
import { silentLogger } from '../../common/index.ts';

describe('JetStream plumbing', () => {
  let nats: TestNats;
  let nc: NatsConnection;

  before(async () => {
    nats = await testNats(1);
    nc = await nats.connect();
  });

  after(async () => {
    await nats?.stop();
  });

  describe('answered: JetStream requests while NATS cannot answer yet', () => {
    /** How many times `answered` made the request before it gave up (it must give up), and why it did. */
    async function triesOf(
      request: () => Promise<unknown>,
      timeoutMs: number,
    ): Promise<{ tries: number; error: Error }> {
      let tries = 0;
      const error = await answered(() => {
        tries++;
        return request();
      }, timeoutMs).then(
        () => assert.fail('it was answered'),
        (err: unknown) => err as Error,
      );
      return { tries, error };
    }

    it('tries again, until its deadline, a request no responder answers', async () => {
      const nowhere = await jetstreamManager(nc, { apiPrefix: '$JS.nowhere.API', checkAPI: false });
      const { tries } = await triesOf(() => nowhere.getAccountInfo(), 1_000);
      assert.ok(tries > 1, `tried ${tries} time(s)`);
    });

    it('tries again, until its deadline, a request that gets no answer in time', async () => {
      const silent = nc.subscribe('$JS.silent.API.>');
      const jsm = await jetstreamManager(nc, { apiPrefix: '$JS.silent.API', checkAPI: false, timeout: 200 });
      const { tries } = await triesOf(() => jsm.getAccountInfo(), 1_000);
      silent.unsubscribe();
      assert.ok(tries > 1, `tried ${tries} time(s)`);
    });

    it('gives an error the server answers to the caller at the first try', async () => {
      const jsm = await jetstreamManager(nc);
      const { tries, error } = await triesOf(() => jsm.streams.info('NO_SUCH_STREAM'), 10_000);
      assert.equal(tries, 1);
      assert.match(error.message, /stream not found/);
    });
  });

  describe('consume', () => {
    it('ends when stopped while it is getting its consumer', { timeout: 30_000 }, async () => {
      const js = jetstream(nc);
      const stream = nats.topology.commandStream(0);
      let gets = 0;
      const consuming: ReturnType<typeof consume> = consume({
        get: async () => {
          gets++;
          const consumer = await js.consumers.get(stream, { opt_start_seq: 1 });
          consuming.stop();
          return consumer;
        },
        handle: () => {},
        batch: 10,
        behind: async () => false,
        name: 'test',
        log: silentLogger,
      });
      await consuming.done;
      assert.equal(gets, 1);
    });
  });
});
