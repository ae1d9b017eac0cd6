// `npm run soak -- --payments N [--faults] [--seed S]`: N customers through the daemon (the real
// Daemon.start wiring in a child process, bench/daemon-child.ts), scanning over a real pty (socat) into the
// serial scanner driver, log indicator, the sandbox as the gateway. A random mix of the sandbox's test codes;
// with --faults also random gateway faults (sandbox.setFaults) and daemon kills (SIGKILL mid-payment, then a
// restart whose recovery finishes what was open). At the end the daemon is restarted until every journal
// order is final, then the crash harness's invariants are checked against the sandbox ledger
// (test/crash/harness.ts checkInvariants). Prints payments/minute, outcomes, RSS over time, journal size.
// The customer window, query interval and result display are shortened in memory (see daemon-child.ts).
import { closeSync, existsSync, openSync, statSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { orderNoPrefix } from '../src/journal/journal.js';
import { testCode, type Behaviour, type Fault, type FaultKind } from '../src/sandbox/index.js';
import type { OrderType } from '../src/umpay/types.js';
import { checkInvariants, rng, type Verdict } from '../test/crash/harness.js';
import { PtyPair } from '../test/hardware/pty.js';
import { BenchFixture, ChildDaemon } from './fixture.js';

export interface SoakOptions {
  payments: number;
  faults: boolean;
  seed: number;
  /** Chance per customer of a daemon SIGKILL (with faults). Default 1/250. */
  killChance?: number;
  /** Chance per customer of a gateway fault being armed (with faults). Default 0.05. */
  faultChance?: number;
  /** Progress lines (default: none). */
  progress?: (line: string) => void;
}

export interface SoakResult {
  payments: number;
  seconds: number;
  perMinute: number;
  outcomes: Record<string, number>;
  kills: number;
  faultsArmed: number;
  faultsApplied: Record<string, number>;
  rss: { customer: number; pid: number; rssMB: number }[];
  journalBytes: number;
  journalOrders: number;
  recoveryMs: number;
  verdict: Verdict;
}

// Weighted towards the common case; every behaviour of the sandbox appears.
const MIX: [Behaviour, number][] = [
  ['paid', 10],
  ['pending-then-paid', 2],
  ['pending-forever', 1],
  ['insufficient-balance', 1],
  ['expired', 1],
  ['reused', 1],
  ['answer-lost', 2],
];
const WALLETS: OrderType[] = ['wechat', 'alipay', 'unionpay'];
const FAULTS: FaultKind[] = ['latency', 'http-500', 'html', 'truncated-json', 'bad-signature', 'drop-before-charge', 'drop-after-charge', 'rate-limit'];
const PATHS = ['micropay', 'queryOrder', 'cancelOrder', 'closeOrder', 'refund', 'refundQuery'];

function pick<T>(r: () => number, weighted: [T, number][]): T {
  const total = weighted.reduce((a, [, w]) => a + w, 0);
  let x = r() * total;
  for (const [v, w] of weighted) if ((x -= w) < 0) return v;
  return weighted[weighted.length - 1]![0];
}

function rssMB(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

function unfinished(db: string): number {
  const conn = new Database(db, { readonly: true, fileMustExist: true });
  try {
    return (conn.prepare('SELECT count(*) AS n FROM orders WHERE final = 0').get() as { n: number }).n;
  } finally {
    conn.close();
  }
}

export async function soak(o: SoakOptions): Promise<SoakResult> {
  const r = rng(o.seed);
  const say = o.progress ?? (() => undefined);
  const killChance = o.faults ? (o.killChance ?? 1 / 250) : 0;
  const faultChance = o.faults ? (o.faultChance ?? 0.05) : 0;
  const fx = await new BenchFixture().start();
  const pty = new PtyPair();
  let d: ChildDaemon | undefined;
  let feeder: number | undefined;
  let logFd: number | undefined;
  try {
    await pty.start();
    fx.writeConfig({ scanner: { driver: 'serial', path: pty.device, reopenMinMs: 50, reopenMaxMs: 500 }, log: { level: 'info' } });
    logFd = openSync(path.join(fx.dir, 'daemon.log'), 'a');
    const startDaemon = async (): Promise<ChildDaemon> => {
      const child = new ChildDaemon(fx.configFile, { BENCH_WINDOW_MS: '300', BENCH_QUERY_MS: '30' }, logFd);
      await child.ready;
      return child;
    };
    d = await startDaemon();
    feeder = openSync(pty.feeder, 'w');
    const outcomes: Record<string, number> = {};
    const rss: SoakResult['rss'] = [];
    const sampleEvery = Math.max(1, Math.floor(o.payments / 20));
    let kills = 0;
    let faultsArmed = 0;
    const nonce0 = Date.now() % 1_000_000;
    const started = Date.now();
    for (let i = 0; i < o.payments; i++) {
      if (i % sampleEvery === 0) rss.push({ customer: i, pid: d.proc.pid!, rssMB: rssMB(d.proc.pid) });
      if (r() < faultChance) {
        const kind = FAULTS[Math.floor(r() * FAULTS.length)]!;
        const fault: Fault = { kind, count: 1, path: PATHS[Math.floor(r() * PATHS.length)]! };
        if (kind === 'latency') Object.assign(fault, { ms: 50 + Math.floor(r() * 400), after: r() < 0.5 });
        if (kind === 'http-500' || kind === 'html') fault.charge = r() < 0.5;
        fx.sandbox.setFaults([fault]);
        faultsArmed++;
      }
      const behaviour = pick(r, MIX);
      const code = testCode(behaviour, WALLETS[Math.floor(r() * WALLETS.length)], nonce0 + i, behaviour === 'pending-then-paid' ? { queries: 1 + Math.floor(r() * 3) } : {});
      const { paid, readyAgain } = d.expectCustomer(20_000);
      const kill = r() < killChance;
      writeSync(feeder, `${code}\r`);
      if (kill) {
        const child = d;
        // Mostly while the payment is in flight (a paid one takes a few ms), sometimes just after.
        setTimeout(() => child.proc.kill('SIGKILL'), Math.floor(r() * 10));
        readyAgain.catch(() => undefined);
        const result = await paid.then((m) => m.kind!, () => 'killed');
        await child.exited;
        outcomes[`${result} (then killed)`] = (outcomes[`${result} (then killed)`] ?? 0) + 1;
        kills++;
        d = await startDaemon();
        continue;
      }
      const result = await paid;
      await readyAgain;
      outcomes[result.kind!] = (outcomes[result.kind!] ?? 0) + 1;
      if ((i + 1) % Math.max(1, Math.floor(o.payments / 10)) === 0) say(`soak: ${i + 1}/${o.payments} customers, ${(((i + 1) / (Date.now() - started)) * 60_000).toFixed(0)}/min, daemon RSS ${rssMB(d.proc.pid).toFixed(1)} MB`);
    }
    const seconds = (Date.now() - started) / 1000;
    rss.push({ customer: o.payments, pid: d.proc.pid!, rssMB: rssMB(d.proc.pid) });
    fx.sandbox.setFaults([]);
    await d.stop();
    // Recovery: a fresh daemon finishes whatever the last one left open (reversals, refunds, queries).
    const recoveryStart = Date.now();
    d = await startDaemon();
    while (unfinished(fx.journalPath) > 0) {
      if (Date.now() - recoveryStart > 120_000) throw new Error(`${unfinished(fx.journalPath)} orders still not final 120 s after the soak`);
      await new Promise((res) => setTimeout(res, 100));
    }
    const recoveryMs = Date.now() - recoveryStart;
    await d.stop();
    d = undefined;
    const verdict = checkInvariants(fx.journalPath, fx.sandbox.ledger(), orderNoPrefix('BENCH01'));
    const journalBytes = ['', '-wal'].map((s) => fx.journalPath + s).filter(existsSync).reduce((a, f) => a + statSync(f).size, 0);
    return {
      payments: o.payments,
      seconds,
      perMinute: (o.payments / seconds) * 60,
      outcomes,
      kills,
      faultsArmed,
      faultsApplied: fx.sandbox.stats().faultsApplied,
      rss,
      journalBytes,
      journalOrders: verdict.orders,
      recoveryMs,
      verdict,
    };
  } finally {
    if (feeder !== undefined) closeSync(feeder);
    await d?.stop();
    if (logFd !== undefined) closeSync(logFd);
    await pty.dispose();
    await fx.dispose();
  }
}

export function formatSoak(s: SoakResult): string {
  const lines = [
    `customers: ${s.payments} in ${s.seconds.toFixed(1)} s = ${s.perMinute.toFixed(0)} payments/minute`,
    `outcomes: ${Object.entries(s.outcomes).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    `daemon kills: ${s.kills}; gateway faults armed ${s.faultsArmed}, applied ${JSON.stringify(s.faultsApplied)}`,
    `RSS (MB) by customer: ${s.rss.map((x) => `${x.customer}:${x.rssMB.toFixed(1)}`).join(' ')}`,
    `journal: ${s.journalOrders} orders, ${(s.journalBytes / 1048576).toFixed(2)} MB (db + wal); final recovery ${s.recoveryMs} ms`,
    `journal states: ${Object.entries(s.verdict.byState).map(([k, n]) => `${k} ${n}`).join(', ')}`,
    s.verdict.problems.length === 0 ? 'invariants: ok (no double charge; every charge delivered, reversed or refunded; all final; integrity ok)' : `invariants: ${s.verdict.problems.length} PROBLEMS:\n  ${s.verdict.problems.slice(0, 50).join('\n  ')}`,
  ];
  return lines.join('\n');
}

function parse(argv: string[]): SoakOptions {
  const o: SoakOptions = { payments: 1000, faults: false, seed: Date.now() % 100_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const num = (name: string) => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) throw new Error(`soak: ${name} takes a whole number ≥ 1 (got ${JSON.stringify(argv[i])})`);
      return v;
    };
    if (a === '--payments') o.payments = num('--payments');
    else if (a === '--seed') o.seed = num('--seed');
    else if (a === '--faults') o.faults = true;
    else throw new Error(`soak: unknown option ${JSON.stringify(a)} (usage: soak --payments N [--faults] [--seed S])`);
  }
  return o;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o: SoakOptions;
  try {
    o = parse(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  process.stdout.write(`soak: ${o.payments} customers${o.faults ? ' with faults and daemon kills' : ''}, seed ${o.seed}\n`);
  const s = await soak({ ...o, progress: (l) => process.stdout.write(l + '\n') });
  process.stdout.write(formatSoak(s) + '\n');
  process.exitCode = s.verdict.problems.length === 0 ? 0 : 1;
}
