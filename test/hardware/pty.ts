// A real pseudo-terminal pair from socat, for scanner tests through the native serialport binding.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { EventEmitter } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exitOf, terminate, until } from '../wait.js';
import { attachToPty } from '../../src/hardware/sim/pty-end.js';

export class PtyPair {
  readonly dir = mkdtempSync(join(tmpdir(), 'kiosk-pty-'));
  /** The end the scanner driver opens. */
  readonly device = join(this.dir, 'scanner');
  /** The end a test writes "scanned" bytes to. */
  readonly feeder = join(this.dir, 'feeder');
  private proc: ChildProcess | null = null;

  /** Starts socat and waits (bounded) for both links to appear. */
  async start(): Promise<void> {
    const proc = spawn('socat', [`pty,raw,echo=0,link=${this.device}`, `pty,raw,echo=0,link=${this.feeder}`], { stdio: 'ignore' });
    this.proc = proc;
    await until(`socat's links in ${this.dir}`, () => (existsSync(this.device) && existsSync(this.feeder) ? true : undefined), { deadlineMs: 5000, everyMs: 5, abort: exitOf(proc, 'socat') });
  }

  /** Kills socat (the "unplug"): both ptys vanish. Resolves once it has exited. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    await terminate(proc);
  }

  /**
   * Puts a simulated module (or a simulated vending machine behind its MDB HAT) on the feeder end: it reads the
   * driver's commands and writes answers and scans.
   */
  attach(sim: EventEmitter & { receive(b: Buffer): void }): () => void {
    return attachToPty(this.feeder, sim);
  }

  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
