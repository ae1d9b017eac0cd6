// Simulated vend sensor for the demo and the end-to-end tests: sees a drop shortly after each approve pulse,
// unless told to miss (a jammed spiral) or stuck (a blocked beam).
import { EventEmitter } from 'node:events';
import { realTimers, type Timers } from '../timers.js';
import type { VendSensor } from '../vend-sensor.js';

export interface SimVendSensorOptions {
  /** How long after a pulse starts the product passes the beam. Default 150. */
  dropAfterMs?: number;
  /** Pulses (1 = the first since start) after which nothing falls: a jam, for the demo and the end-to-end test. */
  miss?: readonly number[];
  timers?: Timers;
}

export class SimVendSensor extends EventEmitter implements VendSensor {
  private level = false;
  /** Pulses that will not drop anything (set by the demo's "jam" key, a test, or a `miss` control command). */
  misses = 0;
  private readonly timers: Timers;
  private pulses = 0;

  constructor(private readonly options: SimVendSensorOptions = {}) {
    super();
    this.timers = options.timers ?? realTimers;
  }

  get active(): boolean {
    return this.level;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  /** The approve output pulsed: a product falls (a 30 ms beam break) unless a miss is pending. */
  pulsed(): void {
    this.pulses++;
    if (this.options.miss?.includes(this.pulses)) return;
    if (this.misses > 0) {
      this.misses--;
      return;
    }
    this.timers.setTimeout(() => {
      this.set(true);
      this.timers.setTimeout(() => this.set(false), 30);
    }, this.options.dropAfterMs ?? 150);
  }

  /** Drives the level by hand (a test, a stuck beam). */
  set(active: boolean): void {
    if (active === this.level) return;
    this.level = active;
    this.emit('change', active);
  }
}
