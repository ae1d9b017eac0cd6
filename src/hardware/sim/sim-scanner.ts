// Simulated scanner: lines typed in the demo panel (or fed by tests) go through the same parser as the serial port.
import { EventEmitter } from 'node:events';
import { ScanParser, type Scanner, type ScannerParseOptions } from '../scanner.js';

export type SimScannerOptions = ScannerParseOptions;

export class SimScanner extends EventEmitter implements Scanner {
  readonly parser: ScanParser;
  private isOpen = false;

  constructor(private readonly options: SimScannerOptions = {}) {
    super();
    this.parser = new ScanParser(options, (code) => this.emit('code', code), (bad) => this.emit('bad', bad));
  }

  get connected(): boolean {
    return this.isOpen;
  }

  async open(): Promise<void> {
    this.isOpen = true;
    this.emit('connected', { path: 'sim' });
  }

  async close(): Promise<void> {
    this.isOpen = false;
    this.parser.reset();
  }

  /** One scanned line; the configured terminator is added. */
  push(line: string): void {
    const t = this.options.terminator ?? 'CR';
    this.write(line + (t === 'CR' ? '\r' : t === 'LF' ? '\n' : '\r\n'));
  }

  /** Raw bytes as a serial port would deliver them (split chunks, noise). */
  write(bytes: Buffer | string): void {
    if (this.isOpen) this.parser.push(bytes);
  }
}
