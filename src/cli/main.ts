import { createProgram } from './program';

createProgram()
  .parseAsync(process.argv)
  .catch((err) => {
    process.stderr.write(`error: ${(err as Error).message}\n`);
    process.exitCode = 1;
  })
  // A command is over when its action returns; a client that still reconnects in the
  // background (after an error) must not keep the process alive. unref: a clean exit wins.
  .finally(() => setTimeout(() => process.exit(), 2_000).unref());
