// Releasing the product, and — with a vend sensor (`approve.confirm`) — proving it came out. Without a sensor
// this is the relay pulse and nothing more (the order is delivered when the pulse ends, as before). With one,
// the order is delivered only when the sensor saw a drop: the drop is reported to the engine the moment it is
// seen (it journals it: a crash before "delivered" is then resolved by that evidence), and no drop within
// confirmWithinMs after the pulse (after one retry pulse, if configured) fails the vend, so the engine refunds.
// The sensor's health is watched: stuck active, or no drop for brokenAfter vends in a row, is a fault (the kiosk
// takes no payments until it clears).
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { ApprovePort } from './ports.js';
import type { Clock, TimerHandle } from '../clock.js';

/** The sensor as the kiosk needs it: the debounced level and its changes. */
export interface SensorPort extends EventEmitter {
  readonly active: boolean;
}

export interface VendConfirm {
  /** After the pulse ends, wait this long for the drop. */
  confirmWithinMs: number;
  /** One more pulse when the first saw no drop. */
  retry: boolean;
  /** This many vends in a row without a drop: the sensor is taken to be broken (a fault). */
  brokenAfter: number;
  /** Active this long without a vend going on: stuck (a blocked beam, a shorted line). */
  stuckAfterMs: number;
}

export const DEFAULT_CONFIRM: VendConfirm = { confirmWithinMs: 3000, retry: false, brokenAfter: 3, stuckAfterMs: 5000 };

export type VendFailure = 'VEND_FAILED' | 'VEND_SENSOR_FAULT';

/** The engine refunds on any deliver error; these say why (flag vend-failed / vend-sensor-fault). */
export class VendError extends Error {
  constructor(message: string, readonly code: VendFailure) {
    super(message);
    this.name = 'VendError';
  }
}

export interface VendEvidence {
  /** The sensor saw the product drop (called at once, before the pulse may have ended). */
  sensed(): void;
}

export interface VendOptions {
  approve: ApprovePort;
  pulseMs: number;
  sensor?: SensorPort;
  confirm?: Partial<VendConfirm>;
  clock: Clock;
  log?: Logger;
}

/** Events: 'fault' (reason: string | null) when the sensor's health changes; 'drop' on every drop seen. */
export class Vend extends EventEmitter {
  private readonly confirm: VendConfirm;
  private readonly log: Logger;

  private missesInARow = 0;
  private stuckTimer: TimerHandle | undefined;
  private stuck = false;
  private broken = false;
  private faultShown: string | null = null;

  constructor(private readonly opts: VendOptions) {
    super();
    this.confirm = { ...DEFAULT_CONFIRM, ...opts.confirm };
    this.log = opts.log ?? silentLogger;
    const s = opts.sensor;
    if (s) {
      s.on('change', (active: boolean) => this.onChange(active));
      if (s.active) this.onChange(true);
    }
  }

  /** Why the sensor cannot be trusted now, or null. */
  get fault(): string | null {
    if (this.stuck) return `vend sensor stuck active for ${this.confirm.stuckAfterMs} ms or more`;
    if (this.broken) return `vend sensor saw no drop in ${this.missesInARow} vends in a row`;
    return null;
  }

  get sensing(): boolean {
    return this.opts.sensor !== undefined;
  }

  /** Pulses the relay; with a sensor, resolves only once a drop was seen (else VendError). */
  async release(orderNo: string, evidence?: VendEvidence): Promise<void> {
    const sensor = this.opts.sensor;
    if (!sensor) return this.opts.approve.pulse(this.opts.pulseMs);
    const fault = this.fault;
    if (fault) throw new VendError(`not released: ${fault}`, 'VEND_SENSOR_FAULT');
    const attempts = this.confirm.retry ? 2 : 1;
    for (let n = 1; n <= attempts; n++) {
      if (await this.attempt(sensor, orderNo, n, evidence)) {
        this.missesInARow = 0;
        return;
      }
      this.log.warn({ event: 'vend-not-seen', orderNo, attempt: n, confirmWithinMs: this.confirm.confirmWithinMs }, 'no drop seen after the pulse');
    }
    this.missesInARow++;
    if (this.missesInARow >= this.confirm.brokenAfter) this.broken = true;
    this.report();
    throw new VendError(`the vend sensor saw no product within ${this.confirm.confirmWithinMs} ms after ${attempts === 2 ? 'two pulses' : 'the pulse'}`, 'VEND_FAILED');
  }

  /** One pulse and its confirmation window; true when a drop was seen. */
  private attempt(sensor: SensorPort, orderNo: string, n: number, evidence?: VendEvidence): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      let seen = false;
      let pulseOver = false;
      let timer: TimerHandle | undefined;
      const done = (ok: boolean) => {
        sensor.off('change', onChange);
        if (timer !== undefined) this.opts.clock.clearTimeout(timer);
        resolve(ok);
      };
      const onChange = (active: boolean) => {
        if (!active || seen) return;
        seen = true;
        this.log.info({ event: 'vend-sensed', orderNo, attempt: n }, 'vend sensor: product dropped');
        try {
          evidence?.sensed();
        } catch (err) {
          this.log.error({ event: 'vend-evidence-error', orderNo, err }, 'could not record the drop');
        }
        if (pulseOver) done(true);
      };
      sensor.on('change', onChange);
      this.opts.approve.pulse(this.opts.pulseMs).then(
        () => {
          pulseOver = true;
          if (seen) return done(true);
          timer = this.opts.clock.setTimeout(() => done(false), this.confirm.confirmWithinMs);
        },
        (err: unknown) => {
          sensor.off('change', onChange);
          reject(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });
  }

  private onChange(active: boolean): void {
    if (active) {
      this.emit('drop');
      // Any drop proves the sensor sees things again (a technician's test drop clears "never active").
      if (this.broken) {
        this.broken = false;
        this.missesInARow = 0;
      }
      if (this.stuckTimer === undefined) {
        this.stuckTimer = this.opts.clock.setTimeout(() => {
          this.stuckTimer = undefined;
          if (this.opts.sensor?.active) {
            this.stuck = true;
            this.report();
          }
        }, this.confirm.stuckAfterMs);
      }
    } else {
      if (this.stuckTimer !== undefined) this.opts.clock.clearTimeout(this.stuckTimer);
      this.stuckTimer = undefined;
      this.stuck = false;
    }
    this.report();
  }

  private report(): void {
    const f = this.fault;
    if (f === this.faultShown) return;
    this.faultShown = f;
    if (f) this.log.error({ event: 'vend-sensor-fault', reason: f }, f);
    else this.log.info({ event: 'vend-sensor-ok' }, 'vend sensor working');
    this.emit('fault', f);
  }

  close(): void {
    if (this.stuckTimer !== undefined) this.opts.clock.clearTimeout(this.stuckTimer);
    this.stuckTimer = undefined;
  }
}
