/**
 * A fabric-gateway client for one identity on one peer endpoint: the gRPC connection and the
 * gateway on it, closed together.
 */
import type { KeyObject } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  connect,
  type Contract,
  type Gateway,
  hash,
  type Network,
  signers,
} from '@hyperledger/fabric-gateway';

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
    signer: signers.newPrivateKeySigner(identity.privateKey),
    hash: hash.sha256,
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
