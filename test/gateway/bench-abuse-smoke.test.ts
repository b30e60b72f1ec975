/**
 * The gateway benchmark's abuse scenario runs end to end, small and short: every attack on a real
 * exchange in a child process, from 127.0.0.1, while the legitimate trader trades from 127.0.0.2.
 * The server's deadlines and per-address limits are lowered so that each refusal shows within
 * the short run. Asserts that every row reports the server's memory and the trader's round
 * trips, and that the attacker saw the refusals the limits are there to give; never speed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ATTACKS, type AbuseRow } from '../../bench/gateway/abuse.ts';
import { ABUSE_DEFAULTS, runBench } from '../../bench/gateway/run.ts';

const IDLE = 30;
const PER_ADDRESS = 20;

describe('gateway benchmark: abuse smoke', { timeout: 300_000 }, () => {
  it('given lowered limits, when every attack runs briefly, then each row has its figures and the refusals show', async () => {
    const report = await runBench({
      scenarios: ['abuse'],
      seconds: 2,
      rates: [],
      runs: 1,
      connections: 1,
      window: 1,
      subscribers: 1,
      fanoutRates: [],
      workers: 1,
      generators: 1,
      w1Ops: 1,
      server: {
        limits: {
          loginTimeoutMs: 1000,
          requestTimeoutMs: 1000,
          connectionsPerAddress: PER_ADDRESS,
          sessionsPerAccount: 2,
        },
      },
      abuse: {
        ...ABUSE_DEFAULTS,
        traderPeriodMs: 200,
        quietSeconds: 1,
        settleSeconds: 1,
        sizes: {
          floodSessions: 4,
          floodFrames: 20_000,
          idleSockets: IDLE,
          slowBodies: 5,
          challengeLanes: 2,
          feedSockets: 10,
          feedOrdersPerSec: 50,
          faucetKeys: 20,
        },
      },
    });
    const a = report.abuse;
    assert.ok(a !== undefined);
    assert.deepEqual(
      a.rows.map((r) => r.attack),
      [...ATTACKS],
    );
    assert.equal(a.limits?.loginTimeoutMs, 1000, 'the limits the server ran with are reported');
    const row = (name: string): AbuseRow => a.rows.find((r) => r.attack === name)!;
    for (const r of a.rows) {
      assert.ok(r.rssMB.before > 0 && r.rssMB.peak > 0 && r.rssMB.after > 0, `${r.attack}: memory read`);
      assert.ok(r.quiet.ops > 0 && r.quiet.p50Ms > 0, `${r.attack}: the trader traded before the attack`);
      assert.ok(r.trader.ops > 0, `${r.attack}: and during it`);
      assert.ok(r.health.polls > 0, `${r.attack}: /health polled`);
      assert.ok(r.sent > 0, `${r.attack}: the attack sent something`);
    }

    const idle = row('idle');
    assert.equal(
      idle.refusals['HTTP 429'],
      IDLE - PER_ADDRESS,
      'connections past the per-address limit refused',
    );
    assert.equal(idle.refusals['close 4001'], PER_ADDRESS, 'the others closed at the login deadline');
    assert.equal(idle.server.closed.loginTimeout, PER_ADDRESS);
    assert.equal(
      idle.traderConnects.opened,
      idle.traderConnects.tries,
      "the trader's address is not refused",
    );

    const orders = row('orders');
    assert.equal(orders.refusals.TOO_MANY_SESSIONS, 2, 'two sessions over the account limit refused');
    assert.equal(orders.detail.sessionsLoggedIn, 2);

    const slow = row('slowbody');
    assert.equal(slow.refusals['HTTP 408'], 5, 'every slow body refused by the request timeout');
    assert.equal(slow.detail.stillOpenAtEnd, 0);

    const challenges = row('challenges');
    assert.ok((challenges.refusals['HTTP 429'] ?? 0) > 0, 'challenges past the burst refused 429');
    assert.ok((challenges.server.refused.challenge ?? 0) > 0);

    const feed = row('feed');
    assert.equal(feed.detail.subscribed, 10);

    const faucet = row('faucet');
    assert.ok(Number(faucet.detail.loggedIn) > 0);
    const next = faucet.detail.nextNewUser as { balanceAfterLoginMs?: number | null };
    assert.ok(typeof next.balanceAfterLoginMs === 'number', 'the next new user got its demo balance');

    const judged = report.targets.filter((t) => t.what.startsWith('abuse/')).map((t) => t.what.split(':')[0]);
    assert.deepEqual(judged, [
      'abuse/unread',
      'abuse/orders',
      'abuse/idle',
      'abuse/slowbody',
      'abuse/challenges',
      'abuse/feed',
    ]);
  });
});
