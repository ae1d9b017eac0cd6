// Memory: RSS of the daemon process at ready and after N (default 10,000) payments through the sandbox.
// The daemon (Daemon.start, as `kiosk run`) runs alone in a child with --expose-gc and a sim scanner fed
// over IPC; the sandbox and this driver live in the parent, so the RSS is the kiosk's alone. Each
// reading follows a full GC in the child. Payments are paid test codes (the common path); the customer
// window and result display are shortened in memory (BENCH_FAST) so 10,000 customers take a minute or two.
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCode } from '../src/sandbox/index.js';
import { BenchFixture, DAEMON_CHILD_JS } from './fixture.js';
import { runStandalone, type BenchRow } from './lib.js';

const PAYMENTS = Number(process.env.BENCH_PAYMENTS ?? 10_000);
const READY_BUDGET_MB = 70;
const GROWTH_BUDGET = 0.1;

type Msg = { type: string; kind?: string; name?: string; rss?: number; heapUsed?: number };

/** A forked daemon-child with helpers to wait for its IPC messages. */
export class ChildDaemon {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  stderr = '';

  constructor(configFile: string, env: NodeJS.ProcessEnv = {}, stdout: 'ignore' | 'inherit' | number = 'ignore') {
    this.proc = fork(DAEMON_CHILD_JS, [configFile], { execArgv: ['--expose-gc'], stdio: ['ignore', stdout, 'pipe', 'ipc'], env: { ...process.env, BENCH_FAST: '1', ...env } });
    this.proc.stderr!.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((r) => this.proc.once('exit', (code, signal) => r({ code, signal })));
    this.ready = new Promise((resolve, reject) => {
      this.proc.on('message', (m: Msg | string) => {
        if (m === 'ready') return resolve();
        const msg = m as Msg;
        this.waiters = this.waiters.filter((w) => (w.match(msg) ? (w.resolve(msg), false) : true));
      });
      void this.exited.then(({ code, signal }) => reject(new Error(`daemon child exited (${code ?? signal}) before ready: ${this.stderr.slice(-2000)}`)));
    });
    this.ready.catch(() => undefined);
  }

  next(match: (m: Msg) => boolean, what: string, timeoutMs = 30_000): Promise<Msg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`daemon child: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-2000)}`)), timeoutMs);
      const exit = () => reject(new Error(`daemon child exited while waiting for ${what}: ${this.stderr.slice(-2000)}`));
      void this.exited.then(exit);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  /** Scans one line (sim scanner) and resolves with the customer result once the kiosk is ready again. */
  async customer(line: string): Promise<Msg> {
    const { paid, readyAgain } = this.expectCustomer();
    this.proc.send({ type: 'scan', line });
    const r = await paid;
    await readyAgain;
    return r;
  }

  /** Waiters for one customer, registered before the scan: the result, then 'ready' after it. */
  expectCustomer(timeoutMs = 30_000): { paid: Promise<Msg>; readyAgain: Promise<Msg> } {
    let seenPayment = false;
    const paid = this.next((m) => m.type === 'payment' && (seenPayment = true), 'payment result', timeoutMs);
    const readyAgain = this.next((m) => seenPayment && m.type === 'state' && m.name === 'ready', 'ready again', timeoutMs);
    return { paid, readyAgain };
  }

  async memory(): Promise<{ rss: number; heapUsed: number }> {
    const m = this.next((x) => x.type === 'mem', 'memory reading');
    this.proc.send({ type: 'mem' });
    const r = await m;
    return { rss: r.rss!, heapUsed: r.heapUsed! };
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
  }
}

export async function run(): Promise<BenchRow[]> {
  const fx = await new BenchFixture().start();
  const d = new ChildDaemon(fx.writeConfig());
  try {
    await d.ready;
    const atReady = await d.memory();
    const started = Date.now();
    const nonce = Date.now() % 1_000_000;
    let after100 = atReady;
    for (let i = 0; i < PAYMENTS; i++) {
      const r = await d.customer(testCode('paid', (['wechat', 'alipay', 'unionpay'] as const)[i % 3], nonce + i));
      if (r.kind !== 'approved') throw new Error(`payment ${i}: ${r.kind}`);
      if (i === 99) after100 = await d.memory();
    }
    const secs = (Date.now() - started) / 1000;
    const end = await d.memory();
    const mb = (b: number) => b / 1048576;
    const growth = end.rss / atReady.rss - 1;
    return [
      { name: 'memory: RSS at ready (after GC)', unit: 'MB', median: mb(atReady.rss), budget: `<= ${READY_BUDGET_MB} MB`, ok: mb(atReady.rss) <= READY_BUDGET_MB, note: `heap used ${mb(atReady.heapUsed).toFixed(1)} MB` },
      {
        name: `memory: RSS after ${PAYMENTS} payments`,
        unit: 'MB',
        median: mb(end.rss),
        baseline: 'memory: RSS at ready (after GC)',
        ratio: end.rss / atReady.rss,
        budget: `<= ${(1 + GROWTH_BUDGET).toFixed(2)}x`,
        ok: growth <= GROWTH_BUDGET,
        note: `heap used ${mb(end.heapUsed).toFixed(1)} MB; after 100 payments RSS ${mb(after100.rss).toFixed(1)} MB (growth from there ${((end.rss / after100.rss - 1) * 100).toFixed(1)} %); ${(PAYMENTS / secs).toFixed(0)} payments/s`,
      },
    ];
  } finally {
    await d.stop();
    await fx.dispose();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await run();
  await runStandalone(async () => rows);
  for (const r of rows) if (r.note) process.stdout.write(`${r.name}: ${r.note}\n`);
}
