/**
 * The Fabric ledger kind: a Fabric network settles a venue through the settlement chaincode, its
 * parties named by MSP id (X.509 identities). Registered in connectors/kinds.ts.
 */
import type { ConnectorSettings, LedgerKind, SettingProblem } from '../kind.ts';
import { defaultFabricConnector, FABRIC_VENUE, type FabricNetworkConfig, FabricSettings } from './config.ts';
import { startFabricConnector } from './connector.ts';

export const fabricKind: LedgerKind = {
  name: 'fabric',
  identity: 'x509',
  settings: FabricSettings,
  venuePattern: FABRIC_VENUE,
  defaults: (venue) => ({ kind: 'fabric', enabled: true, ...defaultFabricConnector(venue) }),
  env: {},
  opsPort: 9401,
  problems(settings) {
    const problems: SettingProblem[] = [];
    const devnet = settings.endpoint === '';
    if (!devnet && settings.operator === null) {
      problems.push({
        at: '/operator',
        text: 'must name the identity that settles when endpoint is set (null only on the devnet)',
      });
    }
    if (devnet && settings.operator !== null) {
      problems.push({
        at: '/operator',
        text: 'must be null on the devnet (endpoint empty): the devnet makes its own operator',
      });
    }
    if (!devnet && settings.devnetBlocks !== undefined) {
      problems.push({
        at: '/devnetBlocks',
        text: "is for a devnet started with the exchange (endpoint empty): a peer's network cuts blocks as its orderer is configured",
      });
    }
    return problems;
  },
  // PEMs may be given as paths: read once, here.
  resolve(settings, read) {
    const n = settings as unknown as FabricNetworkConfig;
    const operator =
      n.operator === null
        ? null
        : {
            mspId: n.operator.mspId,
            certificate: read(n.operator.certificate, '/operator/certificate'),
            privateKey: read(n.operator.privateKey, '/operator/privateKey'),
          };
    const tlsRootCert = n.tlsRootCert === '' ? '' : read(n.tlsRootCert, '/tlsRootCert');
    return { ...settings, operator, tlsRootCert };
  },
  // The old form: `fabric: { enabled, networks: [...] }`, a network per venue.
  legacy: {
    section: 'fabric',
    entries(section) {
      const enabled = section.enabled ?? true;
      if (!Array.isArray(section.networks)) {
        return DEFAULT_NETWORKS.map((n) => ({ at: '', entry: { enabled, ...n } }));
      }
      return (section.networks as unknown[]).map((n, i) => ({
        at: `/networks/${i}`,
        entry: { enabled, ...(n as Record<string, unknown>) },
      }));
    },
  },
  start: (settings: ConnectorSettings, c) =>
    startFabricConnector(settings as unknown as FabricNetworkConfig, {
      dataDir: c.dataDir,
      engine: c.engine,
      members: c.members,
      log: c.log,
      ...(c.onFailure === undefined ? {} : { onFailure: c.onFailure }),
      ...(c.htlc === undefined ? {} : { htlc: c.htlc }),
    }),
};

/** The embedded default's networks: the demo venues, the permissioned one keeping trade details with its members. */
export const DEFAULT_NETWORKS: readonly Readonly<FabricNetworkConfig>[] = [
  defaultFabricConnector('fabric:bank-net'),
  { ...defaultFabricConnector('fabric:club-net'), privateCollection: 'clubTrades' },
];
