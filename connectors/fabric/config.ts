/**
 * The Fabric connector's settings: per venue, which network (a peer's gateway endpoint, or a
 * devnet started with the exchange, the embedded default), the channel and chaincode, the
 * operator identity that settles, and how batches go out.
 */
import Type, { type Static } from 'typebox';

export const FabricNetworkSchema = Type.Object(
  {
    /** The venue it settles: instruments `SYMBOL@<venue>`. */
    venue: Type.String({ pattern: '^fabric:[A-Za-z0-9._-]{1,64}$' }),
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
    batchSize: Type.Integer({ minimum: 1, maximum: 1_000 }),
    batchMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
  },
  { additionalProperties: false },
);

export const FabricConnectorSchema = Type.Object(
  {
    /** Run the connectors (settlement, issuance, standing) with the exchange. */
    enabled: Type.Boolean(),
    networks: Type.Array(FabricNetworkSchema, { maxItems: 64 }),
  },
  { additionalProperties: false },
);

export type FabricNetworkConfig = Static<typeof FabricNetworkSchema>;
export type FabricConnectorConfig = Static<typeof FabricConnectorSchema>;

/** The embedded default: a devnet per demo venue, each with the settlement chaincode. */
export function defaultFabricConnector(): FabricConnectorConfig {
  const network = (name: string, privateCollection = ''): FabricNetworkConfig => ({
    venue: `fabric:${name}`,
    channel: name,
    chaincode: 'mosaic-settlement',
    endpoint: '',
    tlsRootCert: '',
    operator: null,
    privateCollection,
    batchSize: 100,
    batchMs: 200,
  });
  // The permissioned demo venue keeps its trade details with its members.
  return { enabled: true, networks: [network('bank-net'), network('club-net', 'clubTrades')] };
}
