/** Fault helpers of the Fabric suites: a daemon that dies at a chosen step, and waiting for a condition. */
import assert from 'node:assert/strict';
import type { Contract } from '@hyperledger/fabric-gateway';

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

export async function waitFor(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  assert.fail('timed out');
}
