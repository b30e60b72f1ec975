/**
 * The bytes of an endorsed transaction as the endorser makes them: the `ProposalResponsePayload`
 * it signs (proposal hash; `ChaincodeAction`: read-write set, chaincode event, response,
 * chaincode id) and the transaction `Payload` the client signs (the proposal's header, data:
 * `Transaction{TransactionAction{signature header, ChaincodeActionPayload{proposal payload
 * without transient data, ChaincodeEndorsedAction{response payload, endorsements}}}}`).
 *
 * Every level is bytes, or a message of bytes whose length is known before it is written, so
 * `ProtoWriter` writes each once, in place; google-protobuf built an object per level and copied
 * everything below a level into it, the read-write set and the batch's arguments five times over.
 * The `...Reference` builders are google-protobuf's, byte for byte the same (the tests check it).
 */
import { common, peer } from '@hyperledger/fabric-protos';
import { ProtoWriter, varintSize } from './proto-writer.ts';

/** What the endorser signs: the proposal's hash and the chaincode's action. */
export interface ResponseParts {
  proposalHash: Uint8Array;
  /** The `TxReadWriteSet`. */
  results: Uint8Array;
  /** The serialized `ChaincodeEvent`; empty for none. */
  events: Uint8Array;
  response: peer.Response;
  chaincodeName: string;
}

/** What goes around the signed response payload into the transaction. */
export interface TransactionParts {
  /** The proposal's header (channel header, signature header). */
  header: common.Header;
  /** The `ChaincodeProposalPayload` without its transient map. */
  payloadForTx: Uint8Array;
  responsePayload: Uint8Array;
  /** The endorser's serialized identity and its signature over the response payload and it. */
  endorser: Uint8Array;
  signature: Uint8Array;
}

/** What a writer sized exactly needs beyond it: its checks make room for a varint's most bytes. */
const SLACK = 16;

/** A bytes field's size: none when empty (proto3 leaves it out). */
const bytesField = (length: number): number => (length === 0 ? 0 : 1 + varintSize(length) + length);
/** An embedded message's size (written even when empty, as a set message field is). */
const messageField = (length: number): number => 1 + varintSize(length) + length;

function writeBytes(w: ProtoWriter, field: number, bytes: Uint8Array): void {
  if (bytes.length > 0) w.bytes(field, bytes);
}

/** The `ProposalResponsePayload` (proposal_hash 1, extension 2: the `ChaincodeAction`). */
export function responsePayload(parts: ResponseParts): Uint8Array {
  const response = parts.response.serializeBinary();
  const chaincodeId = chaincodeIdOf(parts.chaincodeName).serializeBinary();
  // ChaincodeAction: results 1, events 2, response 3, chaincode_id 4
  const action =
    bytesField(parts.results.length) +
    bytesField(parts.events.length) +
    messageField(response.length) +
    messageField(chaincodeId.length);
  const w = new ProtoWriter(bytesField(parts.proposalHash.length) + messageField(action) + SLACK);
  writeBytes(w, 1, parts.proposalHash);
  w.delimited(2, action);
  writeBytes(w, 1, parts.results);
  writeBytes(w, 2, parts.events);
  w.bytes(3, response);
  w.bytes(4, chaincodeId);
  return w.finish();
}

/** The transaction's `Payload` (header 1, data 2: the `Transaction`). */
export function transactionPayload(parts: TransactionParts): Uint8Array {
  const channelHeader = parts.header.getChannelHeader_asU8();
  const signatureHeader = parts.header.getSignatureHeader_asU8();
  const header = bytesField(channelHeader.length) + bytesField(signatureHeader.length);
  const endorsement = bytesField(parts.endorser.length) + bytesField(parts.signature.length);
  // ChaincodeEndorsedAction: proposal_response_payload 1, endorsements 2
  const endorsed = bytesField(parts.responsePayload.length) + messageField(endorsement);
  // ChaincodeActionPayload: chaincode_proposal_payload 1, action 2
  const actionPayload = bytesField(parts.payloadForTx.length) + messageField(endorsed);
  // TransactionAction: header 1, payload 2; Transaction: actions 1
  const txAction = bytesField(signatureHeader.length) + bytesField(actionPayload);
  const transaction = messageField(txAction);
  const w = new ProtoWriter(messageField(header) + bytesField(transaction) + SLACK);
  w.delimited(1, header);
  writeBytes(w, 1, channelHeader);
  writeBytes(w, 2, signatureHeader);
  w.delimited(2, transaction);
  w.delimited(1, txAction);
  writeBytes(w, 1, signatureHeader);
  w.delimited(2, actionPayload);
  writeBytes(w, 1, parts.payloadForTx);
  w.delimited(2, endorsed);
  writeBytes(w, 1, parts.responsePayload);
  w.delimited(2, endorsement);
  writeBytes(w, 1, parts.endorser);
  writeBytes(w, 2, parts.signature);
  return w.finish();
}

function chaincodeIdOf(name: string): peer.ChaincodeID {
  const chaincodeId = new peer.ChaincodeID();
  chaincodeId.setName(name);
  return chaincodeId;
}

/** `responsePayload`, built with google-protobuf. */
export function responsePayloadReference(parts: ResponseParts): Uint8Array {
  const action = new peer.ChaincodeAction();
  action.setResults(parts.results);
  action.setEvents(parts.events);
  action.setResponse(parts.response);
  action.setChaincodeId(chaincodeIdOf(parts.chaincodeName));
  const payload = new peer.ProposalResponsePayload();
  payload.setProposalHash(parts.proposalHash);
  payload.setExtension$(action.serializeBinary());
  return payload.serializeBinary();
}

/** `transactionPayload`, built with google-protobuf. */
export function transactionPayloadReference(parts: TransactionParts): Uint8Array {
  const endorsement = new peer.Endorsement();
  endorsement.setEndorser(parts.endorser);
  endorsement.setSignature(parts.signature);
  const endorsed = new peer.ChaincodeEndorsedAction();
  endorsed.setProposalResponsePayload(parts.responsePayload);
  endorsed.setEndorsementsList([endorsement]);
  const actionPayload = new peer.ChaincodeActionPayload();
  actionPayload.setChaincodeProposalPayload(parts.payloadForTx);
  actionPayload.setAction(endorsed);
  const txAction = new peer.TransactionAction();
  txAction.setHeader(parts.header.getSignatureHeader_asU8());
  txAction.setPayload(actionPayload.serializeBinary());
  const transaction = new peer.Transaction();
  transaction.setActionsList([txAction]);
  const payload = new common.Payload();
  payload.setHeader(parts.header);
  payload.setData(transaction.serializeBinary());
  return payload.serializeBinary();
}
