/**
 * connectors/fabric/chaincode/: the settlement chaincode (fabric-contract-api) and how it is
 * served (chaincode as a service). The only door other folders use.
 */
export { type ChainTrade, SettlementContract, type Verdict } from './contract.ts';
export { type ChaincodeServer, serveChaincode } from './serve.ts';
