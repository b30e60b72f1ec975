/**
 * Runs Debian's `nats-server` with JetStream on loopback: one node, or a cluster of nodes that
 * route to each other (JetStream replicates streams over them). Used by the tests, and by a
 * single machine that wants a local NATS. Each node is supervised (`spawnSupervised`): a Ctrl-C in
 * a terminal leaves it to this process to stop after what uses it, and it never outlives this
 * process.
 */
import fs from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { freePort } from '../connectors/free-port.ts';
import { spawnSupervised, type Supervised } from '../connectors/supervised.ts';

export interface NatsNode {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  /** Whether the process runs. */
  readonly running: boolean;
  /** Its process id while it runs, else null. */
  readonly pid: number | null;
  /** Starts the node again (same ports, same store) after a stop or a kill. */
  restart(): Promise<void>;
  /** SIGKILL: no shutdown at all. */
  kill(): Promise<void>;
  /** SIGTERM (a clean shutdown), and waits for the exit. */
  stop(): Promise<void>;
}

export interface NatsOptions {
  /** Folder of the nodes' stores (one sub-folder per node). */
  dir: string;
  /** Nodes: 1 (a single server) or more (a cluster). */
  nodes?: number;
  /** Client ports; free ones when omitted. */
  ports?: number[];
  /** Where a node's output goes (default: dropped). */
  log?: (line: string) => void;
}

/** The nats-server binary, or an error saying how to install it. */
export function natsServerBinary(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/sbin', '/usr/bin'])) {
    const file = path.join(dir, 'nats-server');
    if (fs.existsSync(file)) return file;
  }
  throw new Error('nats-server is not installed (Debian: apt-get install nats-server)');
}

/** Starts the nodes and waits until each one takes connections. */
export async function startNats(o: NatsOptions): Promise<NatsNode[]> {
  const count = o.nodes ?? 1;
  const binary = natsServerBinary();
  const ports = o.ports ?? (await Promise.all(Array.from({ length: count }, () => freePort())));
  const routes = count > 1 ? await Promise.all(ports.map(() => freePort())) : [];
  const nodes = ports.map((port, i) => {
    const name = `n${i + 1}`;
    const dir = path.join(o.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir, '-n', name];
    if (count > 1) {
      const others = routes.filter((_, j) => j !== i).map((r) => `nats://127.0.0.1:${r}`);
      args.push(
        '--cluster_name',
        'mosaic',
        '--cluster',
        `nats://127.0.0.1:${routes[i]}`,
        '--routes',
        others.join(','),
      );
    }
    return new Node(binary, args, name, port, dir, o.log);
  });
  try {
    await Promise.all(nodes.map((n) => n.restart()));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw err;
  }
  return nodes;
}

class Node implements NatsNode {
  readonly url: string;
  #process: Supervised | null = null;

  constructor(
    readonly binary: string,
    readonly args: string[],
    readonly name: string,
    readonly port: number,
    readonly dir: string,
    readonly log: ((line: string) => void) | undefined,
  ) {
    this.url = `nats://127.0.0.1:${port}`;
  }

  get running(): boolean {
    return this.#process !== null;
  }

  get pid(): number | null {
    return this.#process?.child.pid ?? null;
  }

  async restart(): Promise<void> {
    if (this.#process !== null) return;
    const running = spawnSupervised(this.binary, this.args);
    this.#process = running;
    const log = this.log;
    const forward = (chunk: Buffer) => {
      if (log) for (const line of chunk.toString().split('\n')) if (line !== '') log(`${this.name}: ${line}`);
    };
    running.child.stdout!.on('data', forward);
    running.child.stderr!.on('data', forward);
    void running.exited.then(() => {
      if (this.#process === running) this.#process = null;
    });
    await waitForPort(this.port, running.child, this.name);
  }

  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
  }
}

async function waitForPort(port: number, child: ChildProcess, name: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`nats-server ${name} exited at start (${child.exitCode ?? child.signalCode})`);
    const open = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nats-server ${name} did not open port ${port} in 15 s`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
