/**
 * connectors/evm/: settlement on EVM chains. The contracts (an ERC-3643-style security token
 * with its identity registry, a cash token and the Settlement escrow), their offline compile with
 * solc-js, a local anvil for tests and the embedded default, a deploy script, the `Ledger` that
 * settles batches through the escrow (packed call data, durable nonces), the chain's changes
 * for the engine, and the connector that runs it all with the exchange (with a demo faucet on the
 * local chain). The only door other folders use.
 */
export { Anvil, DEV_KEYS } from './anvil.ts';
export { type Artifacts, compileContracts } from './compile.ts';
export { call, type Deployment, deploy, fundInvestors, send } from './deploy.ts';
export { evmBlocks, EvmChanges } from './changes-evm.ts';
export { type EvmAsset, EvmLedger, type EvmLedgerOptions } from './ledger-evm.ts';
export { NonceStore } from './nonces.ts';
export { packTrades, type PackedTrade, settlePackedCalldata } from './packed.ts';
export { type EvmConnector, startEvmConnector } from './connector.ts';
export { evmKind } from './kind.ts';
