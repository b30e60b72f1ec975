/**
 * fabric-shim's and fabric-contract-api's loggers (winston) format every line they are given, a
 * debug line as much as an error, before their transport drops it by level: about 0.6 ms of each
 * transaction's 2 ms in the chaincode, at the level the exchange runs it (WARNING). Imported
 * before either package's code runs (first in `main.ts` and `contract.ts`), this has every logger
 * their two `getLogger`s hand out skip, on the spot, the levels it is not set to write
 * (`CORE_CHAINCODE_LOGGING_LEVEL`, read when the logger is made, as before).
 */
import { createRequire } from 'node:module';

interface Logger {
  levels: Record<string, number>;
  isLevelEnabled(level: string): boolean;
  [level: string]: unknown;
}
type LoggerModule = { getLogger(name?: string): Logger };

const require = createRequire(import.meta.url);
const noop = (): void => undefined;

for (const path of ['fabric-shim/lib/logger.js', 'fabric-contract-api/lib/logger.js']) {
  const module = require(path) as LoggerModule;
  const getLogger = module.getLogger.bind(module);
  module.getLogger = (name?: string): Logger => {
    const logger = getLogger(name);
    for (const level of Object.keys(logger.levels)) {
      if (logger.isLevelEnabled(level)) delete logger[level];
      else logger[level] = noop;
    }
    return logger;
  };
}
