/**
 * Account limits shared by the gateways of a cluster (gateway/limit-sharing.ts), without the
 * transport: reports passed by hand from one gateway's sharing to another's, on a clock the test
 * moves. Over NATS between gateway processes: test/cluster/gateways.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultGatewayConfig } from '../../gateway/index.ts';
import { type LimitReport, LimitSharing, parseReport } from '../../gateway/limit-sharing.ts';
import { Limits } from '../../gateway/limits.ts';

/** One gateway: its limits, its sessions by account (set by the test) and its sharing. */
function gateway(
  clock: { now: number },
  limits: Partial<ReturnType<typeof defaultGatewayConfig>['limits']> = {},
) {
  const sessions = new Map<string, number>();
  const now = () => clock.now;
  const lim = new Limits({ ...defaultGatewayConfig().limits, ...limits }, now);
  const sharing = new LimitSharing(lim, () => sessions, { now, fullEvery: 4, perReport: 3, ttlMs: 1_000 });
  return { limits: lim, sessions, sharing };
}

const code = (f: () => void): string | undefined => {
  try {
    f();
    return undefined;
  } catch (err) {
    return (err as { code?: string }).code;
  }
};

describe('account limits shared between gateways', () => {
  it("count an account's sessions at the other gateways against its session limit, until they close or go silent", () => {
    // Given two gateways whose accounts may have 3 sessions, the account with 2 at gateway a
    const clock = { now: 1_000 };
    const a = gateway(clock, { sessionsPerAccount: 3 });
    const b = gateway(clock, { sessionsPerAccount: 3 });
    a.sessions.set('acct', 2);
    // When a reports to b
    for (const r of a.sharing.reports()) b.sharing.receive(r);
    // Then b lets the account open one session more, not two
    assert.equal(
      code(() => b.limits.session('acct', 0)),
      undefined,
    );
    assert.equal(
      code(() => b.limits.session('acct', 1)),
      'TOO_MANY_SESSIONS',
    );
    assert.equal(b.limits.refused.sessionsPerAccount, 1);
    assert.equal(b.sharing.peerSessions, 2);
    // And another account is not affected
    assert.equal(
      code(() => b.limits.session('other', 2)),
      undefined,
    );

    // When one of a's sessions closes and a reports the change (not a full report)
    a.sessions.set('acct', 1);
    const change = a.sharing.reports();
    assert.deepEqual(
      change.map((r) => r.sessions),
      [{ acct: 1 }],
    );
    for (const r of change) b.sharing.receive(r);
    // Then b counts one
    assert.equal(b.sharing.peerSessions, 1);
    assert.equal(
      code(() => b.limits.session('acct', 1)),
      undefined,
    );
    // When the last closes, a reports 0 and b forgets the account
    a.sessions.delete('acct');
    const gone = a.sharing.reports();
    assert.deepEqual(
      gone.map((r) => r.sessions),
      [{ acct: 0 }],
    );
    for (const r of gone) b.sharing.receive(r);
    assert.equal(b.sharing.peerSessions, 0);

    // When a reports 2 sessions again and then goes silent for longer than the time to live
    a.sessions.set('acct', 2);
    for (const r of a.sharing.reports()) b.sharing.receive(r);
    assert.equal(b.sharing.peerSessions, 2);
    clock.now += 1_001;
    // Then b counts them no more
    assert.equal(b.sharing.peerSessions, 0);
    assert.equal(
      code(() => b.limits.session('acct', 2)),
      undefined,
    );
  });

  it('report only what changed, every session at each full report, and nothing when idle', () => {
    const clock = { now: 0 };
    const a = gateway(clock);
    a.sessions.set('x', 1);
    // The first report is full; then nothing changed: no report
    assert.deepEqual(
      a.sharing.reports().map((r) => r.sessions),
      [{ x: 1 }],
    );
    assert.deepEqual(a.sharing.reports(), []);
    assert.deepEqual(a.sharing.reports(), []);
    assert.deepEqual(a.sharing.reports(), []);
    // The fourth after the first is full again (fullEvery 4), though nothing changed
    assert.deepEqual(
      a.sharing.reports().map((r) => r.sessions),
      [{ x: 1 }],
    );
    // A full report of an idle gateway still goes out (a heartbeat with nothing in it)
    const idle = gateway(clock);
    const first = idle.sharing.reports();
    assert.equal(first.length, 1);
    assert.deepEqual([first[0]!.messages, first[0]!.sessions], [{}, {}]);
  });

  it('split a report of many accounts into reports of at most perReport accounts, each with the gateway', () => {
    const clock = { now: 0 };
    const a = gateway(clock);
    a.sharing.reports();
    for (const acct of ['m1', 'm2', 'm3', 'm4']) a.limits.accountMessage(acct);
    for (const acct of ['s1', 's2', 's3']) a.sessions.set(acct, 1);
    const reports = a.sharing.reports();
    assert.deepEqual(
      reports.map((r) => [Object.keys(r.messages), Object.keys(r.sessions)]),
      [
        [['m1', 'm2', 'm3'], []],
        [['m4'], ['s1', 's2']],
        [[], ['s3']],
      ],
    );
    assert.ok(reports.every((r) => r.gateway === a.sharing.id));
  });

  it("charge an account's messages at the other gateways to its message limit, and ignore a gateway's own reports", () => {
    // Given two gateways allowing an account 1 message a second, bursts of 5
    const clock = { now: 0 };
    const limits = { accountMessagesPerSecond: 1, accountBurst: 5 };
    const a = gateway(clock, limits);
    const b = gateway(clock, limits);
    a.sharing.reports(); // counting starts with the first report
    // When the account sends 5 messages through a, and a reports them
    for (let i = 0; i < 5; i++) a.limits.accountMessage('acct');
    const reports = a.sharing.reports();
    assert.deepEqual(
      reports.map((r) => r.messages),
      [{ acct: 5 }],
    );
    for (const r of reports) {
      b.sharing.receive(r);
      a.sharing.receive(r); // NATS gives a publisher its own messages too
    }
    // Then b refuses its next message, naming the per-account limit, for about a second
    assert.throws(
      () => b.limits.accountMessage('acct'),
      (err: Error & { code?: string; info?: { retryAfterMs?: number } }) =>
        err.code === 'RATE_LIMITED' && /per account/.test(err.message) && err.info?.retryAfterMs === 1_000,
    );
    assert.equal(b.sharing.peerMessages, 5);
    // And a did not charge its own messages twice: after a second, it lets one through
    assert.equal(a.sharing.peerMessages, 0);
    clock.now += 1_000;
    assert.equal(
      code(() => a.limits.accountMessage('acct')),
      undefined,
    );
    assert.equal(
      code(() => b.limits.accountMessage('acct')),
      undefined,
    );
  });

  it('refuse a malformed report, naming what is wrong, and change nothing', () => {
    const clock = { now: 0 };
    const b = gateway(clock, { sessionsPerAccount: 2 });
    const good: LimitReport = { gateway: 'g', messages: {}, sessions: { acct: 1 } };
    const cases: Array<[unknown, RegExp]> = [
      [null, /not an object/],
      [[], /not an object/],
      [{ ...good, gateway: '' }, /"gateway" must be a string of 1 to 64/],
      [{ ...good, gateway: 7 }, /"gateway" must be a string/],
      [{ ...good, extra: 1 }, /unknown field "extra"/],
      [{ ...good, sessions: [] }, /"sessions" must be an object/],
      [{ ...good, messages: undefined }, /"messages" must be an object/],
      [{ ...good, sessions: { acct: 2, bad: -1 } }, /"sessions.bad" must be an integer from 0/],
      [{ ...good, sessions: { acct: 1.5 } }, /"sessions.acct" must be an integer/],
      [{ ...good, messages: { acct: 0 } }, /"messages.acct" must be an integer from 1/],
      [{ ...good, messages: { acct: '3' } }, /"messages.acct" must be an integer/],
      [{ ...good, sessions: { ['x'.repeat(65)]: 1 } }, /account of 65 characters \(1 to 64\)/],
      [{ ...good, sessions: { '': 1 } }, /account of 0 characters/],
    ];
    for (const [value, message] of cases) {
      assert.throws(
        () => b.sharing.receive(value),
        (err: Error & { code?: string }) => err.code === 'BAD_MESSAGE' && message.test(err.message),
        JSON.stringify(value),
      );
    }
    assert.equal(b.sharing.peerSessions, 0);
    assert.equal(
      code(() => b.limits.session('acct', 1)),
      undefined,
    );
    // A JSON "__proto__" account is an account like any other, not the prototype
    const proto = parseReport(JSON.parse('{"gateway":"g","messages":{},"sessions":{"__proto__":1}}'));
    assert.deepEqual(Object.keys(proto.sessions), ['__proto__']);
    b.sharing.receive(proto);
    assert.equal(b.sharing.peerSessions, 1);
  });
});
