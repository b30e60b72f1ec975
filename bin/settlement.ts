/**
 * The settlement connectors a configuration asks for, started on the exchange's recovered engine
 * (the composition `mosaic start` and the test harness share): the EVM connector and a Fabric
 * connector per configured network. If one fails to start, those started are stopped again.
 */
import { startEvmConnector } from '../connectors/evm/index.ts';
import { startFabricConnector } from '../connectors/fabric/index.ts';
import { type Config, DEMO_LISTINGS, type StartOptions } from '../gateway/index.ts';

type Connect = NonNullable<StartOptions['connect']>;

export function connectSettlement(config: Config): Connect {
  return async (exchange, log) => {
    const started: Awaited<ReturnType<Connect>> = [];
    const dataDir = config.dataDir;
    try {
      if (config.evm.enabled) {
        // What the venue lists now, and the demo listings about to be made: the local chain
        // deploys a token for each at its first start.
        const listed = exchange.instruments().map((id) => exchange.specOf(id)!);
        const instruments = [...listed, ...(config.demo.instruments ? DEMO_LISTINGS : [])];
        started.push(await startEvmConnector(config.evm, { dataDir, engine: exchange, instruments, log }));
      }
      for (const network of config.fabric.enabled ? config.fabric.networks : []) {
        const venue = config.venues[network.venue];
        // A permissioned venue's members that are MSPs (Ethereum addresses hold no Fabric assets).
        const members = venue?.permissioned === true ? venue.members.filter((m) => !m.startsWith('0x')) : [];
        started.push(await startFabricConnector(network, { dataDir, engine: exchange, members, log }));
      }
    } catch (err) {
      for (const c of started) await c.close();
      throw err;
    }
    return started;
  };
}
