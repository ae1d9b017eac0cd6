// `kiosk version [--json] [--check] [--wait-ready S]`: which release this is, which one is current and
// which previous (device/install.sh keeps them in /opt/kiosk/releases/), which one the running daemon
// answers as, and whether the journal's schema is one this release can open.
//   --check         the release can run here: its native modules load, and the journal is not from a newer
//                   schema (install.sh runs it before switching to a release, and before a rollback)
//   --wait-ready S  wait up to S seconds for a daemon of THIS release to answer on the control socket
//                   (install.sh runs it after a restart; no answer in time → it rolls back)
//   --wait-idle S   wait up to S seconds until no customer is choosing or paying (install.sh, before a
//                   restart; the daemon's graceful stop would drain a payment anyway, this spares the choice)
// Exit 0 ok; 1 --check failed or a wait timed out; 2 bad input.
import { performance } from 'node:perf_hooks';
import { parseCommand, UsageError } from './args.js';
import { CommandExit, runCommand } from './tech/context.js';
import { EXIT, json, keyValues, processIo, type Io } from './tech/format.js';
import { controlRequest } from './tech/control.js';
import { ControlError, type DaemonStatus } from '../kiosk/control.js';
import { daemonState, PERMISSION_DENIED } from './tech/probe.js';
import { installedReleases, releaseInfo, type ReleaseInfo } from '../release.js';
import { ConfigError, formatProblem, loadConfig, resolveConfigPath, type Config } from '../config/index.js';
import { journalSchemaVersion } from '../journal/journal.js';
import { JournalError, SCHEMA_VERSION } from '../journal/schema.js';

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => version(argv, io));
}

interface DaemonView {
  state: 'running' | 'not running' | 'unknown';
  detail: string;
  release?: { id: string; root: string };
  pid?: number;
  /** The customer interaction's state (idle, entering, ready, processing, result). */
  interaction?: string;
}

interface JournalView {
  ok: boolean;
  detail: string;
  schema?: number;
}

function describe(r: ReleaseInfo | undefined): string {
  if (!r) return 'none';
  return `${r.id}${r.installedAt ? `, installed ${r.installedAt}` : ''}${r.commit ? `, commit ${r.commit}` : ''}`;
}

async function askDaemon(config: Config): Promise<DaemonView> {
  const d = daemonState(config);
  if (d.denied) return { state: 'unknown', detail: PERMISSION_DENIED };
  if (!d.running) return { state: 'not running', detail: 'not running' };
  try {
    const s = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 2000);
    return { state: 'running', pid: s.pid, ...(s.release ? { release: s.release } : {}), ...(typeof s.interaction === 'string' ? { interaction: s.interaction } : {}), detail: `pid ${s.pid}, release ${s.release?.id ?? '(too old to say)'}, up since ${s.startedAt ?? '?'}` };
  } catch (err) {
    if (err instanceof ControlError && err.code === 'E_CONTROL_REFUSED') return { state: 'unknown', pid: d.pid, detail: PERMISSION_DENIED };
    return { state: 'running', pid: d.pid, detail: `pid ${d.pid}; control socket: ${(err as Error).message}` };
  }
}

function journalView(config: Config): JournalView {
  try {
    const schema = journalSchemaVersion(config.journal.path);
    if (schema > SCHEMA_VERSION) {
      return { ok: false, schema, detail: `${config.journal.path}: schema ${schema} is newer than this release knows (${SCHEMA_VERSION}): a newer release migrated it; this one would refuse to open it` };
    }
    return { ok: true, schema, detail: `schema ${schema}${schema < SCHEMA_VERSION ? ` (this release migrates it to ${SCHEMA_VERSION} at its first start)` : ''}` };
  } catch (err) {
    if (err instanceof JournalError && err.code === 'NO_JOURNAL') return { ok: true, detail: `none yet at ${config.journal.path} (this release writes schema ${SCHEMA_VERSION})` };
    if (err instanceof JournalError) return { ok: false, detail: err.message };
    return { ok: false, detail: `${config.journal.path}: ${(err as Error).message}` };
  }
}

/** Native modules load: a release whose npm ci built nothing for this CPU fails here, not in the daemon. */
async function nativeCheck(): Promise<string | undefined> {
  try {
    const { default: Database } = await import('better-sqlite3');
    new Database(':memory:').close();
    await import('serialport');
    return undefined;
  } catch (err) {
    return (err as Error).message.split('\n')[0];
  }
}

function seconds(v: string | true | undefined, name: string): string | undefined {
  if (v !== undefined && (typeof v !== 'string' || !/^[0-9]+$/.test(v))) throw new UsageError(`--${name} must be a whole number of seconds, got ${JSON.stringify(v)}`);
  return v;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function version(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCommand('version', argv);
  const waitText = seconds(args.flags['wait-ready'], 'wait-ready');
  const idleText = seconds(args.flags['wait-idle'], 'wait-idle');
  const self = releaseInfo();
  const rel = installedReleases(self);

  // The config is optional here: a first install has only the example (version still answers).
  const file = resolveConfigPath(typeof args.flags.config === 'string' ? args.flags.config : undefined, io.env);
  let config: Config | undefined;
  let configProblem: string | undefined;
  try {
    config = loadConfig(file, { checkFiles: false });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // The problem itself, not the heading of a list ("…: 1 problem in the config:").
    const [first] = err.problems;
    configProblem = !first ? err.message.split('\n')[0] : err.problems.length === 1 ? formatProblem(first) : `${err.problems.length} problems in the config, the first: ${formatProblem(first)} (kiosk doctor lists them)`;
  }

  if (idleText !== undefined) {
    if (!config) throw new CommandExit(EXIT.USAGE, `${configProblem} (--wait-idle needs the daemon's control socket from the config)`);
    // 'ready' rests in fixed pricing; in menu/keyed mode it means a customer chose and is about to scan.
    const resting = new Set(['idle', 'stopped', ...(config.pricing.mode === 'fixed' ? ['ready'] : [])]);
    const deadline = performance.now() + Number(idleText) * 1000;
    let last: DaemonView;
    for (;;) {
      last = await askDaemon(config);
      if (last.state === 'not running' || last.interaction === undefined || resting.has(last.interaction)) {
        io.out(`idle: ${last.state === 'running' ? `no customer (${last.interaction ?? 'not reported'})` : last.detail}\n`);
        return EXIT.OK;
      }
      if (performance.now() >= deadline) break;
      await sleep(250);
    }
    io.err(`kiosk: a customer is still ${last.interaction} after ${idleText} s\n`);
    return EXIT.PROBLEM;
  }

  if (waitText !== undefined) {
    if (!config) throw new CommandExit(EXIT.USAGE, `${configProblem} (--wait-ready needs the daemon's control socket from the config)`);
    const deadline = performance.now() + Number(waitText) * 1000;
    let last: DaemonView;
    for (;;) {
      last = await askDaemon(config);
      if (last.release?.root === self.root) {
        io.out(`ready: ${self.id} answers (${last.detail})\n`);
        return EXIT.OK;
      }
      if (performance.now() >= deadline) break;
      await sleep(200);
    }
    io.err(`kiosk: no daemon of release ${self.id} answered within ${waitText} s (last seen: ${last.detail})\n`);
    return EXIT.PROBLEM;
  }

  const daemon = config ? await askDaemon(config) : { state: 'unknown' as const, detail: `not asked: ${configProblem}` };
  const journal = config ? journalView(config) : { ok: true, detail: `not checked: ${configProblem}` };
  const native = args.flags.check ? await nativeCheck() : undefined;
  const ok = !args.flags.check || (native === undefined && journal.ok);

  if (args.flags.json) {
    io.out(json({ ok, this: self, current: rel.current ?? null, previous: rel.previous ?? null, kept: rel.kept, daemon, journal: { ...journal, knows: SCHEMA_VERSION }, ...(args.flags.check ? { native: native ?? 'ok' } : {}) }));
    return ok ? EXIT.OK : EXIT.PROBLEM;
  }
  const pairs: [string, string][] = [
    ['this', `${self.id} (${self.root})`],
    ['current', rel.appDir ? describe(rel.current) : 'not an installed release (run from a checkout)'],
    ['previous', rel.appDir ? describe(rel.previous) : '-'],
    ['kept', rel.kept.length ? rel.kept.join(', ') : '-'],
    ['daemon', daemon.detail],
    ['journal', journal.detail],
  ];
  if (args.flags.check) pairs.push(['native modules', native ?? 'load']);
  io.out(keyValues(pairs));
  if (args.flags.check && !ok) io.out(`NOT OK: ${native ? 'the native modules do not load' : journal.detail}\n`);
  return ok ? EXIT.OK : EXIT.PROBLEM;
}
