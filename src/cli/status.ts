// `kiosk status [--json] [--no-gateway]`: the kiosk at a glance. Read-only: the journal is opened
// read-only, the daemon is asked over its control socket, the gateway gets one signed queryOrder.
// Exit 0 when the daemon runs, the gateway answers signed, the clock is trusted and the scanner is
// connected; 1 otherwise; 2 on bad input (config).
import { parseCommand } from './args.js';
import { existsSync } from 'node:fs';
import { CommandExit, readJournal, runCommand, techConfig } from './tech/context.js';
import type { Journal } from '../journal/journal.js';
import { ago, EXIT, json, keyValues, processIo, table, yuan, type Io } from './tech/format.js';
import { clockState, daemonState, PERMISSION_DENIED, platformClockWords, probeGateway, probeOrderNo, rooted, SYSTEM_ROOTS, versions, type GatewayProbe, type Roots } from './tech/probe.js';
import { controlRequest } from './tech/control.js';
import type { DaemonStatus } from '../kiosk/control.js';
import { statusWords } from './tech/scanner-words.js';
import type { ModuleStatus } from '../hardware/modules/session.js';

export interface StatusOptions {
  roots?: Roots;
  now?: () => number;
}

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: StatusOptions = {}): Promise<number> {
  return runCommand(io, () => status(argv, io, options));
}

async function status(argv: readonly string[], io: Io, options: StatusOptions): Promise<number> {
  const args = parseCommand('status', argv);
  const roots = options.roots ?? SYSTEM_ROOTS;
  const now = options.now ?? Date.now;
  const { file, config } = techConfig(args, io);

  const daemon = daemonState(config);
  if (daemon.denied) throw new CommandExit(EXIT.USAGE, `${daemon.lockFile}: ${PERMISSION_DENIED}`);
  let live: DaemonStatus | undefined;
  let liveError: string | undefined;
  if (daemon.running) {
    try {
      live = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 3000);
    } catch (err) {
      liveError = (err as Error).message;
    }
  }

  // The daemon's word on its journal (deleted or replaced under it: it refuses payments and finishes what it has).
  const journalProblem = live?.journal?.problem ?? null;
  let last: ReturnType<Journal['lastPayment']>;
  let counts: Record<string, number> = {};
  let unfinished: ReturnType<Journal['unfinishedSummary']> = { count: live?.journal?.unfinished ?? 0, oldestCreatedAt: null, byState: {} };
  let sqlite = '?';
  let journal: Journal | undefined;
  try {
    journal = readJournal(config.journal.path);
  } catch (err) {
    // With the daemon's own report there is still something to say: the file at journal.path is not its journal.
    if (!(err instanceof CommandExit) || !journalProblem) throw err;
  }
  if (journal) {
    try {
      last = journal.lastPayment();
      counts = journal.countsByState();
      unfinished = journal.unfinishedSummary();
      sqlite = (journal.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    } finally {
      journal.close();
    }
  }

  // The scanner: the daemon knows (it holds the port); without one, whether the device node exists.
  const scanner =
    live?.scanner !== undefined
      ? {
          // Open but not set up (no answer, profile mismatch) is not a working scanner.
          connected: live.scanner.connected && (!live.scanner.module || (live.scanner.module as ModuleStatus).state === 'ready'),
          detail:
            (live.scanner.connected ? `connected (${live.scanner.device ?? config.scanner.path ?? config.scanner.driver})` : `NOT connected${live.scanner.detail ? `: ${live.scanner.detail}` : ''}`) +
            (live.scanner.module ? `; module ${statusWords(live.scanner.module as ModuleStatus, config)}` : ''),
        }
      : config.scanner.driver === 'sim'
        ? { connected: true, detail: 'sim driver (no device)' }
        : existsSync(rooted(roots, config.scanner.path))
          ? { connected: true, detail: `${config.scanner.path} present (daemon not asked)` }
          : { connected: false, detail: `${config.scanner.path} missing: plugged in? udev rule installed?` };

  const clock = clockState(roots, now());
  let gateway: GatewayProbe | undefined;
  if (!args.flags['no-gateway']) gateway = await probeGateway(config, last?.orderNo ?? probeOrderNo(config));
  const link = live?.link?.state ?? (gateway ? (gateway.ok ? 'online' : gateway.reachable ? 'degraded' : 'offline') : 'unknown');
  // Work waiting for the link: the daemon's own count when it reports one (issue 7), else every unfinished order.
  const liveWaiting = live?.waiting as { count?: number; since?: string | null } | undefined;
  const waiting = typeof liveWaiting?.count === 'number' ? { count: liveWaiting.count, since: liveWaiting.since ?? null } : { count: unfinished.count, since: unfinished.oldestCreatedAt };
  const oldestMs = unfinished.oldestCreatedAt ? now() - Date.parse(unfinished.oldestCreatedAt) : undefined;
  const ver = versions(sqlite);

  // The daemon's reading (every answer since its start) when it runs, else this command's own probe.
  const platformClock = live?.platformClock ?? gateway?.clock;
  const healthy = daemon.running && !liveError && !journalProblem && scanner.connected && clock.ok && platformClock?.state !== 'wrong' && (gateway ? gateway.ok : true);
  const code = healthy ? EXIT.OK : EXIT.PROBLEM;

  if (args.flags.json) {
    io.out(
      json({
        ok: healthy,
        config: file,
        deviceId: config.deviceId,
        daemon: { ...daemon, ...(live ? { live } : {}), ...(liveError ? { controlError: liveError } : {}) },
        journal: { path: config.journal.path, problem: journalProblem },
        lastPayment: last ? { orderNo: last.orderNo, state: last.state, txnAmt: last.txnAmt, orderType: last.orderType, createdAt: last.createdAt } : null,
        counts,
        unfinished: { count: unfinished.count, byState: unfinished.byState, oldestCreatedAt: unfinished.oldestCreatedAt },
        waitingForLink: { ...waiting, link, ...(live?.link?.since ? { linkSince: live.link.since } : {}) },
        scanner,
        clock,
        platformClock: platformClock ?? null,
        gateway: gateway ?? null,
        versions: ver,
      }),
    );
    return code;
  }

  const pairs: [string, string][] = [
    ['kiosk', `${config.deviceId} (${file})`],
    [
      'daemon',
      daemon.running
        ? `running, pid ${daemon.pid ?? '?'}${live ? '' : liveError ? ` — control socket: ${liveError}` : ''}`
        : daemon.problem
          ? `NOT running (${daemon.problem})`
          : 'NOT running',
    ],
    ...(journalProblem ? ([['journal', `NOT OK: ${journalProblem}`]] as [string, string][]) : []),
    ['last payment', last ? `${last.orderNo} ${last.state} ${yuan(Number(last.txnAmt))} ${last.orderType} at ${last.createdAt} (${ago(now() - Date.parse(last.createdAt))} ago)` : 'none yet'],
    ['unfinished', unfinished.count === 0 ? 'none' : `${unfinished.count} (${Object.entries(unfinished.byState).map(([s, n]) => `${s} ${n}`).join(', ')}), oldest since ${unfinished.oldestCreatedAt} (${ago(oldestMs ?? 0)})`],
    ['link', `${link}${live?.link?.since ? ` since ${live.link.since}` : ''}${waiting.count ? `; ${waiting.count} order(s) waiting since ${waiting.since}` : '; nothing waiting'}`],
    ['scanner', scanner.detail],
    ['clock', `${clock.ok ? 'ok' : 'NOT OK'}: ${clock.detail}`],
    ['platform clock', platformClock ? platformClockWords(platformClock) : 'not compared (--no-gateway, daemon not asked)'],
    ['gateway', gateway ? `${gateway.ok ? 'ok' : 'NOT OK'}: ${gateway.detail}${gateway.fix && !gateway.ok ? ` — ${gateway.fix}` : ''}` : 'not checked (--no-gateway)'],
    ['versions', `node ${ver.node}, umpay-kiosk ${ver.app}, better-sqlite3 ${ver.betterSqlite3}, sqlite ${ver.sqlite}`],
  ];
  io.out(keyValues(pairs));
  io.out('\norders by state\n');
  io.out(table(['state', 'orders'], Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))));
  io.out(`\n${healthy ? 'ok' : 'NOT OK: see the lines above (kiosk doctor for fixes)'}\n`);
  return code;
}
