/**
 * A ledger kind: what the exchange needs to know of one kind of ledger to configure and run its
 * settlement connectors. The kinds are listed once, in `kinds.ts`; nothing outside connectors/
 * names a kind, so a new ledger is its folder and one line there (see docs/ledger-kinds.md).
 */
import type { TProperties } from 'typebox';
import type { Logger } from '../common/index.ts';
import type { InstrumentSpec } from '../engine/index.ts';
import type { Connector, EnginePort } from './daemon.ts';
import type { Htlc } from './legs.ts';

/**
 * How a party is named on a ledger, as the gateway's logins name it: an Ethereum address
 * (`evm`) or a Fabric MSP id with an X.509 certificate (`x509`).
 */
export type IdentityKind = 'evm' | 'x509';

/** One connector's settings as configured: its kind, its venue, whether it runs, and its kind's own. */
export interface ConnectorSettings {
  kind: string;
  /** The venue it settles: instruments `SYMBOL@<venue>`. */
  venue: string;
  /** Run it with the exchange (`MOSAIC_<KIND>=0` switches every connector of a kind off). */
  enabled: boolean;
  [setting: string]: unknown;
}

/** What a connector is started with, besides its settings. */
export interface StartContext {
  /** The exchange's data folder: the connector of `<kind>:<name>` keeps its own in `<kind>-<name>/` there. */
  dataDir: string;
  engine: EnginePort;
  /** The venue's instruments listed now and about to be listed (a new local chain deploys a token for each). */
  instruments: readonly Readonly<InstrumentSpec>[];
  /** The venue's members named the way this kind names parties (`identity`); empty on a public venue. */
  members: readonly string[];
  /** Where the connector logs (a pino child logger in `mosaic start`). */
  log: Logger;
  /** Told when its daemon stops on a failure no retry can get past (see `Daemon.failure`). */
  onFailure?: (err: Error) => void;
  /** The hash time-locks of cross-ledger trades (none: the daemon leaves their legs alone). */
  htlc?: Htlc;
}

/** A problem with a setting: a JSON pointer under the connector's entry (`/rpcUrl`), and what is wrong. */
export interface SettingProblem {
  at: string;
  text: string;
}

export interface LedgerKind {
  /** Its name: `kind` in the configuration, `mosaic connector <name>`, `MOSAIC_<NAME>=0`. */
  readonly name: string;
  /** How its ledger names the parties that hold assets there. */
  readonly identity: IdentityKind;
  /** Its own settings (beside `kind`, `venue` and `enabled`), as TypeBox properties. */
  readonly settings: TProperties;
  /** Pattern of the venues it settles (`^evm:...`). */
  readonly venuePattern: string;
  /** Every setting of a connector settling `venue` (the default venue when none is given). */
  defaults(venue?: string): ConnectorSettings;
  /** Environment variables that override a setting of every connector of this kind. */
  readonly env: Readonly<Record<string, { setting: string; type: 'string' | 'integer' }>>;
  /** Operations port of `mosaic connector <name>` when `--port` is not given. */
  readonly opsPort: number;
  /** What its schema cannot say: problems with valid-looking settings. */
  problems?(settings: ConnectorSettings): SettingProblem[];
  /**
   * The settings as the connector takes them: settings that may name a file (PEMs) read with
   * `read(textOrPath, at)`, which throws naming the setting.
   */
  resolve?(settings: ConnectorSettings, read: (textOrPath: string, at: string) => string): ConnectorSettings;
  /**
   * The configuration's old form for this kind (a top-level section, before `connectors`), read
   * with a deprecation warning into connector entries.
   */
  readonly legacy?: {
    section: string;
    /** Each entry, and where in the section it was written (a JSON pointer, '' for the section itself). */
    entries(section: Record<string, unknown>): Array<{ at: string; entry: Record<string, unknown> }>;
  };
  /** Starts a connector on a recovered engine, before the engine takes new commands. */
  start(settings: ConnectorSettings, context: StartContext): Promise<Connector>;
}
