/**
 * connectors/fabric/chaincode/: the settlement chaincode (fabric-contract-api) and how it is
 * served (chaincode as a service). The only door other folders use.
 */
export {
  type Admins,
  type ChainTrade,
  type ChainWithdrawal,
  parseAdmins,
  SettlementContract,
  type Verdict,
  type WithdrawalVerdict,
} from './contract.ts';
export { type ChaincodeServer, serveChaincode } from './serve.ts';
