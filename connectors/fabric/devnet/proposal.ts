/**
 * Reading and checking what clients sign: a proposal's or a transaction's `common.Header`
 * (channel header with the channel name and transaction id, signature header with the creator
 * and nonce) and the chaincode invocation inside a proposal. The transaction id must be
 * hex(sha256(nonce + creator)), as Fabric's protoutil computes it.
 */
import { createHash } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { common, peer } from '@hyperledger/fabric-protos';
import { DevnetError, check } from './errors.ts';
import type { Creator, MspRegistry } from './identity.ts';

/** A header whose creator, signature, channel and transaction id have been checked. */
export interface CheckedHeader {
  header: common.Header;
  channelHeader: common.ChannelHeader;
  signatureHeader: common.SignatureHeader;
  creator: Creator;
  txId: string;
}

/** A checked proposal and the chaincode call it makes. */
export interface CheckedProposal extends CheckedHeader {
  signed: peer.SignedProposal;
  chaincodeName: string;
  input: peer.ChaincodeInput;
  /** The ChaincodeProposalPayload without its transient map: what goes into the transaction. */
  payloadForTx: Uint8Array;
  /** sha256(channel header + signature header + payloadForTx): the proposal hash endorsers sign. */
  proposalHash: Uint8Array;
}

function parse<T>(what: string, decode: () => T): T {
  try {
    return decode();
  } catch (err) {
    throw new DevnetError(status.INVALID_ARGUMENT, `${what} cannot be parsed`, [], { cause: err });
  }
}

/** hex(sha256(nonce + creator)). */
export function transactionId(nonce: Uint8Array, creator: Uint8Array): string {
  return createHash('sha256').update(nonce).update(creator).digest('hex');
}

/** Checks a header and the signature over `signedBytes` by its creator. */
export function checkHeader(
  header: common.Header | undefined,
  signedBytes: Uint8Array,
  signature: Uint8Array,
  channel: string,
  msps: MspRegistry,
): CheckedHeader {
  check(header !== undefined, status.INVALID_ARGUMENT, 'missing header');
  const channelHeader = parse('channel header', () =>
    common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8()),
  );
  const signatureHeader = parse('signature header', () =>
    common.SignatureHeader.deserializeBinary(header.getSignatureHeader_asU8()),
  );
  check(
    channelHeader.getType() === common.HeaderType.ENDORSER_TRANSACTION,
    status.INVALID_ARGUMENT,
    `header type ${channelHeader.getType()} is not ENDORSER_TRANSACTION (3)`,
  );
  check(
    channelHeader.getChannelId() === channel,
    status.NOT_FOUND,
    `channel "${channelHeader.getChannelId()}" is not served here; the devnet serves "${channel}"`,
  );
  const creator = msps.creator(signatureHeader.getCreator_asU8());
  check(signature.length > 0, status.PERMISSION_DENIED, 'request is not signed');
  msps.checkSignature(creator, signedBytes, signature);
  const txId = channelHeader.getTxId();
  const expected = transactionId(signatureHeader.getNonce_asU8(), signatureHeader.getCreator_asU8());
  check(
    txId === expected,
    status.INVALID_ARGUMENT,
    `transaction id ${txId} is not hex(sha256(nonce + creator)) = ${expected}`,
  );
  return { header, channelHeader, signatureHeader, creator, txId };
}

/** Checks a signed proposal (creator, signature, channel, transaction id) and reads its call. */
export function checkProposal(
  signed: peer.SignedProposal | undefined,
  requestTxId: string,
  channel: string,
  msps: MspRegistry,
): CheckedProposal {
  check(signed !== undefined, status.INVALID_ARGUMENT, 'missing signed proposal');
  const proposal = parse('proposal', () => peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8()));
  const header = parse('proposal header', () => common.Header.deserializeBinary(proposal.getHeader_asU8()));
  const checked = checkHeader(
    header,
    signed.getProposalBytes_asU8(),
    signed.getSignature_asU8(),
    channel,
    msps,
  );
  check(
    requestTxId === '' || requestTxId === checked.txId,
    status.INVALID_ARGUMENT,
    `request transaction id ${requestTxId} differs from the proposal's ${checked.txId}`,
  );
  const payload = parse('chaincode proposal payload', () =>
    peer.ChaincodeProposalPayload.deserializeBinary(proposal.getPayload_asU8()),
  );
  const spec = parse('chaincode invocation spec', () =>
    peer.ChaincodeInvocationSpec.deserializeBinary(payload.getInput_asU8()),
  ).getChaincodeSpec();
  const input = spec?.getInput();
  check(input !== undefined, status.INVALID_ARGUMENT, 'proposal has no chaincode input');
  const extension = parse('chaincode header extension', () =>
    peer.ChaincodeHeaderExtension.deserializeBinary(checked.channelHeader.getExtension_asU8()),
  );
  const chaincodeName = extension.getChaincodeId()?.getName() || spec?.getChaincodeId()?.getName() || '';
  check(chaincodeName !== '', status.INVALID_ARGUMENT, 'proposal names no chaincode');

  const forTx = new peer.ChaincodeProposalPayload();
  forTx.setInput(payload.getInput_asU8());
  const payloadForTx = forTx.serializeBinary();
  return {
    ...checked,
    signed,
    chaincodeName,
    input,
    payloadForTx,
    proposalHash: proposalHash(header, payloadForTx),
  };
}

/** sha256(channel header + signature header + chaincode proposal payload without transient data). */
export function proposalHash(header: common.Header, payloadForTx: Uint8Array): Uint8Array {
  return createHash('sha256')
    .update(header.getChannelHeader_asU8())
    .update(header.getSignatureHeader_asU8())
    .update(payloadForTx)
    .digest();
}
