// Log indicator: each pattern change is one JSON log line {indicator: <pattern>, orderNo?}. It is how headless
// tests and technicians see what the lights would show.
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { PatternIndicator, type Pattern, type ShowInfo } from './indicator.js';

export class LogIndicator extends PatternIndicator {
  private readonly log: Logger;

  constructor(options: { log?: Logger } = {}) {
    super();
    this.log = options.log ?? silentLogger;
  }

  async open(): Promise<void> {}
  protected async release(): Promise<void> {}

  override show(pattern: Pattern, info: ShowInfo = {}): void {
    super.show(pattern, info);
    this.log.info(info.orderNo ? { indicator: pattern, orderNo: info.orderNo } : { indicator: pattern }, `indicator ${pattern}`);
  }

  // No lamps, no buzzer: beeps would only be timers firing into nothing.
  protected setLamp(): void {}
  protected setBuzzer(): void {}
}
