// Simulated scanner: lines typed in the demo panel (or fed by tests) go through the same parser as the serial port.
// With a simulated module (`sim`), bytes go through the same module session as on a serial port: the demo runs
// a simulated GM module that is identified, set up and triggered exactly like a real one.
import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import type { ScanParser, Scanner, ScannerParseOptions } from '../scanner.js';
import { scanLines } from '../scan-lines.js';
import type { ModuleOptions } from '../modules/options.js';
import type { ModuleSession, ModuleStatus, SetupReport } from '../modules/session.js';
import { silentLogger } from '../../log.js';
import { systemClock, type Clock } from '../../clock.js';
import type { ModuleSim } from './module-sim.js';

export interface SimScannerOptions extends ScannerParseOptions, ModuleOptions {
  /** The simulated module the bytes go to (only with `module` set). */
  sim?: ModuleSim;
  baudRate?: number;
  timers?: Clock;
  log?: Logger;
}

export class SimScanner extends EventEmitter implements Scanner {
  readonly parser: ScanParser;
  readonly session: ModuleSession | null;
  private isOpen = false;
  private readonly onOutput = (b: Buffer) => this.deliver(b);

  constructor(private readonly options: SimScannerOptions = {}) {
    super();
    const sim = options.sim;
    // With a simulated module the bytes go through a module session, as on a serial port; without one, straight to
    // the parser.
    ({ parser: this.parser, session: this.session } = scanLines(this, sim ? options : { ...options, module: 'plain' }, {
      path: 'sim',
      baudRate: options.baudRate ?? 9600,
      // Delivered on a later tick, like bytes over a wire: an answer never arrives inside the write call.
      write: async (bytes) => {
        if (!this.isOpen) throw new Error('sim scanner closed');
        setImmediate(() => sim!.receive(bytes, options.baudRate ?? 9600));
      },
      timers: options.timers ?? systemClock,
      log: options.log ?? silentLogger,
    }));
  }

  get connected(): boolean {
    return this.isOpen;
  }

  get moduleStatus(): ModuleStatus | undefined {
    return this.session?.status;
  }

  arm(ready: boolean): void {
    this.session?.arm(ready);
  }

  async setupModule(mode: 'apply' | 'dry-run', timeoutMs: number): Promise<SetupReport> {
    if (!this.session) throw new Error('no simulated module behind this scanner: no command protocol');
    if (!this.isOpen) throw new Error('the scanner is not connected (sim)');
    return this.session.setupNow(mode, timeoutMs);
  }

  async open(): Promise<void> {
    this.isOpen = true;
    if (this.session && this.options.sim) {
      this.options.sim.on('output', this.onOutput);
      const st = await this.session.start();
      this.emit('module', st);
      if (st.state !== 'ready') {
        this.emit('fault', { reason: st.error ?? st.state, path: 'sim' });
        return;
      }
    }
    this.emit('connected', { path: 'sim' });
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.session?.close();
    this.options.sim?.off('output', this.onOutput);
    this.parser.reset();
  }

  /** One scanned line; the configured terminator is added. With a simulated module: the code is presented to it. */
  push(line: string): void {
    if (this.session && this.options.sim) {
      this.options.sim.present(line);
      return;
    }
    const t = this.options.terminator ?? 'CR';
    this.write(line + (t === 'CR' ? '\r' : t === 'LF' ? '\n' : '\r\n'));
  }

  /** Raw bytes as a serial port would deliver them (split chunks, noise). */
  write(bytes: Buffer | string): void {
    if (this.isOpen) this.parser.push(bytes);
  }

  private deliver(bytes: Buffer): void {
    if (!this.isOpen) return;
    setImmediate(() => this.session?.ingest(bytes));
  }
}
