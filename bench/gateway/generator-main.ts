/**
 * A load generator in a process of its own (forked by generators.ts): opens its connections,
 * says `ready`, then answers each request in order (generator.ts) until `exit`, or until the
 * parent goes.
 */
import { childArgs } from './child.ts';
import { type FromGenerator, Generator, type GeneratorArgs, type ToGenerator } from './generator.ts';

async function main(): Promise<void> {
  const generator = await Generator.open(childArgs<GeneratorArgs>());
  const send = (m: FromGenerator) => process.send!(m);
  // Requests come one at a time from the parent; a chain keeps their answers in order regardless.
  let chain = Promise.resolve();
  process.on('message', (msg: ToGenerator) => {
    chain = chain.then(async () => {
      send(await generator.handle(msg));
      if (msg.op === 'exit') process.exit(0);
    });
  });
  process.on('disconnect', () => process.exit(0));
  send({ op: 'ready' });
}

main().catch((err: unknown) => {
  process.stderr.write(`load generator: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
