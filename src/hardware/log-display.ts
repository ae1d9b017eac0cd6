// Log display: each screen change is one JSON log line {display: [line, line]} (trailing blanks cut). It is how
// headless kiosks, tests and technicians see what the customer reads.
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { BaseDisplay, type DisplayGeometry } from './display.js';

export class LogDisplay extends BaseDisplay {
  private readonly log: Logger;

  constructor(options: { geometry: DisplayGeometry; log?: Logger }) {
    super(options.geometry);
    this.log = options.log ?? silentLogger;
  }

  async open(): Promise<void> {}
  protected async release(): Promise<void> {}

  protected draw(next: readonly string[]): void {
    const display = next.map((l) => l.trimEnd());
    this.log.info({ display }, `display ${display.join(' / ')}`);
  }
}
