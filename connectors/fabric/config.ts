/**
 * The Fabric connector's settings: per venue, which network (a peer's gateway endpoint, or a
 * devnet started with the exchange, the embedded default), the channel and chaincode, the
 * operator identity that settles, and how batches go out.
 */
import Type, { type Static, type TObject } from 'typebox';

/** The venues a Fabric connector settles: `fabric:<network>`. */
export const FABRIC_VENUE = '^fabric:[A-Za-z0-9._-]{1,64}$';

/** A Fabric connector's own settings (beside `kind`, `venue` and `enabled`). */
export const FabricSettings = {
  channel: Type.String({ pattern: '^[a-z][a-z0-9.-]{0,248}$' }),
  chaincode: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
  /** A peer's gateway endpoint (host:port); empty: a devnet started with the exchange. */
  endpoint: Type.String({ maxLength: 512 }),
  /**
   * TLS root certificate of the endpoint, PEM; empty: plain text. (The exchange's configuration
   * also takes a file path here and for the operator's PEMs, and reads it at start.)
   */
  tlsRootCert: Type.String(),
  /**
   * The identity that settles (the chaincode's operator): MSP id, certificate and private key
   * (PEM). Null on the devnet: made at the first start and kept.
   */
  operator: Type.Union([
    Type.Null(),
    Type.Object(
      {
        mspId: Type.String({ pattern: '^[A-Za-z0-9._-]{1,64}$' }),
        certificate: Type.String({ minLength: 1 }),
        privateKey: Type.String({ minLength: 1 }),
      },
      { additionalProperties: false },
    ),
  ]),
  /**
   * A private data collection for trade details (a permissioned venue's): they go to the
   * chaincode as transient data and stay with the collection's members; empty: none.
   */
  privateCollection: Type.String({ pattern: '^([A-Za-z0-9_-]{1,64})?$' }),
  batchSize: Type.Integer({ minimum: 1, maximum: 5_000 }),
  batchMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
  /** Batch transactions out at once, of trades and withdrawals whose keys do not meet. */
  inFlight: Type.Integer({ minimum: 1, maximum: 64 }),
  /**
   * How the devnet started with the exchange (endpoint empty) cuts blocks, as Fabric's orderer
   * settings BatchTimeout, MaxMessageCount and PreferredMaxBytes do: to run it on a real
   * network's block times. Each left out: the devnet's default. A peer's network cuts its own.
   */
  devnetBlocks: Type.Optional(
    Type.Object(
      {
        blockMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 60_000 })),
        blockSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
        /** At most Fabric's test network's AbsoluteMaxBytes (99 MB), which PreferredMaxBytes may not pass. */
        blockBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 99 * 1024 * 1024 })),
      },
      { additionalProperties: false },
    ),
  ),
};

/** What the Fabric connector of one venue takes: its venue and its settings. */
export type FabricNetworkConfig = Static<TObject<typeof FabricSettings>> & { venue: string };

/**
 * The default for a venue: a devnet started with the exchange, on a channel named after the
 * network, with the settlement chaincode and no private collection.
 */
export function defaultFabricConnector(venue = 'fabric:bank-net'): FabricNetworkConfig {
  const name = venue
    .slice('fabric:'.length)
    .toLowerCase()
    .replace(/[^a-z0-9.-]/g, '-');
  return {
    venue,
    channel: /^[a-z]/.test(name) ? name : `c${name}`,
    chaincode: 'mosaic-settlement',
    endpoint: '',
    tlsRootCert: '',
    operator: null,
    privateCollection: '',
    batchSize: 100,
    batchMs: 200,
    inFlight: 4,
  };
}
