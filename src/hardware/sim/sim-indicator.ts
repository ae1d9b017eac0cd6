// Simulated indicator: reports lamp and buzzer changes as events for the demo panel (and tests).
import { PatternIndicator, type Lamp, type LampState } from '../indicator.js';
import type { Clock } from '../../clock.js';

/** Events: 'lamp' ({lamp, state}), 'buzzer' (on: boolean), 'pattern' ({pattern, orderNo?}). */
export class SimIndicator extends PatternIndicator {
  readonly lamps: Record<Lamp, LampState> = { green: { mode: 'off' }, red: { mode: 'off' }, amber: { mode: 'off' } };
  buzzer = false;

  constructor(options: { timers?: Clock } = {}) {
    super(options.timers);
  }

  async open(): Promise<void> {}
  protected async release(): Promise<void> {}

  protected setLamp(lamp: Lamp, state: LampState): void {
    this.lamps[lamp] = state;
    this.emit('lamp', { lamp, state });
  }

  protected setBuzzer(on: boolean): void {
    this.buzzer = on;
    this.emit('buzzer', on);
  }
}
