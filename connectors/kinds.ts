/**
 * The ledger kinds the exchange settles on, and the ledgers it runs by default. A new kind is a
 * folder under connectors/ that exports a `LedgerKind`, and one line here.
 */
import { evmKind } from './evm/index.ts';
import { DEFAULT_NETWORKS, fabricKind } from './fabric/index.ts';
import type { ConnectorSettings, LedgerKind } from './kind.ts';

export const LEDGER_KINDS: readonly LedgerKind[] = [evmKind, fabricKind];

/** The kind named `name`, or undefined. */
export function ledgerKind(name: unknown): LedgerKind | undefined {
  return LEDGER_KINDS.find((k) => k.name === name);
}

/** The embedded default: the demo venues' ledgers, a local anvil and a devnet per Fabric venue. */
export function defaultConnectors(): ConnectorSettings[] {
  return [evmKind.defaults(), ...DEFAULT_NETWORKS.map((n) => ({ ...fabricKind.defaults(n.venue), ...n }))];
}
