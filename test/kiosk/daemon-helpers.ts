// Running the real daemon (`node dist/src/cli/kiosk.js run`) as a child process, against a sandbox
// started in the test process, reading its JSON log lines as they come.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../../src/log.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/start.js';
import { bound } from '../wait.js';

export const KIOSK_JS = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));

export type LogLine = Record<string, unknown> & { msg?: string; event?: string; indicator?: string; orderNo?: string };

export class DaemonProcess {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  private from = 0;

  constructor(readonly proc: ChildProcess) {
    createInterface({ input: proc.stdout! }).on('line', (text) => {
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        line = { msg: text, raw: true };
      }
      this.lines.push(line);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(line)) return true;
        w.resolve(line);
        return false;
      });
    });
    createInterface({ input: proc.stderr! }).on('line', (t) => this.stderr.push(t));
    this.exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
  }

  /** The next log line (after the previous wait's match) for which `match` holds. */
  waitFor(match: (l: LogLine) => boolean, what: string, timeoutMs = bound(30_000)): Promise<LogLine> {
    const seen = this.lines.slice(this.from).findIndex(match);
    if (seen >= 0) {
      const line = this.lines[this.from + seen]!;
      this.from += seen + 1;
      return Promise.resolve(line);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log line "${what}" within ${timeoutMs} ms; stderr: ${this.stderr.join('\n')}; last lines: ${JSON.stringify(this.lines.slice(-5))}`)), timeoutMs);
      const onExit = this.exited.then(({ code }) => reject(new Error(`daemon exited (${code}) before "${what}"; stderr: ${this.stderr.join('\n')}`)));
      void onExit;
      this.waiters.push({
        match,
        resolve: (l) => {
          clearTimeout(timer);
          this.from = this.lines.length;
          resolve(l);
        },
      });
    });
  }

  indicator(pattern: string, timeoutMs?: number): Promise<LogLine> {
    return this.waitFor((l) => l.indicator === pattern, `indicator ${pattern}`, timeoutMs);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) this.proc.kill(signal);
    return this.exited;
  }
}

/** The log of a daemon started in this process: every JSON line kept in `lines`, in order. */
export class LogCapture {
  readonly lines: LogLine[] = [];
  private readonly added = new EventEmitter();
  readonly log: Logger = createLogger({
    level: 'info',
    destination: new Writable({
      write: (chunk, _enc, cb) => {
        for (const text of String(chunk).split('\n')) {
          if (!text) continue;
          const line = JSON.parse(text) as LogLine;
          this.lines.push(line);
          this.added.emit('line', line);
        }
        cb();
      },
    }),
  });

  /** The first line (so far or to come) for which `match` holds. */
  first(match: (l: LogLine) => boolean): Promise<LogLine> {
    return new Promise((resolve) => {
      const seen = this.lines.find(match);
      if (seen) return resolve(seen);
      const on = (l: LogLine) => {
        if (!match(l)) return;
        this.added.off('line', on);
        resolve(l);
      };
      this.added.on('line', on);
    });
  }
}

export function spawnDaemon(configFile: string, env: NodeJS.ProcessEnv = {}): DaemonProcess {
  const proc = spawn(process.execPath, [KIOSK_JS, 'run', '--config', configFile], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, KIOSK_LOG_LEVEL: 'info', ...env },
  });
  return new DaemonProcess(proc);
}

/** A sandbox and a temp folder holding a daemon config for it. */
export class DaemonFixture {
  readonly dir = mkdtempSync(join(tmpdir(), 'kiosk-daemon-'));
  sandbox!: Sandbox;
  configFile = join(this.dir, 'config.json');
  journalPath = join(this.dir, 'journal.sqlite');

  /** `tls`: the sandbox serves https and the config trusts its CA (gateway.ca). */
  async start(o: { tls?: boolean } = {}): Promise<this> {
    this.sandbox = await startSandbox({ port: 0, host: '127.0.0.1', stateDir: join(this.dir, 'sandbox'), tls: o.tls });
    return this;
  }

  /** Writes the daemon's config (to `file`, default the fixture's own; several daemons may share the sandbox). */
  writeConfig(overrides: { scanner?: Record<string, unknown>; [k: string]: unknown } = {}, file = this.configFile): string {
    const config = {
      deviceId: 'TEST01',
      merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: this.sandbox.merchantKeyPath, goodsId: 'G1', goodsInfo: 'test snack' },
      gateway: {
        baseUrl: this.sandbox.baseUrl,
        platformCert: this.sandbox.platformCertPath,
        connectTimeoutMs: bound(1000),
        timeoutMs: bound(3000),
        ...(this.sandbox.caFile ? { ca: this.sandbox.caFile } : {}),
      },
      // The window scaled with the gateway's timeouts (bound): the config requires timeoutMs < customerWindowMs.
      payment: { customerWindowMs: bound(5000), queryIntervalMs: 500 },
      journal: { path: this.journalPath },
      scanner: { driver: 'sim' },
      keypad: { driver: 'none' },
      indicator: { driver: 'log' },
      // A result shows 300 ms, not 3 s: every wait for "ready again" is that much shorter (how long a result
      // shows, and that nothing is read meanwhile, is held on a fake clock in interaction.test.ts).
      display: { driver: 'log', resultMs: 300 },
      approve: { driver: 'none', pulseMs: 50 },
      pricing: { mode: 'fixed', amountFen: 100 },
      daemon: { graceMs: 3000 },
      ...overrides,
    };
    writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  }

  async dispose(): Promise<void> {
    await this.sandbox?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
