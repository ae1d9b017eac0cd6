// Vend sensor on a GPIO input (onoff, both edges), debounced: a level counts once it has been stable for
// debounceMs. Drop sensors give a pulse of a few tens of ms per product, so the default debounce is short.
import { EventEmitter } from 'node:events';
import { GpioPins, type GpioLike, type GpioOptions } from '../gpio.js';
import { realTimers, type TimerHandle, type Timers } from '../timers.js';
import type { VendSensor } from '../vend-sensor.js';

/** config `approve.confirm`. */
export interface GpioVendSensorOptions extends GpioOptions {
  /** BCM pin. */
  pin: number;
  /** Active = electrically low (open-collector / NPN sensors with a pull-up, the usual). Default true. */
  activeLow?: boolean;
  /** Default 5. */
  debounceMs?: number;
  timers?: Timers;
}

export class GpioVendSensor extends EventEmitter implements VendSensor {
  private pins: GpioPins | null = null;
  private line: GpioLike | null = null;
  private level = false;
  private timer: TimerHandle | null = null;
  private readonly timers: Timers;

  constructor(private readonly options: GpioVendSensorOptions) {
    super();
    this.timers = options.timers ?? realTimers;
  }

  get active(): boolean {
    return this.level;
  }

  async open(): Promise<void> {
    this.pins = await GpioPins.create(this.options);
    const line = this.pins.open(this.options.pin, 'in', 'both', { activeLow: this.options.activeLow ?? true });
    this.line = line;
    this.level = line.readSync() === 1;
    line.watch((err) => {
      if (err) return void this.emit('warning', err);
      this.edge();
    });
  }

  /** Each edge restarts the debounce; the level read when it runs out counts. */
  private edge(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    const settle = () => {
      this.timer = null;
      const line = this.line;
      if (!line) return;
      let now: boolean;
      try {
        now = line.readSync() === 1;
      } catch (err) {
        return void this.emit('warning', err);
      }
      if (now === this.level) return;
      this.level = now;
      this.emit('change', now);
    };
    const ms = this.options.debounceMs ?? 5;
    if (ms <= 0) return settle();
    this.timer = this.timers.setTimeout(settle, ms);
  }

  async close(): Promise<void> {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.line = null;
    this.pins?.close();
    this.pins = null;
  }
}
