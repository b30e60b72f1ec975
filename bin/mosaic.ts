#!/usr/bin/env node
/**
 * The `mosaic` command. `mosaic start` runs the exchange with embedded defaults; until the
 * gateway lands that is the seeded engine demo.
 */
import { parseArgs } from 'node:util';
import { runDemo } from './demo-engine.ts';

const USAGE = `usage: mosaic start [--seed N] [--orders N]

  start    run the seeded engine demo: trades as they happen, then the final books
           --seed N     PRNG seed, a positive integer (default 42)
           --orders N   trader orders to send, 1 to 1000000 (default 200)`;

function fail(message: string): never {
  process.stderr.write(`mosaic: ${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function positive(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < 1 || n > max) {
    fail(`--${name} must be a whole number from 1 to ${max}, got "${text}"`);
  }
  return n;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      options: { seed: { type: 'string' }, orders: { type: 'string' }, help: { type: 'boolean' } },
      allowPositionals: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
}

function main(argv: string[]): void {
  const parsed = parse(argv);
  const [command, ...rest] = parsed.positionals;
  if (parsed.values.help || command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (rest.length > 0) fail(`unexpected argument "${rest[0]}"`);
  if (command !== 'start') fail(`unknown command "${command}"`);
  const seed = positive('seed', parsed.values.seed, 42, 0xffffffff);
  const orders = positive('orders', parsed.values.orders, 200, 1_000_000);
  runDemo({ seed, orders, print: (line) => process.stdout.write(`${line}\n`) });
}

main(process.argv.slice(2));
