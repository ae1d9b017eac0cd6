// `kiosk mdb status|watch`: the vending machine's cashless port for the technician (docs/mdb.md). The running daemon
// owns the HAT's port and answers over its control socket: whether the HAT is connected, its last status, the
// selection under way, the last lines to and from it (no payment code ever passes there; long digit runs are masked
// all the same). `watch` prints each new line as it comes. Exit 0 when the daemon runs and the HAT is connected,
// 1 otherwise, 2 on bad input (no `mdb` section, a bad option).
import { parseCommand } from './args.js';
import { CommandExit, runCommand, techConfig } from './tech/context.js';
import { EXIT, json, keyValues, processIo, table, yuan, type Io } from './tech/format.js';
import { daemonState, PERMISSION_DENIED } from './tech/probe.js';
import { controlRequest } from './tech/control.js';
import type { DaemonStatus } from '../kiosk/control.js';
import type { Config } from '../config/index.js';

/** What the daemon reports of the port (src/kiosk/mdb-vend.ts status()). */
interface MdbReport {
  connected: boolean;
  path: string;
  hat: string;
  mode: string;
  selection: { phase: string; productId: string; amountFen: number; ended?: string } | null;
  lines: { at: string; dir: 'in' | 'out'; line: string }[];
}

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: { sleep?: (ms: number) => Promise<void> } = {}): Promise<number> {
  return runCommand(io, async () => {
    const args = parseCommand('mdb', argv);
    const { config } = techConfig(args, io);
    if (!config.mdb) throw new CommandExit(EXIT.USAGE, 'the config has no mdb section: the kiosk does not use a vending machine\'s MDB port (docs/mdb.md)');
    const what = args.positional[0];
    if (what !== 'status' && what !== 'watch') throw new CommandExit(EXIT.USAGE, `kiosk mdb: ${JSON.stringify(what)} is not status or watch`);
    if (what === 'watch') return watch(config, io, Number(args.flags.interval ?? 500), args.flags.count === undefined ? Infinity : Number(args.flags.count), options.sleep);
    const report = await ask(config);
    if (args.flags.json) {
      io.out(json(report));
      return report.connected ? EXIT.OK : EXIT.PROBLEM;
    }
    const s = report.selection;
    io.out(
      keyValues([
        ['port', `${report.path} (${report.connected ? 'connected' : 'NOT connected'})`],
        ['HAT status', report.hat],
        ['mode', report.mode],
        ['selection', s ? `product ${s.productId} at ${yuan(s.amountFen)}: ${s.phase}${s.ended ? ` (ended: ${s.ended})` : ''}` : 'none'],
      ]),
    );
    io.out('\nlast lines (> to the HAT, < from it)\n');
    io.out(table(['at', '', 'line'], report.lines.map((l) => [l.at, l.dir === 'out' ? '>' : '<', l.line])));
    if (!report.connected) io.out('\nthe HAT is not connected: kiosk doctor checks the port; wiring, power and the UART: docs/mdb.md\n');
    return report.connected ? EXIT.OK : EXIT.PROBLEM;
  });
}

/** The daemon's report of the port; a clear exit when there is no daemon to ask. */
async function ask(config: Config): Promise<MdbReport> {
  const d = daemonState(config);
  if (d.denied) throw new CommandExit(EXIT.USAGE, `${d.lockFile}: ${PERMISSION_DENIED}`);
  if (!d.running) throw new CommandExit(EXIT.PROBLEM, 'the daemon is not running: it owns the HAT\'s port (stop it and run kiosk selftest to try the HAT alone)');
  const live = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 3000);
  const report = live.mdb as MdbReport | undefined;
  if (!report) throw new CommandExit(EXIT.PROBLEM, 'the running daemon reports no MDB port (started before the mdb section was added? restart it)');
  return report;
}

/** Prints every new line to and from the HAT until interrupted (or `count` lines). */
async function watch(config: Config, io: Io, intervalMs: number, count: number, sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))): Promise<number> {
  if (!Number.isInteger(intervalMs) || intervalMs < 50) throw new CommandExit(EXIT.USAGE, '--interval must be a whole number of ms, at least 50');
  let last = '';
  let printed = 0;
  let connected: boolean | undefined;
  let stop = false;
  const onSignal = () => (stop = true);
  process.once('SIGINT', onSignal);
  try {
    while (!stop && printed < count) {
      const r = await ask(config);
      if (r.connected !== connected) io.out(`-- ${r.path} ${r.connected ? 'connected' : 'NOT connected'} (HAT ${r.hat})\n`);
      connected = r.connected;
      // Lines are kept in order with their times: everything after the last one printed is new.
      const keys = r.lines.map((l) => `${l.at}|${l.dir}|${l.line}`);
      const from = last ? keys.lastIndexOf(last) + 1 : Math.max(0, r.lines.length - 10);
      for (const l of r.lines.slice(from)) {
        if (printed >= count) break;
        io.out(`${l.at} ${l.dir === 'out' ? '>' : '<'} ${l.line}\n`);
        printed++;
      }
      if (keys.length) last = keys[keys.length - 1]!;
      if (printed < count) await sleep(intervalMs);
    }
  } finally {
    process.off('SIGINT', onSignal);
  }
  return EXIT.OK;
}
