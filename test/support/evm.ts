/** Shared pieces of the EVM connector suites: the demo security's asset and a matched trade. */
import assert from 'node:assert/strict';
import type { Deployment, EvmAsset } from '../../connectors/evm/index.ts';
import type { Gateway } from '../../gateway/index.ts';

export const ACME = 'ACME@evm:31337';

/** Where ACME settles on a test deployment: a lot is one token unit, a cash unit `cashUnits`. */
export function acmeAsset(d: Deployment, cashUnits: bigint): (instrument: string) => EvmAsset | undefined {
  return (id) =>
    id === ACME
      ? { security: d.addresses.securities.ACME!, lotUnits: 1n, cash: d.addresses.cash, cashUnits }
      : undefined;
}

/** Seller rests `qty` of ACME at 100.00 and buyer takes it, straight into the engine; returns the trade id. */
export function matchTrade(gw: Gateway, seller: string, buyer: string, qty: number, tag: string): number {
  const ids: number[] = [];
  const off = gw.exchange.engine.addListener({ onTrade: (e) => ids.push(e.tradeId) });
  const order = { type: 'new', instrument: ACME, orderType: 'limit', price: 10_000, quantity: qty } as const;
  gw.exchange.submit({ ...order, account: seller, clientOrderId: `s${tag}`, side: 'sell' });
  gw.exchange.submit({ ...order, account: buyer, clientOrderId: `b${tag}`, side: 'buy' });
  off();
  assert.equal(ids.length, 1, 'one trade');
  return ids[0]!;
}
