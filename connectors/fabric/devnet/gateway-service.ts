/**
 * The `gateway.Gateway` gRPC service the fabric-gateway client calls: Evaluate and Endorse run a
 * checked proposal on its chaincode (Evaluate also on the query system chaincode, `qscc`); Submit checks the client's signature over the prepared
 * transaction and queues it for ordering; CommitStatus waits until the transaction is committed;
 * ChaincodeEvents streams a chaincode's events of valid transactions, block by block, from a
 * given block (replayed from memory, skipping through `after_transaction_id` in that block) or
 * from the next commit. Signed requests are checked before anything else.
 */
import { status, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import { common, gateway, type peer } from '@hyperledger/fabric-protos';
import type { CommittedBlock, Committer } from './committer.ts';
import { Endorser } from './endorser.ts';
import { DevnetError, check, toServiceError } from './errors.ts';
import type { MspRegistry } from './identity.ts';
import { checkHeader, checkProposal } from './proposal.ts';
import { QSCC, queryLedger } from './qscc.ts';

/** What the service works with. */
export interface GatewayContext {
  channel: string;
  msps: MspRegistry;
  endorser: Endorser;
  committer: Committer;
  /** For error details: this peer's address and MSP id. */
  address: () => string;
  peerMspId: string;
}

type Unary<Req, Res> = (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => void;

/** The service implementation for `server.addService(gateway.GatewayService, ...)`. */
export function gatewayService(ctx: GatewayContext): gateway.IGatewayServer {
  const unary =
    <Req, Res>(handle: (request: Req) => Promise<Res>): Unary<Req, Res> =>
    (call, callback) => {
      handle(call.request).then(
        (response) => callback(null, response),
        (err: unknown) => callback(toServiceError(err, ctx.address(), ctx.peerMspId)),
      );
    };

  const checkSigned = (request: Uint8Array, signature: Uint8Array, identity: Uint8Array): void => {
    const creator = ctx.msps.creator(identity);
    check(signature.length > 0, status.PERMISSION_DENIED, 'request is not signed');
    ctx.msps.checkSignature(creator, request, signature);
  };

  const checkChannel = (channel: string): void =>
    check(
      channel === ctx.channel,
      status.NOT_FOUND,
      `channel "${channel}" is not served here; the devnet serves "${ctx.channel}"`,
    );

  /** The checked proposal of an Evaluate or Endorse request, on this channel. */
  const proposalOf = (request: gateway.EvaluateRequest | gateway.EndorseRequest) => {
    checkChannel(request.getChannelId());
    return checkProposal(request.getProposedTransaction(), request.getTransactionId(), ctx.channel, ctx.msps);
  };

  return {
    evaluate: unary(async (request: gateway.EvaluateRequest) => {
      const proposal = proposalOf(request);
      const response =
        proposal.chaincodeName === QSCC
          ? queryLedger(ctx.committer, ctx.channel, proposal.input)
          : (await ctx.endorser.simulate(proposal)).response;
      Endorser.checkResponse(response, 'evaluate', proposal.chaincodeName);
      const result = new gateway.EvaluateResponse();
      result.setResult(response);
      return result;
    }),

    endorse: unary(async (request: gateway.EndorseRequest) => {
      const proposal = proposalOf(request);
      // As Fabric's endorser: the gateway reports it as an endorsement failure with the detail.
      if (ctx.committer.isCommitted(proposal.txId)) {
        throw new DevnetError(
          status.ABORTED,
          'failed to endorse transaction, see attached details for more info',
          [`duplicate transaction found [${proposal.txId}]`],
        );
      }
      const simulation = await ctx.endorser.simulate(proposal);
      Endorser.checkResponse(simulation.response, 'endorse', proposal.chaincodeName);
      const result = new gateway.EndorseResponse();
      result.setPreparedTransaction(ctx.endorser.endorse(proposal, simulation));
      return result;
    }),

    submit: unary(async (request: gateway.SubmitRequest) => {
      checkChannel(request.getChannelId());
      const envelope = request.getPreparedTransaction();
      check(envelope !== undefined, status.INVALID_ARGUMENT, 'missing prepared transaction');
      let payload: common.Payload;
      try {
        payload = common.Payload.deserializeBinary(envelope.getPayload_asU8());
      } catch (err) {
        throw new DevnetError(status.INVALID_ARGUMENT, 'prepared transaction payload cannot be parsed', [], {
          cause: err,
        });
      }
      const { txId } = checkHeader(
        payload.getHeader(),
        envelope.getPayload_asU8(),
        envelope.getSignature_asU8(),
        ctx.channel,
        ctx.msps,
      );
      check(
        request.getTransactionId() === '' || request.getTransactionId() === txId,
        status.INVALID_ARGUMENT,
        `request transaction id ${request.getTransactionId()} differs from the envelope's ${txId}`,
      );
      ctx.committer.submit(txId, envelope.serializeBinary());
      return new gateway.SubmitResponse();
    }),

    commitStatus: unary(async (signed: gateway.SignedCommitStatusRequest) => {
      const request = gateway.CommitStatusRequest.deserializeBinary(signed.getRequest_asU8());
      checkSigned(signed.getRequest_asU8(), signed.getSignature_asU8(), request.getIdentity_asU8());
      checkChannel(request.getChannelId());
      const txStatus = await ctx.committer.status(request.getTransactionId());
      const response = new gateway.CommitStatusResponse();
      response.setResult(txStatus.code);
      response.setBlockNumber(txStatus.block);
      return response;
    }),

    chaincodeEvents: (
      call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>,
    ) => {
      try {
        streamEvents(ctx, call, checkSigned, checkChannel);
      } catch (err) {
        call.emit('error', toServiceError(err, ctx.address(), ctx.peerMspId));
      }
    },
  };
}

function streamEvents(
  ctx: GatewayContext,
  call: ServerWritableStream<gateway.SignedChaincodeEventsRequest, gateway.ChaincodeEventsResponse>,
  checkSigned: (request: Uint8Array, signature: Uint8Array, identity: Uint8Array) => void,
  checkChannel: (channel: string) => void,
): void {
  const signed = call.request;
  const request = gateway.ChaincodeEventsRequest.deserializeBinary(signed.getRequest_asU8());
  checkSigned(signed.getRequest_asU8(), signed.getSignature_asU8(), request.getIdentity_asU8());
  checkChannel(request.getChannelId());
  const chaincode = request.getChaincodeId();
  const start = request.getStartPosition();
  const from = start?.hasSpecified() ? (start.getSpecified()?.getNumber() ?? 0) : ctx.committer.height;
  const afterTxId = request.getAfterTransactionId();

  const send = (block: CommittedBlock): void => {
    if (block.number < from) return;
    let txs = block.txs;
    if (block.number === from && afterTxId !== '') {
      // A checkpoint: resume after the transaction it names, when that is in the start block.
      const at = txs.findIndex((tx) => tx.txId === afterTxId);
      if (at >= 0) txs = txs.slice(at + 1);
    }
    const events: peer.ChaincodeEvent[] = [];
    for (const tx of txs) {
      if (tx.event !== undefined && tx.event.getChaincodeId() === chaincode) events.push(tx.event);
    }
    if (events.length === 0) return;
    const response = new gateway.ChaincodeEventsResponse();
    response.setBlockNumber(block.number);
    response.setEventsList(events);
    call.write(response);
  };
  // Replay and subscribe in one synchronous step, so no block falls between them.
  for (const block of ctx.committer.blocksFrom(from)) send(block);
  const unsubscribe = ctx.committer.onBlock(send);
  call.on('cancelled', unsubscribe);
  call.on('close', unsubscribe);
}
