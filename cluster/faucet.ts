/**
 * Demo funding across the cluster: a settlement daemon whose ledger has a faucet (a local chain
 * or devnet) answers funding requests for its venue (one daemon of the venue takes each, a queue
 * group); a gateway asks when an account logs in. The engine then hears of the funds from the
 * ledger, like any deposit.
 */
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import type { Topology } from './topology.ts';
import type { Logger } from '../common/index.ts';

const ACCOUNT = /^[\x21-\x7e]{1,128}$/;

/** Answers funding requests for `venue` with `fund`; returns the subscription (unsubscribe to stop). */
export function serveFaucet(
  nc: NatsConnection,
  topology: Topology,
  venue: string,
  fund: (account: string) => void,
  log: Logger,
): Subscription {
  return nc.subscribe(topology.faucetSubject(venue), {
    queue: 'faucet',
    callback: (err, msg) => {
      if (err !== null) return;
      const account = new TextDecoder().decode(msg.data);
      if (!ACCOUNT.test(account)) {
        log.warn({ venue }, `${venue}: funding request for a malformed account refused`);
        msg.respond(new TextEncoder().encode('refused: malformed account'));
        return;
      }
      fund(account);
      msg.respond(new TextEncoder().encode('ok'));
    },
  });
}

/** Asks the daemons of `venue` to fund `account`; resolves whether one took it. */
export async function requestFunding(
  nc: NatsConnection,
  topology: Topology,
  venue: string,
  account: string,
): Promise<boolean> {
  try {
    const reply = await nc.request(topology.faucetSubject(venue), new TextEncoder().encode(account), {
      timeout: 5_000,
    });
    return new TextDecoder().decode(reply.data) === 'ok';
  } catch {
    return false;
  }
}
