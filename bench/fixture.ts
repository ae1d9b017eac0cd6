// What several benchmarks share: a sandbox in a temp folder, a valid kiosk config for it, and the daemon
// started in-process (so a scanner binding such as MockBinding can be passed).
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config/index.js';
import type { Hardware } from '../src/hardware/index.js';
import type { Journal } from '../src/journal/journal.js';
import type { Interaction, InteractionTiming } from '../src/kiosk/interaction.js';
import { Daemon, type DaemonOptions } from '../src/kiosk/daemon.js';
import type { HttpGateway } from '../src/umpay/client.js';
import { silentLogger, type Logger } from '../src/log.js';
import type { PaymentEngine } from '../src/payment/engine.js';
import { DaemonFixture } from '../test/kiosk/daemon-helpers.js';

export const KIOSK_JS = fileURLToPath(new URL('../src/cli/kiosk.js', import.meta.url));
export const DAEMON_CHILD_JS = fileURLToPath(new URL('./daemon-child.js', import.meta.url));

/** The kiosk tests' fixture (a sandbox in a temp folder and a valid config for it), quiet logs by default. */
export class BenchFixture extends DaemonFixture {
  override writeConfig(overrides: { scanner?: Record<string, unknown>; [k: string]: unknown } = {}): string {
    return super.writeConfig({ deviceId: 'BENCH01', log: { level: 'warn' }, ...overrides });
  }
}

export interface Wiring {
  config: Config;
  journal: Journal;
  engine: PaymentEngine;
  hardware: Hardware;
  interaction: Interaction;
  /** The daemon's gateway client (its connection warm-up). */
  http: HttpGateway;
  close(): Promise<void>;
}

/** The real daemon in-process (Daemon.start), with a serialport binding for the scanner (MockBinding). */
export async function startWiring(configFile: string, o: { binding?: unknown; timing?: Partial<InteractionTiming>; log?: Logger; gateway?: DaemonOptions['gateway'] } = {}): Promise<Wiring> {
  const config = loadConfig(configFile);
  const daemon = await Daemon.start(config, { log: o.log ?? silentLogger, timing: o.timing, hardwareDeps: o.binding ? { binding: o.binding } : undefined, gateway: o.gateway });
  return { config, journal: daemon.journal, engine: daemon.engine, hardware: daemon.hardware, interaction: daemon.interaction, http: daemon.http, close: () => daemon.stop('bench done') };
}

/** Resolves on the first `event` of `emitter` for which `match` holds. */
export function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string, match: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}

export type Msg = { type: string; kind?: string; name?: string; orderNo?: string; state?: string };
export interface Mem { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers?: number; parts?: Record<string, number> }

/** The daemon (bench/daemon-child.ts) in a forked child, with helpers to wait for its IPC messages. */

export class ChildDaemon {
  readonly proc: ChildProcess;
  readonly ready: Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: { match: (m: Msg) => boolean; resolve: (m: Msg) => void }[] = [];
  stderr = '';

  constructor(configFile: string, env: NodeJS.ProcessEnv = {}, stdout: 'ignore' | 'inherit' | number = 'ignore', nodeFlags: string[] = []) {
    this.proc = fork(DAEMON_CHILD_JS, [configFile], { execArgv: ['--expose-gc', ...nodeFlags], stdio: ['ignore', stdout, 'pipe', 'ipc'], env: { ...process.env, BENCH_FAST: '1', ...env } });
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
    const readyAgain = this.next((m) => (m.type === 'payment' && m.state === 'ready') || (seenPayment && m.type === 'state' && m.name === 'ready'), 'ready again', timeoutMs);
    return { paid, readyAgain };
  }

  async memory(): Promise<Mem> {
    const m = this.next((x) => x.type === 'mem', 'memory reading');
    this.proc.send({ type: 'mem' });
    const r = await m;
    return r as unknown as Mem;
  }

  async stop(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill('SIGTERM');
    await this.exited;
  }
}

