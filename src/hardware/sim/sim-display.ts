// Simulated display: keeps the lines for the demo panel (and tests); 'screen' is emitted on every change.
import { BaseDisplay, type DisplayGeometry } from '../display.js';

export class SimDisplay extends BaseDisplay {
  constructor(options: { geometry?: DisplayGeometry } = {}) {
    super(options.geometry ?? { cols: 16, rows: 2 });
  }
  async open(): Promise<void> {}
  protected draw(): void {}
  protected async release(): Promise<void> {}
}
