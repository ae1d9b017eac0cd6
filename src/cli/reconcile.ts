// `kiosk reconcile [--timeout S] [--json]`: resume every unfinished order now.
// With a daemon running: asked over its control socket (only the kiosk user can use it).
// Without one: the engine's recovery in the foreground (progress bar on a terminal), holding the same
// single-instance lock the daemon takes, so the two can never work the journal at once.
// Exit 0 nothing left unfinished, 1 orders remain (waiting for the platform, the link or a person),
// 2 bad input, 3 refused (a daemon holds the journal but does not answer).
import { parseCommand, UsageError } from './args.js';
import { CommandExit, runCommand, techConfig } from './tech/context.js';
import { EXIT, json, processIo, progressBar, table, yuan, type Io } from './tech/format.js';
import { controlRequest } from './tech/control.js';
import { ControlError, type DaemonStatus, type ReconcileSummary } from '../kiosk/control.js';
import { daemonState, PERMISSION_DENIED } from './tech/probe.js';
import { acquireLock, LockHeldError } from '../kiosk/lock.js';
import { openJournal, type PublicOrder } from '../journal/journal.js';
import { engineFromConfig, gatewayFromConfig } from '../kiosk/wiring.js';
import { createLogger } from '../log.js';
import type { Config } from '../config/index.js';
import type { Gateway } from '../umpay/types.js';

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => reconcile(argv, io));
}

async function reconcile(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCommand('reconcile', argv);
  const timeoutText = typeof args.flags.timeout === 'string' ? args.flags.timeout : '120';
  if (!/^[0-9]+$/.test(timeoutText) || Number(timeoutText) < 1) throw new UsageError(`--timeout must be a whole number of seconds ≥ 1, got ${JSON.stringify(timeoutText)}`);
  const timeoutMs = Number(timeoutText) * 1000;
  const { config } = techConfig(args, io, true);

  const daemon = daemonState(config);
  if (daemon.denied) throw new CommandExit(EXIT.USAGE, `${daemon.lockFile}: ${PERMISSION_DENIED}`);
  if (daemon.running) return viaDaemon(config, daemon.pid!, timeoutMs, args.flags.json === true, io);
  return foreground(config, timeoutMs, args.flags.json === true, io);
}

async function viaDaemon(config: Config, pid: number, timeoutMs: number, asJson: boolean, io: Io): Promise<number> {
  let summary: ReconcileSummary;
  // The daemon answers once every order was worked on (seconds to minutes): meanwhile, what it is doing.
  io.err(`asked the daemon (pid ${pid}) to resume the unfinished orders; waiting for it (up to ${Math.round(timeoutMs / 1000)} s)…\n`);
  const watch = watchDaemon(config, io);
  let last: Awaited<ReturnType<typeof watch.stop>>;
  try {
    summary = await controlRequest<ReconcileSummary>(config.daemon.controlSocket, 'reconcile', timeoutMs);
  } catch (err) {
    if (err instanceof ControlError && err.code !== 'E_CONTROL_TIMEOUT') {
      throw new CommandExit(
        EXIT.REFUSED,
        `the daemon (pid ${pid}) holds the journal but ${err.message}. Not working the journal beside it. Recovery also runs at every start: pm2 restart kiosk (or systemctl restart kiosk)`,
      );
    }
    throw new CommandExit(EXIT.PROBLEM, `${(err as Error).message}; the daemon keeps working on the orders in the background (kiosk status shows them)`);
  } finally {
    last = await watch.stop();
  }
  if (summary.remaining > 0) last = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 2000).catch(() => last);
  const code = summary.remaining === 0 ? EXIT.OK : EXIT.PROBLEM;
  const offline = summary.remaining > 0 && last?.link && last.link.state !== 'online' ? last.link : undefined;
  if (asJson) io.out(json({ via: 'daemon', pid, ...summary, ...(offline ? { link: offline } : {}) }));
  else {
    io.out(`asked the daemon (pid ${pid}): ${summary.started} unfinished order(s) resumed, ${summary.remaining} still unfinished${summary.remaining ? ' (kiosk status / kiosk report show them)' : ''}\n`);
    if (offline) io.out(`the platform is unreachable from the kiosk (link ${offline.state}${offline.since ? ` since ${offline.since}` : ''}): the orders wait for it; the daemon retries them\n`);
  }
  return code;
}

/** Polls the daemon's status while it reconciles: a line on stderr when the unfinished count or the link changes. */
function watchDaemon(config: Config, io: Io): { stop(): Promise<DaemonStatus | undefined> } {
  let last: DaemonStatus | undefined;
  let shown = '';
  let stopped = false;
  let wake: () => void = () => undefined;
  const started = performance.now();
  const poll = async () => {
    while (!stopped) {
      await new Promise<void>((r) => {
        const t = setTimeout(r, WATCH_EVERY_MS);
        wake = () => (clearTimeout(t), r());
      });
      if (stopped) break;
      try {
        last = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 2000);
      } catch {
        continue;
      }
      const now = `${last.journal?.unfinished ?? '?'} unfinished, link ${last.link?.state ?? '?'}`;
      if (now !== shown && !stopped) io.err(`  ${Math.round((performance.now() - started) / 1000)} s: ${(shown = now)}\n`);
    }
  };
  const running = poll();
  return {
    async stop() {
      stopped = true;
      wake();
      await running;
      return last;
    },
  };
}

const WATCH_EVERY_MS = 1000;

async function foreground(config: Config, timeoutMs: number, asJson: boolean, io: Io): Promise<number> {
  let lock;
  try {
    lock = acquireLock(config.daemon.lockFile);
  } catch (err) {
    if (err instanceof LockHeldError) throw new CommandExit(EXIT.REFUSED, `${err.message}; or ask it: kiosk reconcile (once its control socket answers)`);
    throw new CommandExit(EXIT.USAGE, `cannot take the lock ${config.daemon.lockFile}: ${(err as Error).message}`);
  }
  const journal = openJournal(config.journal.path);
  // The engine logs as it does in the daemon (masked); to stderr so --json stays clean.
  const log = createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level, destination: process.stderr });
  const gateway = gatewayFromConfig(config, log);
  const calls = { made: 0, answered: 0, cause: '' };
  const engine = engineFromConfig(config, journal, countingGateway(gateway, calls), log);
  let remaining: PublicOrder[] = [];
  const startedWith = journal.unfinished().length;
  let finished = 0;
  try {
    if (startedWith > 0) {
      const bar = progressBar(io, startedWith, 'reconciling');
      engine.on('transition', (t: { to: string }) => {
        if (['delivered', 'failed', 'failed-not-sent', 'reversed', 'refunded'].includes(t.to)) bar.tick(++finished);
        else bar.tick(finished, t.to);
      });
      await engine.start();
      // Done when idle, when only orders needing a person are left (they are retried slowly, for hours), or at
      // the timeout.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        const check = () => {
          const open = journal.unfinished();
          if (open.every((o) => o.state === 'attention')) {
            clearTimeout(timer);
            resolve();
          }
        };
        engine.on('attention', check);
        engine.on('transition', check);
        const idle = () => {
          clearTimeout(timer);
          resolve();
        };
        engine.whenIdle().then(idle, idle);
        check();
      });
      bar.end();
      await engine.stop(config.daemon.graceMs);
    }
    remaining = journal.unfinished().map(({ authCode: _secret, ...pub }) => pub);
  } finally {
    gateway.close();
    journal.close();
    lock.release();
  }
  const code = remaining.length === 0 ? EXIT.OK : EXIT.PROBLEM;
  // Orders left because nothing came back from the platform: say so, not only each order's own reason.
  const unreachable = remaining.length > 0 && calls.made > 0 && calls.answered === 0 ? `${config.gateway.baseUrl} unreachable (${calls.cause || 'no answer'}): none of ${calls.made} call(s) answered` : undefined;
  if (asJson) {
    io.out(
      json({
        via: 'foreground',
        started: startedWith,
        finished: startedWith - remaining.length,
        remaining: remaining.map((o) => ({ orderNo: o.orderNo, state: o.state, txnAmt: o.txnAmt, reason: o.reason })),
        gateway: { calls: calls.made, answered: calls.answered, ...(unreachable ? { unreachable } : {}) },
      }),
    );
    return code;
  }
  if (startedWith === 0) {
    io.out('no unfinished orders: nothing to do\n');
    return code;
  }
  io.out(`${startedWith} unfinished order(s): ${startedWith - remaining.length} finished, ${remaining.length} still unfinished\n`);
  if (remaining.length) io.out(table(['orderNo', 'state', 'amount ¥', 'reason'], remaining.map((o) => [o.orderNo, o.state, yuan(Number(o.txnAmt)), o.reason])));
  if (unreachable) io.out(`the platform was unreachable: ${unreachable}; these orders wait for it (the daemon retries them; or kiosk reconcile again once the network is back)\n`);
  return code;
}

/** The gateway, counting the calls made and those the platform answered (the last transport cause kept). */
function countingGateway(gateway: Gateway, calls: { made: number; answered: number; cause: string }): Gateway {
  const count = <R extends { delivery: string; cause?: string }>(p: Promise<R>): Promise<R> =>
    p.then((r) => {
      calls.made++;
      if (r.delivery === 'answered') calls.answered++;
      else calls.cause = r.cause ?? calls.cause;
      return r;
    });
  return {
    micropay: (f) => count(gateway.micropay(f)),
    queryOrder: (f) => count(gateway.queryOrder(f)),
    cancelOrder: (f) => count(gateway.cancelOrder(f)),
    closeOrder: (f) => count(gateway.closeOrder(f)),
    refund: (f) => count(gateway.refund(f)),
    refundQuery: (f) => count(gateway.refundQuery(f)),
  };
}
