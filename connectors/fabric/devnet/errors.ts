/**
 * gRPC errors the way a Fabric gateway sends them: a status code, a message that says what was
 * wrong, and `gateway.ErrorDetail`s packed in a `google.rpc.Status` in the
 * `grpc-status-details-bin` trailer (what fabric-gateway's `GatewayError.details` reads).
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { gateway, google } from '@hyperledger/fabric-protos';

/** A refusal with its gRPC status; thrown inside the devnet, turned into a `ServiceError` at the edge. */
export class DevnetError extends Error {
  readonly code: status;
  readonly details: readonly string[];
  constructor(code: status, message: string, details: readonly string[] = [], options?: ErrorOptions) {
    super(message, options);
    this.name = 'DevnetError';
    this.code = code;
    this.details = details;
  }
}

/** Throws a `DevnetError` unless `condition` holds. */
export function check(condition: unknown, code: status, message: string): asserts condition {
  if (!condition) throw new DevnetError(code, message);
}

/** The `ServiceError` a grpc-js handler passes to its callback (or `emit('error')`). */
export function toServiceError(err: unknown, address: string, mspId: string): Partial<ServiceError> {
  const devnet =
    err instanceof DevnetError
      ? err
      : new DevnetError(status.INTERNAL, `devnet: ${err instanceof Error ? err.message : String(err)}`);
  const rpcStatus = new google.rpc.Status();
  rpcStatus.setCode(devnet.code);
  rpcStatus.setMessage(devnet.message);
  for (const message of devnet.details) {
    const detail = new gateway.ErrorDetail();
    detail.setAddress(address);
    detail.setMspId(mspId);
    detail.setMessage(message);
    // addDetails() makes the google.protobuf.Any itself, so google-protobuf need not be imported.
    const any = rpcStatus.addDetails();
    any.setTypeUrl('type.googleapis.com/gateway.ErrorDetail');
    any.setValue(detail.serializeBinary());
  }
  const metadata = new Metadata();
  metadata.set('grpc-status-details-bin', Buffer.from(rpcStatus.serializeBinary()));
  return { code: devnet.code, details: devnet.message, message: devnet.message, metadata };
}
