/**
 * The baseline: a bare `ws` server in a process of its own (forked by server.ts), with nothing of
 * Mosaic in the path, to measure what this machine's loopback and the `ws` library cost alone.
 *
 * - `echo`: every message goes straight back to its sender (the round trip's floor).
 * - `broadcast`: takes a capture of the exchange's frames (`load`); a client's `subscribe` to a
 *   captured channel is answered with that channel's snapshot, and `replay` sends one segment's
 *   frames, spread evenly over the given seconds, to every subscriber of their channel: the same
 *   pre-built bytes to each, as a plain `ws.send`.
 *
 * Answers `mark` with its own CPU and memory (the exchange's counters are 0), and ends on `stop`
 * or when the parent goes.
 */
import { type WebSocket, WebSocketServer } from 'ws';
import { childArgs } from './child.ts';
import type { Capture } from './capture.ts';
import { type FromServer, ownStats, type ToServer } from './server.ts';

export type RawRequest =
  { op: 'load'; capture: Capture } | { op: 'replay'; segment: number; seconds: number };
export type RawReply = { op: 'loaded' } | { op: 'replayed'; frames: number };

interface Frame {
  subs: Set<WebSocket>;
  data: Buffer;
}

async function main(): Promise<void> {
  const { mode } = childArgs<{ mode: 'echo' | 'broadcast' }>();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const send = (m: FromServer) => process.send!(m);
  const subs = new Map<string, Set<WebSocket>>();
  const snapshots = new Map<string, Buffer>();
  let segments: Frame[][] = [];

  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    if (mode === 'echo') {
      ws.on('message', (data: Buffer, binary) => ws.send(data, { binary }));
      return;
    }
    ws.on('message', (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { op?: string; channel?: string };
      const snapshot = snapshots.get(m.channel ?? '');
      if (m.op !== 'subscribe' || snapshot === undefined) return;
      subs.get(m.channel!)!.add(ws);
      ws.send(snapshot, { binary: false });
    });
    ws.on('close', () => {
      for (const set of subs.values()) set.delete(ws);
    });
  });

  const replay = (frames: Frame[], ms: number): Promise<void> => {
    const t0 = performance.now();
    let i = 0;
    return new Promise((resolve) => {
      const tick = () => {
        // Frame j is due at t0 + j * ms / n.
        const due = Math.min(frames.length, Math.floor(((performance.now() - t0) * frames.length) / ms) + 1);
        for (; i < due; i++) {
          const f = frames[i]!;
          for (const ws of f.subs) ws.send(f.data, { binary: false });
        }
        if (i < frames.length) setTimeout(tick, 1);
        else resolve();
      };
      tick();
    });
  };

  let cpu = process.cpuUsage();
  let at = performance.now();
  const stop = () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close(() => process.exit(0));
  };
  process.on('message', (msg: ToServer) => {
    if (msg.op === 'mark') {
      const now = performance.now();
      const stats = {
        ...ownStats(now - at, process.cpuUsage(cpu)),
        commands: 0,
        journalBatches: 0,
        feedFramesSent: 0,
        feedConflated: 0,
        feedDropped: 0,
        bookLevels: 0,
      };
      cpu = process.cpuUsage();
      at = now;
      send({ op: 'stats', stats });
    } else if (msg.op === 'load') {
      const bytes = (f: Uint8Array) => Buffer.from(f.buffer, f.byteOffset, f.byteLength);
      for (const s of msg.capture.snapshots) {
        snapshots.set(s.channel, bytes(s.frame));
        subs.set(s.channel, new Set());
      }
      segments = msg.capture.segments.map((seg) =>
        seg.map((f) => ({ subs: subs.get(f.channel) ?? new Set(), data: bytes(f.frame) })),
      );
      send({ op: 'loaded' });
    } else if (msg.op === 'replay') {
      const frames = segments[msg.segment] ?? [];
      void replay(frames, msg.seconds * 1000).then(() => send({ op: 'replayed', frames: frames.length }));
    } else if (msg.op === 'stop') stop();
  });
  process.on('disconnect', stop);
  const { port } = wss.address() as { port: number };
  send({ op: 'ready', url: `ws://127.0.0.1:${port}/ws` });
}

main().catch((err: unknown) => {
  process.stderr.write(`raw ws server: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
