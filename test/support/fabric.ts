/**
 * Helpers of the Fabric suites: the devnet suite's chaincode in its own process, a daemon that
 * dies at a chosen step, a gateway proxy that holds endorsements and reports submissions, and the
 * verdicts in `Settled` and `Released` events.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import type { Contract, Network } from '@hyperledger/fabric-gateway';
import { gateway } from '@hyperledger/fabric-protos';
import type { Verdict, WithdrawalVerdict } from '../../connectors/fabric/index.ts';
import { quietPeriod } from './wait.ts';

export interface TestChaincode {
  address: string;
  close(): void;
}

/** Starts the suite's chaincode server in a child process (chaincode-as-a-service). */
export async function startTestChaincode(): Promise<TestChaincode> {
  const script = fileURLToPath(import.meta.resolve('mosaic-settlement-chaincode/devnet-test-contract'));
  const child = spawn(process.execPath, ['--no-deprecation', script, 'devnet-test:0123'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const address = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`chaincode exited with ${code}`)));
    lines.once('line', (line) => resolve((JSON.parse(line) as { address: string }).address));
  });
  return {
    address,
    close: () => {
      lines.close();
      child.stdin.end(); // the chaincode stops when its stdin closes
    },
  };
}

/** A contract whose submitted transactions go out, and then the daemon "dies" before their status. */
export function crashAfterSubmit(contract: Contract, sent: string[]): Contract {
  return intercept(contract, {
    newProposal: (name: string, options?: Parameters<Contract['newProposal']>[1]) => {
      const proposal = contract.newProposal(name, options);
      return intercept(proposal, {
        endorse: async () => {
          const tx = await proposal.endorse();
          return intercept(tx, {
            submit: async () => {
              await tx.submit();
              sent.push(tx.getTransactionId());
              throw new Error('the daemon died after submitting');
            },
          });
        },
      });
    },
  });
}

/** A contract whose proposals are recorded, and then the daemon "dies" before endorsing them. */
export function crashBeforeEndorse(contract: Contract): Contract {
  return intercept(contract, {
    newProposal: (name: string, options?: Parameters<Contract['newProposal']>[1]) =>
      intercept(contract.newProposal(name, options), {
        endorse: () => Promise.reject(new Error('the daemon died before endorsing')),
      }),
  });
}

/** `target` with some methods replaced; the others called on `target` itself (its private fields need it). */
function intercept<T extends object>(target: T, overrides: Partial<Record<keyof T, unknown>>): T {
  return new Proxy(target, {
    get(t, prop) {
      if (Object.hasOwn(overrides, prop)) return overrides[prop as keyof T];
      const v = Reflect.get(t, prop) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
    },
  });
}

/**
 * A pass-through proxy of a peer's `gateway.Gateway` service, for fault tests: it can hold
 * endorsements back until released, and tell the test the moment the peer accepted a
 * submitted transaction (before the client hears so), so a daemon can be killed right there.
 */
export interface GatewayProxy {
  /** host:port clients dial instead of the peer. */
  readonly endpoint: string;
  /** Endorse requests wait until `release`. */
  hold(): void;
  /** Endorse requests waiting now. */
  readonly held: number;
  release(): void;
  /** `react` runs once, with the transaction id, when the peer next accepts a submitted transaction. */
  onceSubmitted(react: (txId: string) => void): void;
  close(): void;
}

export async function gatewayProxy(upstream: string): Promise<GatewayProxy> {
  const client = new grpc.Client(upstream, grpc.credentials.createInsecure());
  const held: Array<() => void> = [];
  let holding = false;
  let submitted: ((txId: string) => void) | null = null;
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [name, m] of Object.entries(gateway.GatewayService)) {
    if (m.responseStream) {
      handlers[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
        const up = client.makeServerStreamRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          call.request,
        );
        up.on('data', (d: unknown) => call.write(d));
        up.on('end', () => call.end());
        up.on('error', (err: grpc.ServiceError) => {
          if (err.code !== grpc.status.CANCELLED) call.emit('error', err);
        });
        call.on('cancelled', () => up.cancel());
      };
      continue;
    }
    handlers[name] = (
      call: grpc.ServerUnaryCall<unknown, unknown>,
      callback: grpc.sendUnaryData<unknown>,
    ) => {
      const forward = () =>
        client.makeUnaryRequest(
          m.path,
          m.requestSerialize,
          m.responseDeserialize,
          call.request,
          (err, res) => {
            if (err === null && name === 'submit' && submitted !== null) {
              const react = submitted;
              submitted = null;
              react((call.request as gateway.SubmitRequest).getTransactionId());
            }
            callback(err, res);
          },
        );
      if (name === 'endorse' && holding) held.push(forward);
      else forward();
    };
  }
  const server = new grpc.Server();
  server.addService(gateway.GatewayService, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    hold: () => (holding = true),
    get held() {
      return held.length;
    },
    release: () => {
      holding = false;
      for (const f of held.splice(0)) f();
    },
    onceSubmitted: (react) => (submitted = react),
    close: () => {
      server.forceShutdown();
      client.close();
    },
  };
}

/**
 * Every trade verdict the chaincode's `Settled` events hold (or withdrawal verdict its `Released`
 * events hold), replayed from the first block: per trade (withdrawal) id, the transactions that
 * gave it its verdict (one skipped as done already is not counted). Reads until the stream has
 * been quiet for `quietMs`: the stream says nothing of blocks without the chaincode's events, so
 * nothing marks its end, and no later verdict may be missed.
 */
export async function verdictsInEvents(
  network: Network,
  chaincode: string,
  event: 'Settled' | 'Released' = 'Settled',
  quietMs = 3_000,
): Promise<Map<number, string[]>> {
  const verdicts = new Map<number, string[]>();
  const events = await network.getChaincodeEvents(chaincode, { startBlock: 0n });
  const it = events[Symbol.asyncIterator]();
  try {
    for (;;) {
      const quiet = quietPeriod(quietMs, 'no further verdict').then(() => null);
      const next = await Promise.race([it.next(), quiet]);
      if (next === null || next.done === true) break;
      const e = next.value;
      if (e.eventName !== event) continue;
      const body = JSON.parse(Buffer.from(e.payload).toString('utf8')) as {
        verdicts: Array<Verdict | WithdrawalVerdict>;
      };
      for (const v of body.verdicts) {
        if (v.txId !== e.transactionId) continue; // skipped: its verdict came from another transaction
        const id = 'tradeId' in v ? v.tradeId : v.withdrawalId;
        verdicts.set(id, [...(verdicts.get(id) ?? []), e.transactionId]);
      }
    }
  } finally {
    events.close();
  }
  return verdicts;
}
