/**
 * connectors/evm/: settlement on EVM chains. The contracts (an ERC-3643-style security token
 * with its identity registry, a cash token and the Settlement escrow), their offline compile with
 * solc-js, a local anvil for tests and the embedded default, a deploy script, the `Ledger` that
 * settles batches through the escrow (packed call data, durable nonces), the chain's changes
 * for the engine, and the connector that runs it all with the exchange (with a demo faucet on the
 * local chain). The only door other folders use.
 */
export { Anvil, type AnvilOptions, ANVIL_CHAIN_ID, DEV_KEYS, localProvider } from './anvil.ts';
export { type Artifacts, compileContracts, CONTRACTS, type ContractName } from './compile.ts';
export {
  call,
  type Deployment,
  deploy,
  type DeployOptions,
  fundInvestors,
  type InvestorFunding,
  send,
} from './deploy.ts';
export { evmBlocks, EvmChanges, type EvmChangesOptions, type EvmTokenAsset } from './changes-evm.ts';
export { type BatchGas, type EvmAsset, EvmLedger, type EvmLedgerOptions } from './ledger-evm.ts';
export { type BatchTx, NonceStore } from './nonces.ts';
export { packTrades, type PackedTrade, settlePackedCalldata } from './packed.ts';
export { defaultEvmConnector, type EvmConnectorConfig, EvmConnectorSchema } from './config.ts';
export { type EvmConnector, type EvmConnectorOptions, FAUCET_GRANT, startEvmConnector } from './connector.ts';
export { Faucet } from './faucet.ts';
