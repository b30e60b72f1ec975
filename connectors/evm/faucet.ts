/**
 * Demo funding on a local chain: makes an address an eligible investor and puts securities and
 * cash into its escrow balance, the way an issuer's agent would, so the connector then feeds the
 * engine from the chain's own events (registration, deposits) like any other. It signs as the
 * deployer (the registry's and tokens' agent): mints to itself and deposits for the investor.
 * Requests go out one after another, each address once per process.
 */
import { type Contract, MaxUint256, NonceManager, type Signer } from 'ethers';
import type { Logger } from '../../common/index.ts';
import { OneAtATime } from '../batch.ts';
import { call, send } from './deploy.ts';

export interface FaucetOptions {
  /** The deployer: agent of the registry and of every token. */
  agent: Signer;
  registry: Contract;
  settlement: Contract;
  /** Tokens and how many base units each funded address gets (asked at each funding). */
  grants: () => ReadonlyArray<{ token: Contract; amount: bigint }>;
  log: Logger;
}

export class Faucet {
  #o: FaucetOptions;
  #agent: NonceManager;
  #serial = new OneAtATime();
  #seen = new Set<string>();
  /** The agent registered itself (`registry`) and approved the escrow for these tokens. */
  #approved = new Set<string>();

  constructor(options: FaucetOptions) {
    this.#o = options;
    this.#agent = new NonceManager(options.agent);
  }

  /**
   * Funds an address unless it is registered already (funded by an earlier run, or an investor
   * the operator registered). Resolves when its transactions are mined; errors are logged.
   */
  fund(address: string): Promise<void> {
    if (this.#seen.has(address)) return this.#serial.idle();
    this.#seen.add(address);
    return this.#serial
      .run(() => this.#fund(address))
      .catch((err: Error) =>
        this.#o.log.warn({ account: address, err }, `faucet: funding ${address} failed: ${err.message}`),
      );
  }

  /** Waits for the requests made so far. */
  idle(): Promise<void> {
    return this.#serial.idle();
  }

  async #fund(address: string): Promise<void> {
    const { registry, settlement } = this.#o;
    const grants = this.#o.grants();
    if (await call<boolean>(registry, 'isVerified', address)) return;
    const as = (c: Contract) => c.connect(this.#agent) as Contract;
    const agent = await this.#agent.getAddress();
    // The agent holds what it hands out for a moment: a security is only minted to a verified
    // wallet, and the escrow pulls from the agent's allowance.
    if (!this.#approved.has('registry') && !(await call<boolean>(registry, 'isVerified', agent))) {
      await send(as(registry), 'registerInvestor', agent, 0);
    }
    this.#approved.add('registry');
    for (const { token } of grants) {
      if (this.#approved.has(token.target as string)) continue;
      await send(as(token), 'approve', settlement.target, MaxUint256);
      this.#approved.add(token.target as string);
    }
    await send(as(registry), 'registerInvestor', address, 0);
    for (const { token, amount } of grants) await send(as(token), 'mint', agent, amount);
    for (const { token, amount } of grants) {
      await send(as(settlement), 'depositFor', address, token.target, amount);
    }
  }
}
