/**
 * The cluster's settings: where NATS is, how many copies JetStream keeps, and which venues each
 * engine shard owns. One file serves every process of a deployment (gateways, shards, daemons).
 */
import Type, { type Static } from 'typebox';

const Venue = Type.String({ pattern: '^([a-z0-9]+:[A-Za-z0-9._-]+|\\*)$' });

export const ClusterSchema = Type.Object(
  {
    /** `mosaic start` runs the exchange as a cluster on this machine: each part its own process, on NATS. */
    enabled: Type.Boolean(),
    /** With `enabled`: `mosaic start` also runs a nats-server (JetStream) on the first server's port (0: any free one), its store in the data folder. */
    startNats: Type.Boolean(),
    /** NATS servers to connect to: any nodes of the cluster, `host:port` or `nats://host:port`. */
    servers: Type.Array(Type.String({ pattern: '^(nats://)?[A-Za-z0-9.\\[\\]:_-]+:[0-9]{1,5}$' }), {
      minItems: 1,
      maxItems: 64,
    }),
    /** Prefix of every stream, bucket and subject: several exchanges can share one NATS. */
    name: Type.String({ pattern: '^[a-z][a-z0-9]{0,23}$' }),
    /** Copies JetStream keeps of each stream and snapshot: 1, or 3 on a three-node cluster. */
    replicas: Type.Integer({ minimum: 1, maximum: 5 }),
    /** Engine shards, numbered from 0: the venues each owns (`*`: every venue no other shard names). */
    shards: Type.Array(
      Type.Object(
        { venues: Type.Array(Venue, { minItems: 1, maxItems: 1_000 }) },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: 256 },
    ),
    /** A shard stores a snapshot of its engine after this many commands. */
    snapshotEvery: Type.Integer({ minimum: 10, maximum: 100_000_000 }),
    /** How long JetStream remembers a command id: a command sent again within it is applied once. */
    dedupeMinutes: Type.Integer({ minimum: 1, maximum: 10_080 }),
    /** A trade event a settlement daemon took goes to another daemon when not finished after this long (the daemon is gone). */
    ackWaitSeconds: Type.Integer({ minimum: 1, maximum: 3_600 }),
    /** A shard sends a tick (expiring GTD orders) after this long without a command, ms (0: never). */
    tickMs: Type.Integer({ minimum: 0, maximum: 3_600_000 }),
  },
  { additionalProperties: false },
);

export type ClusterConfig = Static<typeof ClusterSchema>;

/** One local NATS, one shard owning every venue. */
export function defaultCluster(): ClusterConfig {
  return {
    enabled: false,
    startNats: true,
    servers: ['127.0.0.1:4222'],
    name: 'mosaic',
    replicas: 1,
    shards: [{ venues: ['*'] }],
    snapshotEvery: 100_000,
    dedupeMinutes: 60,
    ackWaitSeconds: 30,
    tickMs: 1000,
  };
}

/** What the schema cannot say: a venue named by two shards, or two catch-all shards. Returns the problems. */
export function clusterProblems(c: ClusterConfig): string[] {
  const problems: string[] = [];
  if (c.enabled && c.startNats && !/^(nats:\/\/)?(127\.0\.0\.1|localhost):\d+$/.test(c.servers[0]!)) {
    problems.push(
      '/cluster/servers/0: with startNats, the first server must be on this machine (127.0.0.1:PORT)',
    );
  }
  const owner = new Map<string, number>();
  c.shards.forEach((s, i) => {
    for (const v of s.venues) {
      const was = owner.get(v);
      if (was !== undefined)
        problems.push(`/cluster/shards/${i}/venues: ${v} is owned by shard ${was} already`);
      else owner.set(v, i);
    }
  });
  return problems;
}
