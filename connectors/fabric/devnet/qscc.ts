/**
 * The query system chaincode (`qscc`) of a Fabric peer, for evaluation: what the channel's
 * ledger holds. `GetChainInfo` (a `common.BlockchainInfo`: height, the hashes of the last block
 * and of the one before it), `GetBlockByNumber` (a `common.Block`) and `GetTransactionByID` (a
 * `peer.ProcessedTransaction`: the envelope and its validation code), each with the channel name
 * as its first argument; a block or transaction the ledger does not hold is a status 500 with
 * Fabric's message. The exchange reads it at start to see that a network still holds what the
 * exchange recorded of it.
 */
import { common, peer } from '@hyperledger/fabric-protos';
import type { Committer } from './committer.ts';

/** The name clients call it by. */
export const QSCC = 'qscc';

/** Answers one qscc call (`input`: function name, channel, argument) on the channel's ledger. */
export function queryLedger(
  committer: Committer,
  channel: string,
  input: peer.ChaincodeInput,
): peer.Response {
  const [fn = '', chain = '', arg = ''] = input
    .getArgsList_asU8()
    .map((a) => Buffer.from(a).toString('utf8'));
  if (chain !== channel) return response(500, `Invalid chain ID, ${chain}`);
  switch (fn) {
    case 'GetChainInfo': {
      const info = new common.BlockchainInfo();
      info.setHeight(committer.height);
      info.setCurrentblockhash(committer.lastHash);
      // The last block is always there (at least the genesis block).
      info.setPreviousblockhash(
        committer
          .block(committer.height - 1)!
          .getHeader()!
          .getPreviousHash_asU8(),
      );
      return response(200, '', info.serializeBinary());
    }
    case 'GetBlockByNumber': {
      const number = /^\d+$/.test(arg) ? Number(arg) : NaN;
      const block = Number.isSafeInteger(number) ? committer.block(number) : undefined;
      if (block === undefined)
        return response(
          500,
          `Failed to get block number ${arg}, error no such block number [${arg}] in index`,
        );
      return response(200, '', block.serializeBinary());
    }
    case 'GetTransactionByID': {
      const tx = committer.transaction(arg);
      if (tx === undefined)
        return response(
          500,
          `Failed to get transaction with id ${arg}, error no such transaction ID [${arg}] in index`,
        );
      const processed = new peer.ProcessedTransaction();
      processed.setTransactionenvelope(common.Envelope.deserializeBinary(tx.envelope));
      processed.setValidationcode(tx.code);
      return response(200, '', processed.serializeBinary());
    }
    default:
      return response(500, `Requested function ${fn} not found.`);
  }
}

function response(status: number, message: string, payload: Uint8Array = new Uint8Array()): peer.Response {
  const r = new peer.Response();
  r.setStatus(status);
  r.setMessage(message);
  r.setPayload(payload);
  return r;
}
