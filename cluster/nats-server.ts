/**
 * Runs Debian's `nats-server` with JetStream on loopback: one node, or a cluster of nodes that
 * route to each other (JetStream replicates streams over them). Used by the tests, and by a
 * single machine that wants a local NATS. Each node is supervised (`spawnSupervised`): a Ctrl-C in
 * a terminal leaves it to this process to stop after what uses it, and it never outlives this
 * process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawnSupervised, type Supervised, whenReady } from '../connectors/index.ts';
import { makeError } from './errors.ts';

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
  /** Client ports; any free ones, of each node's own choosing, when omitted. */
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
  throw makeError('nats-server is not installed (Debian: apt-get install nats-server)', 'BAD_SETUP');
}

/**
 * Starts the nodes and waits until each one takes connections. Each binds its ports itself (any
 * free ones, unless `ports` names the client ports) and says which in its log; a node started
 * again keeps them. The first node starts alone, and the others route to it (and reach each other
 * through it); but a JetStream cluster node refuses to start with no route at all, and the first
 * cannot name ports that do not exist yet: it is given a route to port 0, where nothing can ever
 * listen, and is dialled by the others instead (started again later, it routes to them).
 */
export async function startNats(o: NatsOptions): Promise<NatsNode[]> {
  const count = o.nodes ?? 1;
  const binary = natsServerBinary();
  const nodes: Node[] = [];
  for (let i = 0; i < count; i++) {
    const name = `n${i + 1}`;
    const dir = path.join(o.dir, name);
    fs.mkdirSync(dir, { recursive: true });
    nodes.push(new Node(binary, name, dir, o.ports?.[i] ?? 0, count > 1 ? nodes : null, o.log));
  }
  try {
    await nodes[0]!.restart();
    await Promise.all(nodes.slice(1).map((n) => n.restart()));
  } catch (err) {
    await Promise.all(nodes.map((n) => n.kill()));
    throw err;
  }
  return nodes;
}

/** Says a node listens: its client port, and, in a cluster, its route port. */
const CLIENT_READY = /Listening for client connections on [\d.]+:(\d+)\n[\s\S]*Server is ready\n/;
const CLUSTER_READY =
  /Listening for client connections on [\d.]+:(\d+)\n[\s\S]*Listening for route connections on [\d.]+:(\d+)\n/;

class Node implements NatsNode {
  #process: Supervised | null = null;
  /** 0 until the node has bound the one it picked. */
  #port: number;
  #routePort = 0;

  constructor(
    readonly binary: string,
    readonly name: string,
    readonly dir: string,
    port: number,
    /** The cluster's nodes, or null for a single server. */
    readonly cluster: readonly Node[] | null,
    readonly log: ((line: string) => void) | undefined,
  ) {
    this.#port = port;
  }

  get port(): number {
    return this.#port;
  }

  get url(): string {
    return `nats://127.0.0.1:${this.#port}`;
  }

  get running(): boolean {
    return this.#process !== null;
  }

  get pid(): number | null {
    return this.#process?.child.pid ?? null;
  }

  /** `-1`: a port of the node's own choosing. */
  #args(): string[] {
    const args = ['-a', '127.0.0.1', '-p', String(this.#port || -1), '-js', '-sd', this.dir, '-n', this.name];
    if (this.cluster === null) return args;
    const routes = this.cluster
      .filter((n) => n !== this && n.#routePort !== 0)
      .map((n) => `nats://127.0.0.1:${n.#routePort}`);
    return [
      ...args,
      '--cluster_name',
      'mosaic',
      '--cluster',
      `nats://127.0.0.1:${this.#routePort || -1}`,
      '--routes',
      routes.length > 0 ? routes.join(',') : 'nats://127.0.0.1:0',
    ];
  }

  async restart(): Promise<void> {
    if (this.#process !== null) return;
    const running = spawnSupervised(this.binary, this.#args());
    const log = this.log;
    if (log) {
      const forward = (chunk: Buffer) => {
        for (const line of chunk.toString().split('\n')) if (line !== '') log(`${this.name}: ${line}`);
      };
      running.child.stdout!.on('data', forward);
      running.child.stderr!.on('data', forward);
    }
    this.#process = running;
    void running.exited.then(() => {
      if (this.#process === running) this.#process = null;
    });
    const ready = this.cluster === null ? CLIENT_READY : CLUSTER_READY;
    const [, port, routePort] = await whenReady(running, ready, `nats-server ${this.name}`, 15_000);
    this.#port = Number(port);
    if (routePort !== undefined) this.#routePort = Number(routePort);
  }

  async kill(): Promise<void> {
    await this.#process?.kill();
  }

  async stop(): Promise<void> {
    await this.#process?.stop();
  }
}
