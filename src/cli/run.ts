// `kiosk run --config FILE`: the daemon. Exit codes (docs/kiosk.md, "The daemon"):
//   0  stopped on SIGTERM/SIGINT
//   2  usage (unknown flag)
//   75 another daemon holds the journal lock (EX_TEMPFAIL: pm2/systemd may retry later)
//   78 the config is invalid: every problem listed on stderr (EX_CONFIG)
//   70 could not start for another reason (journal, keys, devices), the reason on stderr and in the log
import { ConfigError, formatProblem, loadConfig, resolveConfigPath, type Config } from '../config/index.js';
import { createLogger } from '../log.js';
import { Daemon } from '../kiosk/daemon.js';
import { LockFileError, LockHeldError } from '../kiosk/lock.js';
import { parseCommand, stringFlag } from './args.js';

export const EXIT_RUN = { OK: 0, USAGE: 2, SOFTWARE: 70, LOCKED: 75, CONFIG: 78 } as const;

export async function main(argv: string[]): Promise<number> {
  const args = parseCommand('run', argv);
  const file = resolveConfigPath(stringFlag(args, 'config'));

  let config: Config;
  try {
    config = loadConfig(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // Operators read stderr; log collectors read the JSON line.
    process.stderr.write(`kiosk: refusing to start: ${err.problems.length} problem${err.problems.length === 1 ? '' : 's'} in ${file}\n`);
    for (const p of err.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
    createLogger().error({ event: 'config-invalid', code: err.code, file, problems: err.problems.map((p) => ({ field: p.field, problem: p.problem })) }, 'config invalid');
    process.exit(EXIT_RUN.CONFIG); // an IPC channel (pm2) would otherwise keep the process alive
  }

  const log = createLogger({ level: config.log.level });
  // Signals are caught from here on, before anything is opened: a SIGTERM during start-up (pm2 restarting
  // a slow start) must not kill the process between "ready" and the handlers, it stops it cleanly.
  let stopSignal: NodeJS.Signals | undefined;
  let wake: () => void = () => undefined;
  const stopRequested = new Promise<void>((r) => (wake = r));
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopSignal) return; // a second signal while stopping is ignored: the grace time bounds the stop
    stopSignal = signal;
    wake();
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  // pm2 sends 'shutdown' over IPC (instead of a signal) when configured to.
  process.on('message', (msg) => {
    if (msg === 'shutdown') onSignal('SIGTERM');
  });
  // Signal handlers do not hold the event loop: with the scanner unplugged and no payment running there
  // may be no other handle, and node would exit. The daemon lives until it is told to stop.
  const keepAlive = setInterval(() => undefined, 1 << 30);

  let daemon: Daemon;
  try {
    // The remote doctor is loaded only when a fleet operator asks for it.
    const doctor = async () => (await import('./doctor.js')).remoteDoctor(file);
    daemon = await Daemon.start(config, { log, readyFile: process.env.KIOSK_READY_FILE || undefined, doctor });
  } catch (err) {
    clearInterval(keepAlive);
    if (err instanceof LockHeldError) {
      process.stderr.write(`kiosk: refusing to start: ${err.message}\n`);
      log.error({ event: 'lock-held', code: err.code, lockFile: err.lockFile, pid: err.pid }, err.message);
      process.exit(EXIT_RUN.LOCKED); // an IPC channel (pm2) would otherwise keep the process alive
    }
    if (err instanceof LockFileError) {
      // A lockFile that is not a lock file (the journal, the config...) is a config mistake: nothing was touched.
      process.stderr.write(`kiosk: refusing to start: ${err.message}\n`);
      log.error({ event: 'lock-file', code: err.code, lockFile: err.lockFile }, err.message);
      process.exit(EXIT_RUN.CONFIG);
    }
    const e = err as Error & { code?: string };
    process.stderr.write(`kiosk: could not start: ${e.message}\n`);
    log.error({ event: 'start-failed', code: e.code ?? 'E_START', err: e }, 'could not start');
    process.exit(EXIT_RUN.SOFTWARE);
  }

  await stopRequested;
  let code: number = EXIT_RUN.OK;
  try {
    await daemon.stop(stopSignal);
  } catch (err) {
    log.error({ event: 'stop-failed', err }, 'error while stopping');
    code = EXIT_RUN.SOFTWARE;
  }
  clearInterval(keepAlive);
  // Serial ports, keep-alive sockets and timers must not hold the process past the grace time.
  process.exit(code);
}
