/**
 * The WebSocket endpoint `/ws`: order entry and market data on one connection. Each frame is
 * parsed, rate-limited and checked against its schema before anything acts on it; a bad frame
 * gets an error naming the problem and the connection goes on. Frames over the size limit
 * close the connection (1009), since the rest of such a frame cannot be trusted.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
import { assertThat, isGatewayError } from '../errors.ts';
import type { Exchange } from '../exchange.ts';
import type { Gateway } from '../gateway.ts';
import { addressKey } from '../limits.ts';
import { Session } from '../session.ts';
import { parseMessage, type Request, requestId } from '../wire.ts';

/** Requests that become orders, cancels or replaces: the account's order limit applies. */
const ORDER_OPS = new Set(['new', 'cancel', 'replace', 'cancel-all']);

export default async function wsPlugin(app: FastifyInstance, { gateway }: { gateway: Gateway<Exchange> }) {
  const { config, trading, feed, metrics, exchange, limits } = gateway;
  const { framesPerTurn, loginTimeoutMs, pingIntervalMs } = config.limits;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.limits.maxFrameBytes,
    perMessageDeflate: false,
  });
  const sessions = new Set<Session>();
  /** Market-data sequences start afresh with each server start: this tells one run from another. */
  const canSee = (venue: string, names: readonly string[]) => exchange.canSee(venue, names);
  /** Frames over a turn's budget, per session: handled in the next turns, the socket paused meanwhile. */
  const waiting = new Map<Session, Array<{ data: Buffer; isBinary: boolean }>>();
  /** Frames handled in this turn, per session. */
  const handled = new Map<Session, number>();
  let turnScheduled = false;

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const address = addressKey(req.socket.remoteAddress);
    const refused = limits.connect(address);
    if (refused !== null) {
      socket.end(
        `HTTP/1.1 ${refused.status} ${refused.text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`,
      );
      return;
    }
    // The slot is the socket's until it closes, however the upgrade ends.
    socket.once('close', () => limits.disconnect(address));
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, socket, address));
  });

  function connect(ws: WebSocket, socket: Duplex, address: string): void {
    const session = new Session(
      ws,
      socket,
      address,
      config.limits,
      canSee,
      () => limits.closed.slowConsumer++,
    );
    session.afterLogin = scheduleTurn;
    sessions.add(session);
    metrics.sessions.set(sessions.size);
    // Market data needs no login; a connection that neither logs in nor subscribes holds a slot for nothing.
    const deadline = setTimeout(() => {
      if (session.account !== null || session.subscribed) return;
      limits.closed.loginTimeout++;
      session.close(4001, `login timeout: log in or subscribe within ${loginTimeoutMs} ms`);
    }, loginTimeoutMs);
    ws.on('message', (data, isBinary) => receive(session, data as Buffer, isBinary));
    ws.on('pong', () => {
      session.alive = true;
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      clearTimeout(deadline);
      sessions.delete(session);
      waiting.delete(session);
      handled.delete(session);
      metrics.sessions.set(sessions.size);
      feed.drop(session);
      trading.disconnect(session);
    });
  }

  // Unsent bytes over all connections, checked four times a second: past the budget, those
  // that left the most unsent are closed first (a connection's own cap bounds each of them).
  const budget = setInterval(() => {
    let total = 0;
    for (const session of sessions) total += session.bufferedAmount;
    limits.unsent(total);
    if (total <= config.limits.totalUnsentBytes) return;
    const slowest = [...sessions].sort((x, y) => y.bufferedAmount - x.bufferedAmount);
    for (const session of slowest) {
      if (total <= config.limits.totalUnsentBytes) break;
      total -= session.bufferedAmount;
      session.slow();
    }
  }, 250);
  budget.unref();

  // Each connection is pinged; one that did not answer the previous ping is gone.
  const pinger = setInterval(() => {
    for (const session of sessions) {
      if (!session.open) continue; // being closed already, for another reason
      if (!session.alive) {
        limits.closed.pingTimeout++;
        session.terminate();
        continue;
      }
      session.alive = false;
      session.ping();
    }
    limits.sweep();
  }, pingIntervalMs);
  pinger.unref();

  /**
   * A frame arrived: handled now if the session has budget left in this turn, else kept for the
   * next turn with its socket paused, so one client's frames never hold the event loop (and
   * everyone else's frames, reports and market data) for long.
   */
  function receive(session: Session, data: Buffer, isBinary: boolean): void {
    session.alive = true;
    const queue = waiting.get(session);
    const n = handled.get(session) ?? 0;
    scheduleTurn();
    // A session logging in keeps its next frames until the login is answered (they may be orders).
    if (queue !== undefined || n >= framesPerTurn || session.loggingIn) {
      if (queue === undefined) {
        waiting.set(session, [{ data, isBinary }]);
        session.pause();
      } else queue.push({ data, isBinary });
      return;
    }
    handled.set(session, n + 1);
    onFrame(session, data, isBinary);
  }

  /** Frames taken for this turn but not handled (their session began logging in): first in its queue. */
  function keep(session: Session, frames: Array<{ data: Buffer; isBinary: boolean }>): void {
    const queue = waiting.get(session);
    if (queue !== undefined) queue.unshift(...frames);
    else {
      waiting.set(session, frames);
      session.pause();
    }
  }

  function scheduleTurn(): void {
    if (turnScheduled) return;
    turnScheduled = true;
    setImmediate(nextTurn);
  }

  /** A new turn: budgets start again, and the waiting frames get theirs. */
  function nextTurn(): void {
    turnScheduled = false;
    handled.clear();
    let ready = false;
    for (const [session, queue] of waiting) {
      if (!session.open) {
        waiting.delete(session); // closed meanwhile: its frames go unanswered, and it stays paused
        continue;
      }
      if (session.loggingIn) continue; // its login's answer schedules a turn
      const take = queue.splice(0, framesPerTurn);
      handled.set(session, take.length);
      if (queue.length === 0) {
        waiting.delete(session);
        session.resume();
      }
      for (let i = 0; i < take.length; i++) {
        if (session.loggingIn) {
          keep(session, take.slice(i));
          break;
        }
        onFrame(session, take[i]!.data, take[i]!.isBinary);
      }
      if (waiting.has(session) && !session.loggingIn) ready = true;
    }
    if (ready || handled.size > 0) scheduleTurn();
  }

  function onFrame(session: Session, data: Buffer, isBinary: boolean): void {
    if (!session.open) return;
    metrics.messages.inc();
    // Every frame costs a token, parseable or not: parsing and answering are the server's work.
    const wait = session.bucket.take(Date.now());
    let value: unknown;
    try {
      if (isBinary) throw new SyntaxError('frames must be text (JSON), not binary');
      value = JSON.parse(data.toString('utf8'));
    } catch (err) {
      if (wait > 0) return limited(session, undefined, wait);
      return fail(session, undefined, 'BAD_JSON', `frame is not valid JSON: ${(err as Error).message}`);
    }
    const id = requestId(value);
    if (wait > 0) return limited(session, id, wait);
    try {
      const account = session.account;
      if (account !== null) limits.accountMessage(account);
      const msg = parseMessage(value);
      if (account !== null && ORDER_OPS.has(msg.op)) limits.accountOrder(account);
      dispatch(session, msg);
    } catch (err) {
      if (!isGatewayError(err)) {
        app.log.error({ err }, 'unexpected error handling a message');
        return fail(session, id, 'UNAVAILABLE', 'internal error; the message was not processed');
      }
      fail(session, id, err.code, err.message, err.info);
      if (err.code === 'RATE_LIMITED') refused(session);
    }
  }

  /**
   * A message answered RATE_LIMITED. A client refused `refusedBeforeClose` times without a
   * second's pause between two refusals goes on sending regardless (a token now and then lets
   * one message through, which does not count as waiting): it is closed (4029), so that
   * answering it stops costing the server what the limit was there to save.
   */
  function refused(session: Session): void {
    metrics.rateLimited.inc();
    const now = Date.now();
    if (now - session.lastRefusedAt >= 1000) session.refusedInARow = 0;
    session.lastRefusedAt = now;
    if (++session.refusedInARow < config.limits.refusedBeforeClose) return;
    limits.closed.rateLimited++;
    session.close(4029, `rate limited: ${session.refusedInARow} messages refused, not a second apart`);
  }

  function dispatch(session: Session, msg: Request): void {
    switch (msg.op) {
      case 'ping':
        return session.reply({ type: 'pong', id: msg.id, ts: Date.now() });
      case 'challenge':
        return trading.challenge(session, msg);
      case 'login':
        return trading.login(session, msg);
      case 'link':
        return trading.link(session, msg);
      case 'unlink':
        return trading.unlink(session, msg);
      case 'new':
        return trading.newOrder(session, msg);
      case 'cancel':
        return trading.cancel(session, msg);
      case 'replace':
        return trading.replace(session, msg);
      case 'cancel-all':
        return trading.cancelAll(session, msg);
      case 'withdraw':
        return trading.withdraw(session, msg);
      case 'subscribe': {
        assertThat(
          msg.fromSeq === undefined || msg.epoch !== undefined,
          'subscribe: "fromSeq" needs "epoch", the one of the "subscribed" answer (or REST book) it came from: sequences start again with the server',
          'BAD_MESSAGE',
        );
        // A fromSeq of another epoch (before a restart) names other updates: take a snapshot.
        const fromSeq = msg.epoch === feed.epoch ? msg.fromSeq : undefined;
        const ack = { type: 'subscribed', id: msg.id, channel: msg.channel, epoch: feed.epoch };
        const joining = feed.subscribe(
          session,
          msg.channel,
          session.canSee,
          fromSeq,
          Buffer.from(JSON.stringify(ack)),
        );
        session.subscribed = true;
        // A cluster's gateway reads an instrument's book on its first use: the answer comes when it has.
        joining?.catch((err: Error) => {
          if (isGatewayError(err)) fail(session, msg.id, err.code, err.message, err.info);
          else fail(session, msg.id, 'UNAVAILABLE', err.message);
        });
        return;
      }
      case 'unsubscribe': {
        const had = feed.unsubscribe(session, msg.channel);
        if (!had) return fail(session, msg.id, 'UNKNOWN_CHANNEL', `not subscribed to "${msg.channel}"`);
        return session.reply({ type: 'unsubscribed', id: msg.id, channel: msg.channel });
      }
    }
  }

  function limited(session: Session, id: string | number | undefined, wait: number): void {
    limits.sessionLimited();
    const { messagesPerSecond, burst } = config.limits;
    fail(
      session,
      id,
      'RATE_LIMITED',
      `rate limit of ${messagesPerSecond} messages/s (burst ${burst}) exceeded; retry in ${wait} ms`,
      { retryAfterMs: wait },
    );
    refused(session);
  }

  function fail(
    session: Session,
    id: string | number | undefined,
    code: string,
    message: string,
    info: Record<string, unknown> = {},
  ): void {
    metrics.errors.inc({ code });
    session.reply({ type: 'error', id, code, message, ...info });
  }

  // Before the HTTP server stops: say goodbye (1001), and cut whoever does not answer in time.
  app.addHook('preClose', async () => {
    clearInterval(pinger);
    clearInterval(budget);
    for (const s of sessions) s.close(1001, 'server shutting down');
    const deadline = Date.now() + 1000;
    while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
}
