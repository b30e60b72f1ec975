/**
 * gateway/: how traders and people reach Mosaic. fastify + ws, one plugin per feature:
 * authenticated order entry and streaming market data on one WebSocket (`/ws`, see
 * docs/ws-protocol.md), REST under `/api`, `/health`, `/metrics`, OpenAPI at `/docs` and the live
 * dashboard at `/`. It holds no book state of its own: it reads the engine through an `Exchange`
 * (made by app/: the embedded engine, or a cluster's shards) and sends it only commands that
 * passed its checks. The only door other folders use.
 */
export { defaultGatewayConfig, type GatewayConfig, GatewaySettings } from './config.ts';
export { isGatewayError, makeError } from './errors.ts';
export { MEMBER } from './config.ts';
export {
  type AccountSeed,
  type AccountSubscriber,
  canSeeVenue,
  Codecs,
  type CommandRef,
  type Exchange,
  type ExchangeSubscriber,
  type ExchangeView,
  type IdentityDirectory,
  type Submitted,
} from './exchange.ts';
export { type Gateway, makeApp, serveExchange } from './gateway.ts';
export type { InstrumentCodec } from './instrument-codec.ts';
export { shown } from './wire.ts';
export { Settlements } from './settlements.ts';
export type { LoginScheme, VenueLedger } from './venue-access.ts';
export { Withdrawals } from './withdrawals.ts';
export type { BookSeed, MarketSource } from './feed/index.ts';
