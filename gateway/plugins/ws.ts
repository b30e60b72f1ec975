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
import { Session } from '../session.ts';
import { parseMessage, type Request, requestId } from '../wire.ts';

export default async function wsPlugin(app: FastifyInstance, { gateway }: { gateway: Gateway<Exchange> }) {
  const { config, trading, feed, metrics, exchange } = gateway;
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.limits.maxFrameBytes,
    perMessageDeflate: false,
  });
  const sessions = new Set<Session>();
  /** Market-data sequences start afresh with each server start: this tells one run from another. */
  const canSee = (venue: string, names: readonly string[]) => exchange.canSee(venue, names);

  app.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/ws') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
      return;
    }
    if (sessions.size >= config.limits.maxConnections) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => connect(ws, socket));
  });

  function connect(ws: WebSocket, socket: Duplex): void {
    const session = new Session(ws, socket, config.limits, canSee);
    sessions.add(session);
    metrics.sessions.set(sessions.size);
    ws.on('message', (data, isBinary) => onFrame(session, data as Buffer, isBinary));
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      sessions.delete(session);
      metrics.sessions.set(sessions.size);
      feed.drop(session);
      trading.disconnect(session);
    });
  }

  function onFrame(session: Session, data: Buffer, isBinary: boolean): void {
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
      dispatch(session, parseMessage(value));
    } catch (err) {
      if (!isGatewayError(err)) {
        app.log.error({ err }, 'unexpected error handling a message');
        return fail(session, id, 'UNAVAILABLE', 'internal error; the message was not processed');
      }
      fail(session, id, err.code, err.message, err.info);
    }
  }

  function dispatch(session: Session, msg: Request): void {
    switch (msg.op) {
      case 'ping':
        return session.reply({ type: 'pong', id: msg.id, ts: Date.now() });
      case 'challenge':
        return trading.challenge(session, msg);
      case 'login':
        return trading.login(session, msg);
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
        return feed.subscribe(
          session,
          msg.channel,
          session.canSee,
          fromSeq,
          Buffer.from(JSON.stringify(ack)),
        );
      }
      case 'unsubscribe': {
        const had = feed.unsubscribe(session, msg.channel);
        if (!had) return fail(session, msg.id, 'UNKNOWN_CHANNEL', `not subscribed to "${msg.channel}"`);
        return session.reply({ type: 'unsubscribed', id: msg.id, channel: msg.channel });
      }
    }
  }

  function limited(session: Session, id: string | number | undefined, wait: number): void {
    metrics.rateLimited.inc();
    const { messagesPerSecond, burst } = config.limits;
    fail(
      session,
      id,
      'RATE_LIMITED',
      `rate limit of ${messagesPerSecond} messages/s (burst ${burst}) exceeded; retry in ${wait} ms`,
      { retryAfterMs: wait },
    );
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
    for (const s of sessions) s.close(1001, 'server shutting down');
    const deadline = Date.now() + 1000;
    while (sessions.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const ws of wss.clients) ws.terminate();
    wss.close();
  });
}
