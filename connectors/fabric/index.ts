/**
 * connectors/fabric/: settlement on Hyperledger Fabric networks. The settlement chaincode
 * (`chaincode/`, run as its own process: `startChaincode`), a single-process peer speaking
 * Fabric's protocols for tests and the embedded default (`devnet/`), and the `Ledger` and change
 * source that settle through the unmodified fabric-gateway client. The only door other folders
 * use (fabric-shim stays out of this process: see `chaincode-process.ts`).
 */
export type { ChainTrade, ChainWithdrawal, Verdict, WithdrawalVerdict } from './chaincode/index.ts';
export { type ChaincodeProcess, startChaincode } from './chaincode-process.ts';
export { type FabricClient, fabricClient, type FabricIdentity } from './client.ts';
export { type Devnet, type DevnetOptions, makeIdentity, startDevnet } from './devnet/index.ts';
export { FabricChanges, type FabricChangesOptions } from './changes-fabric.ts';
export { type FabricAsset, FabricLedger, type FabricLedgerOptions } from './ledger-fabric.ts';
export {
  defaultFabricConnector,
  type FabricConnectorConfig,
  FabricConnectorSchema,
  type FabricNetworkConfig,
} from './config.ts';
export { type FabricConnector, type FabricConnectorOptions, startFabricConnector } from './connector.ts';
