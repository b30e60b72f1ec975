/**
 * connectors/fabric/chaincode/: the settlement chaincode (fabric-contract-api) and how it is
 * served (chaincode as a service), its own package (`mosaic-settlement-chaincode`, an npm
 * workspace with its own dependencies, fabric-shim, fabric-contract-api and @grpc/grpc-js, which
 * stay out of the exchange's). It runs as its own process (`main.ts`, the package's `./main`, started by
 * `../chaincode-process.ts`), so the exchange takes only the types of its answers from here (the
 * package's `.`), and how many trade ids a verdict key holds: the only door other folders use.
 */
export { VERDICTS_PER_KEY } from './layout.ts';
export type {
  ChainLeg,
  ChainTrade,
  ChainWithdrawal,
  LegRecord,
  LegVerdict,
  Verdict,
  WithdrawalVerdict,
} from './contract.ts';
