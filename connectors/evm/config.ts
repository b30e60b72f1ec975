/**
 * The EVM connector's settings: which chain (an endpoint, or a local anvil started with the
 * exchange, the embedded default), the operator key that signs settlement batches, the deployed
 * contracts (deployed on the embedded chain when not given), and how batches go out.
 */
import Type, { type Static, type TObject } from 'typebox';
import { DEV_KEYS } from './anvil.ts';

const Address = Type.String({ pattern: '^0x[0-9a-fA-F]{40}$' });

/** The venues an EVM connector settles: `evm:<name>`, by custom the chain id. */
export const EVM_VENUE = '^evm:[A-Za-z0-9._-]{1,64}$';

/** An EVM connector's own settings (beside `kind`, `venue` and `enabled`). */
export const EvmSettings = {
  /** JSON-RPC endpoint; empty: start a local anvil with the exchange (state in the data folder). */
  rpcUrl: Type.String({ maxLength: 2048 }),
  /** The local anvil's port on 127.0.0.1 (0: any free port). */
  anvilPort: Type.Integer({ minimum: 0, maximum: 65_535 }),
  chainId: Type.Integer({ minimum: 1, maximum: 2 ** 53 - 1 }),
  /** Private key (hex) that signs settlement batches: the escrow's operator. */
  operatorKey: Type.String({ pattern: '^0x[0-9a-fA-F]{64}$' }),
  /** Deployed contracts; null on the local anvil: deployed at first start. */
  contracts: Type.Union([
    Type.Null(),
    Type.Object(
      {
        settlement: Address,
        registry: Address,
        /** Cash token per quote currency (the instrument's `quote`, e.g. USD). */
        cash: Type.Record(Type.String({ pattern: '^[A-Z0-9]{1,12}$' }), Address),
        /** Security token per symbol. */
        securities: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]{1,32}$' }), Address),
      },
      { additionalProperties: false },
    ),
  ]),
  /** Blocks, the transaction's own included, before a batch or a deposit counts. */
  confirmations: Type.Integer({ minimum: 1, maximum: 64 }),
  batchSize: Type.Integer({ minimum: 1, maximum: 2_000 }),
  batchMs: Type.Integer({ minimum: 1, maximum: 60_000 }),
  /** Batch transactions out at once, on consecutive nonces. */
  inFlight: Type.Integer({ minimum: 1, maximum: 64 }),
  /** Most a batch may pay per gas, gwei. */
  maxFeeGwei: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }),
  /** How long a batch transaction may wait unmined before it is replaced, if the base fee rose past what it offers, ms. */
  replaceAfterMs: Type.Integer({ minimum: 100, maximum: 3_600_000 }),
  /** How much more a replacement offers on each fee, percent: at least the node's replacement bump (geth: 10). */
  feeBumpPercent: Type.Integer({ minimum: 10, maximum: 1_000 }),
  /** How often to read the chain for deposits and registry changes, ms. */
  pollMs: Type.Integer({ minimum: 10, maximum: 600_000 }),
};

/** What the EVM connector takes: its venue and its settings. */
export type EvmConnectorConfig = Static<TObject<typeof EvmSettings>> & { venue: string };

/**
 * The default for a venue: a local anvil (on the chain the venue's name gives, 31337 for the
 * embedded `evm:31337`), contracts deployed on first start, and anvil's second well-known dev key
 * as operator. Those keys are public: never on a real chain.
 */
export function defaultEvmConnector(venue = 'evm:31337'): EvmConnectorConfig {
  const name = venue.slice('evm:'.length);
  const id = /^[1-9]\d{0,15}$/.test(name) ? Number(name) : 0;
  return {
    venue,
    rpcUrl: '',
    anvilPort: 0,
    chainId: Number.isSafeInteger(id) && id > 0 ? id : 31337,
    operatorKey: DEV_KEYS[1],
    contracts: null,
    confirmations: 1,
    batchSize: 100,
    batchMs: 200,
    inFlight: 4,
    maxFeeGwei: 100,
    replaceAfterMs: 30_000,
    feeBumpPercent: 10,
    pollMs: 250,
  };
}
