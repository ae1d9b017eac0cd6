#!/usr/bin/env node
// `kiosk`: the one command line for the daemon, the demo, the sandbox and the technician.
// Each subcommand lives in its own module, loaded only when used (cold start on a Pi Zero matters).
import { UsageError } from './args.js';

type Main = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { summary: string }> = {
  run: { summary: 'run the kiosk daemon (--config FILE)' },
  demo: { summary: 'the whole kiosk simulated against a local sandbox (--auto N for scripted customers)' },
  sandbox: { summary: 'a local UMPay gateway for tests, demos and drills' },
  umpay: { summary: 'joint debugging: sign, verify, and single platform calls' },
  journal: { summary: 'read the payment journal (list, show)' },
  status: { summary: 'daemon, last payment, unfinished orders, scanner, clock, gateway' },
  doctor: { summary: 'check everything the kiosk needs, with the fix for each problem' },
  reconcile: { summary: 'resume every unfinished order now' },
  selftest: { summary: 'exercise LEDs, buzzer, approve output and scanner without paying' },
  report: { summary: 'takings of a day by payment type and state' },
  export: { summary: 'orders between two dates, for accounting' },
  settle: { summary: "compare the platform's settlement file with the journal" },
  logs: { summary: 'pm2 logs, human-readable and masked' },
  dev: { summary: 'a local rig (sandbox + pty scanner + daemon) to try the technician commands; dev scan CODE' },
  fleet: { summary: 'the operator side of MQTT telemetry: watch every kiosk, send signed commands (docs/fleet.md)' },
};

function usage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: kiosk <command> [options]', '', ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`)].join('\n');
}

async function dispatch(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const entry = COMMANDS[name];
  if (!entry) {
    process.stderr.write(`kiosk: unknown command ${JSON.stringify(name)}\n${usage()}\n`);
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

dispatch(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`kiosk: ${err.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`kiosk: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
