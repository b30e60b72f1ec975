/**
 * gateway/: how traders and people reach Mosaic. fastify + ws, one plugin per feature:
 * authenticated order entry and streaming market data on one WebSocket (`/ws`, see
 * docs/ws-protocol.md), REST under `/api`, `/health`, `/metrics`, OpenAPI at `/docs` and the live
 * dashboard at `/`. It holds no book state of its own: it reads the engine through the exchange
 * and sends it only commands that passed its checks. The only door other folders use.
 */
export { type Config, defaultConfig, loadConfig } from './config.ts';
export { DEMO_LISTINGS } from './demo.ts';
export { isGatewayError } from './errors.ts';
export { ClusterExchange } from './cluster-exchange.ts';
export { LocalExchange } from './exchange.ts';
export { type Gateway, serveExchange, startGateway, type StartOptions } from './gateway.ts';
