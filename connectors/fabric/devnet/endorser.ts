/**
 * Endorsement: a checked proposal runs on its chaincode against a fresh simulator; the result is
 * a `ProposalResponse` signed by the devnet peer (its ProposalResponsePayload holds the proposal
 * hash and a `ChaincodeAction`: read-write set, chaincode event, response, chaincode id) and the
 * transaction envelope the gateway client signs and submits: `Payload{header: the proposal's
 * header, data: Transaction{ChaincodeActionPayload{proposal payload without transient data,
 * ChaincodeEndorsedAction{response payload, endorsements}}}}` (their bytes: `endorsed-tx.ts`).
 *
 * Private data stays out of both: the read-write set carries its hashes, and the private
 * read-write set of an endorsed proposal goes to the transient store, keyed by transaction id,
 * where the committer takes it (Fabric's endorser hands it to gossip and its transient store).
 * An evaluation keeps nothing.
 *
 * An endorsement is also kept by transaction id with the read-write sets the simulator built
 * (`Endorsements`), so the committer need not read them back from a submitted envelope that
 * carries the very response payload signed here.
 */
import { status } from '@grpc/grpc-js';
import { common, type peer } from '@hyperledger/fabric-protos';
import { responsePayload, transactionPayload } from './endorsed-tx.ts';
import { DevnetError } from './errors.ts';
import type { ChaincodeLink } from './chaincode-link.ts';
import type { SigningIdentity } from './identity.ts';
import type { CheckedProposal } from './proposal.ts';
import { TxSimulator } from './simulator.ts';
import type { WorldState } from './state.ts';
import type { Endorsements, NamespaceRwSet } from './transaction.ts';
import type { TransientStore } from './transient-store.ts';

/** Fabric's threshold: a chaincode status at or above 400 is an error. */
const ERROR_THRESHOLD = 400;

/** What simulating a proposal produced. */
export interface Simulation {
  response: peer.Response;
  event: peer.ChaincodeEvent | undefined;
  readWriteSet: Uint8Array;
  /** What reading `readWriteSet` back gives (undefined: only the bytes say it). */
  rwSets: NamespaceRwSet[] | undefined;
  /** The private read-write set (`TxPvtReadWriteSet`), if the chaincode wrote private data. */
  privateData: Uint8Array | undefined;
}

/** Runs proposals on chaincodes and signs the results as the devnet peer. */
export class Endorser {
  readonly #state: WorldState;
  readonly #links: ReadonlyMap<string, ChaincodeLink>;
  readonly #identity: SigningIdentity;
  readonly #transient: TransientStore;
  readonly #endorsements: Endorsements;
  readonly #height: () => number;

  constructor(
    state: WorldState,
    links: ReadonlyMap<string, ChaincodeLink>,
    identity: SigningIdentity,
    transient: TransientStore,
    endorsements: Endorsements,
    height: () => number,
  ) {
    this.#state = state;
    this.#links = links;
    this.#identity = identity;
    this.#transient = transient;
    this.#endorsements = endorsements;
    this.#height = height;
  }

  /** Runs the proposal on its chaincode (simulation only; nothing is committed). */
  async simulate(proposal: CheckedProposal): Promise<Simulation> {
    const link = this.#links.get(proposal.chaincodeName);
    if (link === undefined) {
      throw new DevnetError(
        status.NOT_FOUND,
        `chaincode "${proposal.chaincodeName}" is not defined on the devnet`,
      );
    }
    const simulator = new TxSimulator(this.#state);
    const { response, event } = await link.execute({
      channel: proposal.channelHeader.getChannelId(),
      txId: proposal.txId,
      signedProposal: proposal.signed,
      input: proposal.input,
      creatorMspId: proposal.creator.mspId,
      simulator,
    });
    if (event !== undefined) {
      // As the peer does: the chaincode sets name and payload; the peer stamps chaincode and tx.
      event.setChaincodeId(proposal.chaincodeName);
      event.setTxId(proposal.txId);
    }
    const { readWriteSet, rwSets, privateData } = simulator.results();
    return { response, event, readWriteSet, rwSets, privateData };
  }

  /** Throws the gateway's error for a chaincode response at or above 400. */
  static checkResponse(response: peer.Response, what: 'evaluate' | 'endorse', chaincodeName: string): void {
    if (response.getStatus() < ERROR_THRESHOLD) return;
    const detail = `chaincode response ${response.getStatus()}, ${response.getMessage()}`;
    const message =
      what === 'evaluate'
        ? `evaluate call to endorser returned error: ${response.getMessage()}`
        : 'failed to endorse transaction, see attached details for more info';
    throw new DevnetError(status.ABORTED, message, [`${chaincodeName}: ${detail}`]);
  }

  /**
   * The endorsed transaction envelope, unsigned (the client signs its payload); the private
   * read-write set, if any, is kept in the transient store for the committer, and the
   * endorsement with its read-write sets in `Endorsements`.
   */
  endorse(proposal: CheckedProposal, simulation: Simulation): common.Envelope {
    if (simulation.privateData !== undefined) {
      this.#transient.put(proposal.txId, simulation.privateData, this.#height());
    }
    const eventBytes = simulation.event?.serializeBinary() ?? new Uint8Array();
    const responsePayloadBytes = responsePayload({
      proposalHash: proposal.proposalHash,
      results: simulation.readWriteSet,
      events: eventBytes,
      response: simulation.response,
      chaincodeName: proposal.chaincodeName,
    });
    if (simulation.rwSets !== undefined) {
      this.#endorsements.put(proposal.txId, {
        responsePayload: responsePayloadBytes,
        proposalHash: proposal.proposalHash,
        hashed: [
          proposal.header.getChannelHeader_asU8(),
          proposal.header.getSignatureHeader_asU8(),
          proposal.payloadForTx,
        ],
        chaincodeName: proposal.chaincodeName,
        // As reading the action back gives it: no event where its bytes are empty.
        event: eventBytes.length > 0 ? simulation.event : undefined,
        rwSets: simulation.rwSets,
      });
    }

    const serialized = this.#identity.serialized;
    const envelope = new common.Envelope();
    envelope.setPayload(
      transactionPayload({
        header: proposal.header,
        payloadForTx: proposal.payloadForTx,
        responsePayload: responsePayloadBytes,
        endorser: serialized,
        signature: this.#identity.sign(Buffer.concat([responsePayloadBytes, serialized])),
      }),
    );
    return envelope;
  }
}
