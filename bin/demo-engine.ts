/**
 * The seeded engine demo that `npm start` runs until the gateway exists: two listings of one
 * security (on an EVM chain and a Fabric network), a market maker quoting a ladder on each, and
 * traders sending limit, market and stop orders. It prints every trade and the final books.
 */
import BigNumber from 'bignumber.js';
import { XorShift32 } from '../bench/index.ts';
import { Engine, type EngineEvent, type InstrumentSpec, type Side, ticksToPrice } from '../engine/index.ts';

const LISTINGS: InstrumentSpec[] = [
  {
    id: 'ACME@evm:31337',
    tickSize: '0.01',
    lotSize: '1',
    priceDecimals: 2,
    quantityDecimals: 0,
    minQty: 1,
    maxQty: 100_000,
    maxPrice: 10_000_000,
    referencePrice: 10_000,
    bandBps: 500,
    makerFeeBps: -1,
    takerFeeBps: 5,
  },
  {
    id: 'ACME@fabric:bank-net',
    tickSize: '0.01',
    lotSize: '1',
    priceDecimals: 2,
    quantityDecimals: 0,
    minQty: 1,
    maxQty: 100_000,
    maxPrice: 10_000_000,
    referencePrice: 10_000,
    bandBps: 500,
    makerFeeBps: 0,
    takerFeeBps: 3,
  },
];

const TRADERS = ['alice', 'bob', 'carol', 'dave'];

export interface DemoOptions {
  seed: number;
  /** Orders sent by the traders. */
  orders: number;
  print: (line: string) => void;
}

/** Runs the demo; returns the engine for inspection. */
export function runDemo({ seed, orders, print }: DemoOptions): Engine {
  const rng = new XorShift32(seed);
  const engine = new Engine();
  const specs = new Map(LISTINGS.map((s) => [s.id, s]));
  const price = (id: string, ticks: number) => {
    const s = specs.get(id)!;
    return ticksToPrice(ticks, s.tickSize, s.priceDecimals);
  };
  const fee = (id: string, units: number) => {
    const s = specs.get(id)!;
    return new BigNumber(units)
      .times(s.tickSize)
      .times(s.lotSize)
      .toFixed(s.priceDecimals + 2);
  };
  let trades = 0;
  let rejected = 0;
  engine.addListener({
    onTrade(e: EngineEvent) {
      trades++;
      const [buyer, seller] = e.side === 'buy' ? [e.account, e.makerAccount] : [e.makerAccount, e.account];
      print(
        `trade #${e.tradeId} ${e.instrument.padEnd(21)} ${String(e.quantity).padStart(4)} @ ${price(e.instrument, e.price)}` +
          `  buyer ${buyer.padEnd(5)} seller ${seller.padEnd(5)} aggressor ${e.side.padEnd(4)}` +
          `  fees taker ${fee(e.instrument, e.takerFee)} maker ${fee(e.instrument, e.makerFee)}`,
      );
    },
    onOrder(e: EngineEvent) {
      if (e.kind === 'rejected') rejected++;
    },
  });

  let ts = Date.UTC(2026, 0, 5, 14, 30);
  for (const spec of LISTINGS) engine.execute({ type: 'list-instrument', ts, spec });

  let n = 0;
  const quote = (id: string, mid: number) => {
    for (let level = 1; level <= 5; level++) {
      for (const side of ['buy', 'sell'] as Side[]) {
        engine.execute({
          type: 'new',
          ts,
          instrument: id,
          account: 'mm',
          clientOrderId: `mm-${++n}`,
          side,
          orderType: 'limit',
          price: side === 'buy' ? mid - level * 5 : mid + level * 5,
          quantity: 20 * level,
          stp: 'cancel-oldest',
        });
      }
    }
  };
  for (const spec of LISTINGS) quote(spec.id, spec.referencePrice);

  for (let i = 0; i < orders; i++) {
    ts += rng.int(1, 500);
    const spec = LISTINGS[rng.int(0, LISTINGS.length - 1)]!;
    const id = spec.id;
    const account = TRADERS[rng.int(0, TRADERS.length - 1)]!;
    const side: Side = rng.int(0, 1) === 0 ? 'buy' : 'sell';
    const mid = engine.instrument(id)?.lastPrice || spec.referencePrice;
    const quantity = rng.int(1, 60);
    const clientOrderId = `${account}-${i}`;
    const roll = rng.int(0, 99);
    if (roll < 55) {
      const offset = rng.int(-8, 12);
      const p = side === 'buy' ? mid - offset : mid + offset;
      engine.execute({
        type: 'new',
        ts,
        instrument: id,
        account,
        clientOrderId,
        side,
        orderType: 'limit',
        price: p,
        quantity,
      });
    } else if (roll < 75) {
      engine.execute({
        type: 'new',
        ts,
        instrument: id,
        account,
        clientOrderId,
        side,
        orderType: 'market',
        quantity,
      });
    } else if (roll < 85) {
      const stopPrice = side === 'buy' ? mid + rng.int(5, 20) : mid - rng.int(5, 20);
      engine.execute({
        type: 'new',
        ts,
        instrument: id,
        account,
        clientOrderId,
        side,
        orderType: 'stop',
        stopPrice,
        quantity,
      });
    } else {
      engine.execute({ type: 'cancel-all', ts, account, instrument: id });
      quote(id, mid);
    }
  }

  print('');
  for (const spec of LISTINGS) {
    const { bids, asks } = engine.depth(spec.id, 5);
    print(`${spec.id}  last ${price(spec.id, engine.instrument(spec.id)!.lastPrice)}`);
    print('        bid qty     bid    |    ask      ask qty');
    for (let i = 0; i < Math.max(bids.length, asks.length); i++) {
      const b = bids[i];
      const a = asks[i];
      const left = b ? `${String(b[1]).padStart(11)} ${price(spec.id, b[0]).padStart(10)}` : ' '.repeat(22);
      const right = a ? `${price(spec.id, a[0]).padStart(10)} ${String(a[1]).padStart(12)}` : '';
      print(`${left}    | ${right}`);
    }
    print('');
  }
  print(
    `${orders} trader orders, ${trades} trades, ${rejected} rejected, ${engine.liveOrders} live orders, ` +
      `state hash ${engine.stateHash()} (seed ${seed})`,
  );
  return engine;
}
