/**
 * The settlement connectors a configuration asks for, started on the exchange's recovered engine
 * (the composition `mosaic start` and the test harness share). Today: the EVM connector.
 */
import { startEvmConnector } from '../connectors/evm/index.ts';
import { type Config, DEMO_LISTINGS, type StartOptions } from '../gateway/index.ts';

export function connectSettlement(config: Config): NonNullable<StartOptions['connect']> {
  return async (exchange, log) => {
    if (!config.evm.enabled) return [];
    // What the venue lists now, and the demo listings about to be made: the local chain deploys
    // a token for each at its first start.
    const listed = exchange.engine.instruments().map((id) => exchange.specOf(id)!);
    const instruments = [...listed, ...(config.demo.instruments ? DEMO_LISTINGS : [])];
    return [
      await startEvmConnector(config.evm, { dataDir: config.dataDir, engine: exchange, instruments, log }),
    ];
  };
}
