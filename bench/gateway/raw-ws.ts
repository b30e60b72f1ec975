/**
 * A WebSocket client made by hand on a bare TCP socket, for the abuse scenario's clients that
 * never read: the upgrade is written and its answer's status line read, then the socket is
 * paused for good, so what the server sends piles up in the kernel's buffers and then in the
 * server's, as with a client that stopped reading. Frames are masked as RFC 6455 asks of a client.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';

/** A socket past its upgrade: `status` is the server's answer (101 when it took the upgrade). */
export interface RawSocket {
  socket: net.Socket;
  status: number;
  /** Set when the socket closed or failed (a reset shows when a write fails). */
  ended: { error?: string; at?: number };
}

/**
 * Connects from `localAddress`, asks for the upgrade and reads the answer's status line; the
 * socket is then paused and read no more. Rejects on a connection error or after `timeoutMs`.
 */
export function openRaw(url: string, localAddress: string, timeoutMs = 10_000): Promise<RawSocket> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: u.hostname, port: Number(u.port), localAddress });
    const ended: RawSocket['ended'] = {};
    let head = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no upgrade answer from ${url} in ${timeoutMs} ms`));
    }, timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      socket.write(
        `GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    const onData = (chunk: Buffer) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('error', fail);
      socket.pause();
      socket.on('error', (err) => {
        ended.error ??= (err as NodeJS.ErrnoException).code ?? err.message;
      });
      socket.on('close', () => {
        ended.at ??= performance.now();
        ended.error ??= 'closed';
      });
      resolve({ socket, status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), ended });
    };
    socket.on('data', onData);
  });
}

/** A masked text frame carrying `text`. */
export function frame(text: string): Buffer {
  const payload = Buffer.from(text, 'utf8');
  const n = payload.length;
  const lenBytes = n < 126 ? 0 : n < 65_536 ? 2 : 8;
  const out = Buffer.allocUnsafe(2 + lenBytes + 4 + n);
  out[0] = 0x81;
  if (lenBytes === 0) out[1] = 0x80 | n;
  else if (lenBytes === 2) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(n, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(n), 2);
  }
  const mask = randomBytes(4);
  const at = 2 + lenBytes;
  mask.copy(out, at);
  for (let i = 0; i < n; i++) out[at + 4 + i] = payload[i]! ^ mask[i & 3]!;
  return out;
}

/**
 * Writes `data`; when the socket's buffer is full, waits for it to drain, to end, or for `stop`.
 * False once the socket ended.
 */
export async function writeAll(s: RawSocket, data: Buffer, stop: Promise<void>): Promise<boolean> {
  if (s.ended.error !== undefined || s.socket.destroyed) return false;
  if (s.socket.write(data)) return true;
  let done = () => {};
  await Promise.race([
    stop,
    new Promise<void>((resolve) => {
      done = resolve;
      s.socket.once('drain', done);
      s.socket.once('close', done);
    }),
  ]);
  s.socket.off('drain', done);
  s.socket.off('close', done);
  return s.ended.error === undefined && !s.socket.destroyed;
}
