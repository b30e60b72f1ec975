/**
 * The gateway's settings: where it listens, who sees which venue, the MSPs whose certificates
 * log in, and the limits on each session and on market data. app/ reads them, with the rest of a
 * process's configuration, and validates them before anything starts.
 */
import Type, { type Static, type TObject } from 'typebox';

/** A venue member: an MSP (`x509:BankMSP`) or an Ethereum address (`evm:0x...`). */
export const MEMBER = '^(x509:[A-Za-z0-9._-]{1,64}|evm:0x[0-9a-fA-F]{40})$';

const Venue = Type.Object(
  {
    /** Only member identities see its instruments, market data, orders and trades. */
    permissioned: Type.Boolean(),
    /**
     * Members, each named with its kind of identity: `x509:<MSP id>` (every certificate of a Fabric
     * MSP) or `evm:<address>` (an Ethereum account).
     */
    members: Type.Array(Type.String({ pattern: MEMBER }), { maxItems: 10_000 }),
  },
  { additionalProperties: false },
);

const Msp = Type.Object(
  {
    mspId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
    /** Root CA certificates: PEM text, or paths of PEM files. */
    rootCerts: Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 }),
  },
  { additionalProperties: false },
);

/** The gateway's settings, as properties of the process's configuration. */
export const GatewaySettings = {
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 0, maximum: 65_535 }),
  logLevel: Type.Union([
    Type.Literal('fatal'),
    Type.Literal('error'),
    Type.Literal('warn'),
    Type.Literal('info'),
    Type.Literal('debug'),
    Type.Literal('silent'),
  ]),
  venues: Type.Record(Type.String({ pattern: '^[a-z0-9]+:[A-Za-z0-9._-]+$' }), Venue),
  msps: Type.Array(Msp, { maxItems: 64 }),
  limits: Type.Object(
    {
      /** Messages a second each session may send, on average. */
      messagesPerSecond: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Messages a session may send at once. */
      burst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Messages a second an account may send over all its sessions, on average. */
      accountMessagesPerSecond: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Messages an account may send at once over all its sessions. */
      accountBurst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Orders, cancels and replaces a second an account may send over all its sessions. */
      accountOrdersPerSecond: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Orders, cancels and replaces an account may send at once. */
      accountOrderBurst: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Messages answered RATE_LIMITED, none a second after the one before, closing the connection (4029). */
      refusedBeforeClose: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
      /** Sessions logged in at once with one account. */
      sessionsPerAccount: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** Largest WebSocket frame accepted, in bytes. */
      maxFrameBytes: Type.Integer({ minimum: 256, maximum: 16 * 1024 * 1024 }),
      /** WebSocket connections at once. */
      maxConnections: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** WebSocket connections at once from one address (IPv6: one /64). */
      connectionsPerAddress: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** A connection not logged in this long after it opened is closed (4001). */
      loginTimeoutMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }),
      /** The server pings every connection this often; one that did not answer the last ping is closed. */
      pingIntervalMs: Type.Integer({ minimum: 100, maximum: 86_400_000 }),
      /** Bytes written to a connection and not yet taken by it, past which it is closed (1008). */
      maxUnsentBytes: Type.Integer({ minimum: 65_536, maximum: 1024 * 1024 * 1024 }),
      /**
       * Unsent bytes over all connections together, past which the connections with the most
       * unsent are closed (1008) until the total is below it again.
       */
      totalUnsentBytes: Type.Integer({ minimum: 1024 * 1024, maximum: 64 * 1024 * 1024 * 1024 }),
      /** Frames of one connection handled in one turn of the event loop; the rest wait a turn. */
      framesPerTurn: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** Login challenges a second one address may ask for (WebSocket and REST together). */
      challengesPerSecond: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** Login challenges one address may ask for at once. */
      challengeBurst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** Logins (signature checks) a second one address may try (WebSocket and REST together). */
      loginsPerSecond: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** Logins one address may try at once. */
      loginBurst: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      /** An HTTP request (headers and body) not received in full this long after it began is refused (408). */
      requestTimeoutMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
    },
    { additionalProperties: false },
  ),
  feed: Type.Object(
    {
      retain: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
      heartbeatMs: Type.Integer({ minimum: 10, maximum: 3_600_000 }),
      /** Unsent bytes past which a connection's market data is conflated (less than `limits.maxUnsentBytes`). */
      slowBytes: Type.Integer({ minimum: 1024 }),
      /** Unsent market data allowed over all connections together. */
      totalBytes: Type.Integer({ minimum: 65_536 }),
      /** A cluster's gateway stops following an instrument nobody watched for this long. */
      lingerMs: Type.Integer({ minimum: 1_000, maximum: 86_400_000 }),
    },
    { additionalProperties: false },
  ),
};

export type GatewayConfig = Static<TObject<typeof GatewaySettings>>;

/** The embedded defaults: on loopback, the demo venues public but the club's. */
export function defaultGatewayConfig(): GatewayConfig {
  return {
    host: '127.0.0.1',
    port: 8080,
    logLevel: 'info',
    venues: {
      'evm:31337': { permissioned: false, members: [] },
      'fabric:bank-net': { permissioned: false, members: [] },
      'fabric:club-net': { permissioned: true, members: ['x509:ClubMSP'] },
    },
    msps: [],
    limits: {
      messagesPerSecond: 200,
      burst: 400,
      accountMessagesPerSecond: 500,
      accountBurst: 1000,
      accountOrdersPerSecond: 100,
      accountOrderBurst: 200,
      refusedBeforeClose: 1000,
      sessionsPerAccount: 10,
      maxFrameBytes: 64 * 1024,
      maxConnections: 10_000,
      connectionsPerAddress: 100,
      loginTimeoutMs: 10_000,
      pingIntervalMs: 30_000,
      maxUnsentBytes: 1024 * 1024,
      totalUnsentBytes: 128 * 1024 * 1024,
      framesPerTurn: 64,
      challengesPerSecond: 5,
      challengeBurst: 20,
      loginsPerSecond: 5,
      loginBurst: 20,
      requestTimeoutMs: 10_000,
    },
    feed: {
      retain: 10_000,
      heartbeatMs: 1000,
      slowBytes: 256 * 1024,
      totalBytes: 64 * 1024 * 1024,
      lingerMs: 60_000,
    },
  };
}
