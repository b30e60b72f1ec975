/**
 * The EVM ledger kind: an EVM chain settles a venue through the Settlement escrow, its parties
 * named by Ethereum address. Registered in connectors/kinds.ts.
 */
import type { ConnectorSettings, LedgerKind, SettingProblem } from '../kind.ts';
import { defaultEvmConnector, EVM_VENUE, type EvmConnectorConfig, EvmSettings } from './config.ts';
import { startEvmConnector } from './connector.ts';

export const evmKind: LedgerKind = {
  name: 'evm',
  identity: 'evm',
  settings: EvmSettings,
  venuePattern: EVM_VENUE,
  defaults: (venue) => ({ kind: 'evm', enabled: true, ...defaultEvmConnector(venue) }),
  env: {
    MOSAIC_EVM_RPC_URL: { setting: 'rpcUrl', type: 'string' },
    MOSAIC_EVM_OPERATOR_KEY: { setting: 'operatorKey', type: 'string' },
    MOSAIC_EVM_ANVIL_PORT: { setting: 'anvilPort', type: 'integer' },
  },
  opsPort: 9400,
  problems,
  // The old form: one EVM connector in the section `evm`.
  legacy: { section: 'evm', entries: (section) => [{ at: '', entry: { ...section } }] },
  start: (settings, c) =>
    startEvmConnector(settings as unknown as EvmConnectorConfig, {
      dataDir: c.dataDir,
      engine: c.engine,
      instruments: c.instruments,
      log: c.log,
      ...(c.onFailure === undefined ? {} : { onFailure: c.onFailure }),
      ...(c.htlc === undefined ? {} : { htlc: c.htlc }),
    }),
};

/** A usable endpoint, and the contracts to use there (only the local anvil deploys its own). */
function problems(settings: ConnectorSettings): SettingProblem[] {
  const evm = settings as unknown as EvmConnectorConfig;
  if (evm.rpcUrl === '') return [];
  let url: URL | null = null;
  try {
    url = new URL(evm.rpcUrl);
  } catch {
    // reported below
  }
  if (url === null || !['http:', 'https:'].includes(url.protocol)) {
    return [{ at: '/rpcUrl', text: 'must be an http or https URL' }];
  }
  if (evm.contracts === null) {
    return [
      {
        at: '/contracts',
        text: 'must name the deployed contracts when rpcUrl is set (only the local anvil deploys its own)',
      },
    ];
  }
  return [];
}
