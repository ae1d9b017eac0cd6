#!/usr/bin/env node
// `kiosk`: the one command line for the daemon, the demo, the sandbox and the technician.
// The commands and their options are one table (commands.ts); each command lives in its own module,
// loaded only when used (cold start on a Pi Zero matters).
import { HelpRequest, kioskUsage, UsageError } from './args.js';
import { COMMANDS } from './commands.js';

type Main = (argv: string[]) => Promise<number>;

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(kioskUsage() + '\n');
    return name ? 0 : 2;
  }
  if (!Object.hasOwn(COMMANDS, name)) {
    process.stderr.write(`kiosk: unknown command ${JSON.stringify(name)}\n${kioskUsage()}\n`);
    return 2;
  }
  let mod: { main: Main };
  try {
    // A variable specifier keeps tsc from requiring every module at build time; each exports main(argv).
    mod = (await import(`./${name}.js`)) as { main: Main };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes(`/cli/${name}.js`)) {
      process.stderr.write(`kiosk: ${name} is not built into this version\n`);
      return 2;
    }
    throw err;
  }
  return mod.main(rest);
}

// `kiosk status | head -4`: the reader closed the pipe. Stop quietly, as a tool killed by SIGPIPE would
// (exit 141), instead of an EPIPE stack trace; this covers every command's output.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

// A command whose work is left waiting on nothing (an unref'd timer, a stream that never ends) would let node
// exit 0 in its middle, as if it had passed: say so and exit 1 instead.
let settled = false;
process.once('beforeExit', () => {
  if (settled) return;
  process.stderr.write(`kiosk: ${process.argv[2] ?? ''} stopped before it finished (nothing was left to wait on): a bug, please report it\n`);
  process.exitCode = 1;
});

dispatch(process.argv.slice(2)).then(
  (code) => {
    settled = true;
    process.exitCode = code;
  },
  (err: unknown) => {
    settled = true;
    if (err instanceof HelpRequest) {
      process.stdout.write(err.text);
      process.exitCode = 0;
      return;
    }
    if (err instanceof UsageError) {
      process.stderr.write(`kiosk: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`kiosk: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
