/**
 * The settlement connectors a configuration asks for: `connectSettlement` starts them on the
 * exchange's recovered engine in this process (what `mosaic start` and the test harness share);
 * `startEvm` and `startFabric` start one on any engine port (also a cluster shard's, for
 * `mosaic connector`). If one fails to start, those started are stopped again.
 */
import {
  type Connector,
  type EnginePort,
  type FabricNetworkConfig,
  localPort,
  startEvmConnector,
  startFabricConnector,
} from '../connectors/index.ts';
import { type Config, DEMO_LISTINGS, type StartOptions } from '../gateway/index.ts';

type Connect = NonNullable<StartOptions['connect']>;

export function connectSettlement(config: Config): Connect {
  return async (exchange, log) => {
    const started: Connector[] = [];
    const engine = localPort(exchange);
    try {
      if (config.evm.enabled) started.push(await startEvm(config, engine, log));
      for (const network of config.fabric.enabled ? config.fabric.networks : []) {
        started.push(await startFabric(config, network, engine, log));
      }
    } catch (err) {
      for (const c of started) await c.close();
      throw err;
    }
    return started;
  };
}

/** The EVM connector on `engine`. */
export function startEvm(
  config: Config,
  engine: EnginePort,
  log: (line: string) => void,
): Promise<Connector> {
  // What the venue lists now, and the demo listings about to be made: the local chain deploys a
  // token for each at its first start.
  const listed = engine.instruments().map((id) => engine.specOf(id)!);
  const instruments = [...listed, ...(config.demo.instruments ? DEMO_LISTINGS : [])];
  return startEvmConnector(config.evm, { dataDir: config.dataDir, engine, instruments, log });
}

/** The connector of one Fabric network on `engine`. */
export function startFabric(
  config: Config,
  network: FabricNetworkConfig,
  engine: EnginePort,
  log: (line: string) => void,
): Promise<Connector> {
  const venue = config.venues[network.venue];
  // A permissioned venue's members that are MSPs (Ethereum addresses hold no Fabric assets).
  const members = venue?.permissioned === true ? venue.members.filter((m) => !m.startsWith('0x')) : [];
  return startFabricConnector(network, { dataDir: config.dataDir, engine, members, log });
}
