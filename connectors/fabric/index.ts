/**
 * connectors/fabric/: settlement on Hyperledger Fabric networks. The settlement chaincode
 * (`chaincode/`, run as its own process: `startChaincode`), a single-process peer speaking
 * Fabric's protocols for tests and the embedded default (`devnet/`), and the `Ledger`, the
 * change source and the view of the channel's blocks that settle and read through the
 * unmodified fabric-gateway client. The only door other folders use (fabric-shim stays out of
 * this process: see `chaincode-process.ts`).
 */
export type {
  ChainLeg,
  ChainTrade,
  LegRecord,
  LegVerdict,
  Verdict,
  WithdrawalVerdict,
} from 'mosaic-settlement-chaincode';
export { type ChaincodeProcess, startChaincode } from './chaincode-process.ts';
export { type FabricClient, fabricClient } from './client.ts';
export {
  blockHash,
  type Devnet,
  DEVNET_BLOCKS,
  type DevnetBlocks,
  type DevnetOptions,
  FABRIC_TEST_NETWORK_BLOCKS,
  issueMember,
  type KeyedCert,
  makeCa,
  makeIdentity,
  startDevnet,
} from './devnet/index.ts';
export { FabricBlocks } from './blocks-fabric.ts';
export { FabricChanges } from './changes-fabric.ts';
export { FabricLedger } from './ledger-fabric.ts';
export { type FabricConnector, startFabricConnector } from './connector.ts';
export { DEFAULT_NETWORKS, fabricKind } from './kind.ts';
