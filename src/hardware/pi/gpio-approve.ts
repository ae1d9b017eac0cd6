// Vend relay on a GPIO line (onoff): active for pulseMs, then inactive; resolves after the pulse ends.
import { GpioPins, type GpioLike, type GpioOptions } from '../gpio.js';
import { PulseQueue, type ApproveOutput } from '../approve.js';
import { systemClock, type Clock } from '../../clock.js';
import { DEFAULTS } from '../../config/defaults.js';

/** config `approve` with driver 'gpio'. */
export interface GpioApproveOptions extends GpioOptions {
  /** BCM pin. */
  pin: number;
  /** Default 500. */
  pulseMs?: number;
  /** Active = electrically low (most relay boards with an opto input). Default false. */
  activeLow?: boolean;
  timers?: Clock;
}

export class GpioApprove implements ApproveOutput {
  private pins: GpioPins | null = null;
  private line: GpioLike | null = null;
  private readonly queue = new PulseQueue();
  private readonly timers: Clock;

  constructor(private readonly options: GpioApproveOptions) {
    this.timers = options.timers ?? systemClock;
  }

  async open(): Promise<void> {
    this.pins = await GpioPins.create(this.options);
    // 'high'/'low' set the level as the pin becomes an output, so the relay never glitches on at start.
    const activeLow = this.options.activeLow ?? false;
    this.line = this.pins.open(this.options.pin, activeLow ? 'high' : 'low', 'none', { activeLow });
    this.line.writeSync(0);
  }

  pulse(ms = this.options.pulseMs ?? DEFAULTS.approve.pulseMs): Promise<void> {
    return this.queue.run(
      () =>
        new Promise<void>((resolve, reject) => {
          const line = this.line;
          if (!line) return reject(new Error('approve output is not open'));
          line.writeSync(1);
          this.timers.setTimeout(() => {
            try {
              line.writeSync(0);
              resolve();
            } catch (err) {
              reject(err instanceof Error ? err : new Error(String(err)));
            }
          }, ms);
        }),
    );
  }

  async close(): Promise<void> {
    try {
      this.line?.writeSync(0);
    } catch {
      // already released
    }
    this.line = null;
    this.pins?.close();
    this.pins = null;
  }
}
