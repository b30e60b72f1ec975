#!/usr/bin/env node
/**
 * The `mosaic` command. `mosaic start` runs the exchange with embedded defaults (until the
 * gateway lands, the seeded engine demo); `mosaic journal ...` looks at a journal folder.
 */
import { parseArgs } from 'node:util';
import { JOURNAL_USAGE, journalCommand, UsageError } from '../journal/cli.ts';
import { runDemo } from './demo-engine.ts';

const USAGE = `usage: mosaic start [--seed N] [--orders N]
${JOURNAL_USAGE.replace('usage: ', '       ')}

  start     run the seeded engine demo: trades as they happen, then the final books
            --seed N     PRNG seed, a positive integer (default 42)
            --orders N   trader orders to send, 1 to 1000000 (default 200)
  journal   verify a journal folder, replay it to its state hash, or print its commands`;

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

function start(argv: string[]): void {
  let parsed: { values: { seed?: string; orders?: string }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: { seed: { type: 'string' }, orders: { type: 'string' } },
      allowPositionals: true,
    });
  } catch (err) {
    fail((err as Error).message);
  }
  if (parsed.positionals.length > 0) fail(`unexpected argument "${parsed.positionals[0]}"`);
  const seed = positive('seed', parsed.values.seed, 42, 0xffffffff);
  const orders = positive('orders', parsed.values.orders, 200, 1_000_000);
  runDemo({ seed, orders, print: (line) => process.stdout.write(`${line}\n`) });
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(`${USAGE}\n`);
      return;
    case 'start':
      start(rest);
      return;
    case 'journal':
      try {
        process.exitCode = journalCommand(rest, (line) => process.stdout.write(`${line}\n`));
      } catch (err) {
        if (err instanceof UsageError) fail(err.message);
        throw err;
      }
      return;
    default:
      fail(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2));
