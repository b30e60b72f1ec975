/**
 * connectors/fabric/chaincode/: the settlement chaincode (fabric-contract-api) and how it is
 * served (chaincode as a service). It runs as its own process (`main.ts`, started by
 * `../chaincode-process.ts`), so other folders take only the types of its answers from here:
 * fabric-shim stays out of theirs. The only door other folders use.
 */
export type { ChainTrade, ChainWithdrawal, Verdict, WithdrawalVerdict } from './contract.ts';
