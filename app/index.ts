/**
 * app/: the one place that wires the parts into processes. `mosaic start` (the whole exchange in
 * one process: the durable engine, its settlement connectors, the gateway, the demo), and the
 * processes of a cluster on NATS JetStream (`mosaic engine|gateway|connector`, and the local
 * cluster `mosaic start` runs with `cluster.enabled`). It reads the configuration of all of them.
 * Only bin/ uses it: the gateway, engine, journal, connectors and cluster know nothing of it.
 */
export { type Config, defaultConfig, loadConfig } from './config.ts';
export { CONNECTOR_USAGE, runConnector } from './connector-process.ts';
export { DEMO_LISTINGS } from './demo.ts';
export { DEMO_MSP, demoIdentity } from './demo-investors.ts';
export { type Embedded, startExchange, type StartOptions } from './embedded.ts';
export { ENGINE_USAGE, runEngine } from './engine-process.ts';
export { GATEWAY_USAGE, runGateway } from './gateway-process.ts';
export { type LocalCluster, startLocalCluster } from './local-cluster.ts';
export { LocalExchange } from './local-exchange.ts';
export { StartError } from './process.ts';
export { connectSettlement } from './settlement.ts';
