/**
 * A fabric-gateway client for one identity on one peer endpoint: the gRPC connection and the
 * gateway on it, closed together.
 */
import type { KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, type Contract, type Gateway, hash, type Network } from '@hyperledger/fabric-gateway';
import { fabricSigner } from './signer.ts';

export interface FabricIdentity {
  mspId: string;
  /** PEM. */
  certificate: string;
  privateKey: KeyObject;
}

export interface FabricClient {
  gateway: Gateway;
  network: Network;
  contract: Contract;
  close(): void;
}

/** Connects `identity` to the peer at `endpoint` (plain text unless a TLS root is given). */
export function fabricClient(
  endpoint: string,
  identity: FabricIdentity,
  where: { channel: string; chaincode: string; tlsRootCert?: string },
): FabricClient {
  const credentials =
    where.tlsRootCert === undefined
      ? grpc.credentials.createInsecure()
      : grpc.credentials.createSsl(Buffer.from(where.tlsRootCert));
  const client = new grpc.Client(endpoint, credentials);
  const gateway = connect({
    client,
    identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certificate) },
    // The signer hashes the messages itself (node:crypto: see signer.ts).
    signer: fabricSigner(identity.privateKey),
    hash: hash.none,
  });
  const network = gateway.getNetwork(where.channel);
  return {
    gateway,
    network,
    contract: network.getContract(where.chaincode),
    close: () => {
      gateway.close();
      client.close();
    },
  };
}
