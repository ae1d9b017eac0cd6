// Keypad on the Pi's GPIO through onoff: a row/column matrix or one pin per key, debounced.
//
// Matrix: at rest every row is driven active and each column is watched for an edge (no CPU used while nobody
// types). The first edge starts a scan loop (every scanMs: drive one row at a time, read the columns) that runs
// until every key has been released for debounceMs, then it goes back to waiting for edges. sysfs has no pull
// control: columns need pull-ups (config.txt `gpio=<cols>=ip,pu`, or resistors) when activeLow.
import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import { GpioPins, type GpioLike, type GpioOptions } from '../gpio.js';
import { KEYS, type Keypad } from '../keypad.js';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { DEFAULTS } from '../../config/defaults.js';

/** config `keypad` with driver 'gpio'. */
export interface GpioKeypadOptions extends GpioOptions {
  /** Default 'matrix'. */
  layout?: 'matrix' | 'direct';
  /** Matrix: row pins (driven), BCM. */
  rows?: number[];
  /** Matrix: column pins (read), BCM. */
  cols?: number[];
  /** Matrix: key labels row-major, rows × cols characters. Default '123456789*0#'. */
  keys?: string;
  /** Direct: key label → BCM pin. */
  pins?: Record<string, number>;
  /** A press or release counts once stable this long. Default 30. */
  debounceMs?: number;
  /** Active = electrically low (rows pull columns to ground; keys switch to ground). Default true. */
  activeLow?: boolean;
  /** Matrix scan period while a key is down, ms. Default 5. */
  scanMs?: number;
  timers?: Clock;
  log?: Logger;
}

interface KeyState { stable: boolean; candidate: boolean; since: number }

export class GpioKeypad extends EventEmitter implements Keypad {
  private pins: GpioPins | null = null;
  private rows: GpioLike[] = [];
  private cols: GpioLike[] = [];
  private direct: { key: string; pin: GpioLike; timer: TimerHandle | null; stable: boolean }[] = [];
  private state = new Map<string, KeyState>();
  private scanning: TimerHandle | null = null;
  private readonly timers: Clock;
  private readonly debounceMs: number;
  private readonly labels: string;
  private closed = false;

  constructor(private readonly options: GpioKeypadOptions) {
    super();
    this.timers = options.timers ?? systemClock;
    this.debounceMs = options.debounceMs ?? DEFAULTS.keypad.debounceMs;
    this.labels = options.keys ?? DEFAULTS.keypad.keys;
    if ((options.layout ?? 'matrix') === 'matrix') {
      const want = (options.rows?.length ?? 0) * (options.cols?.length ?? 0);
      if (want === 0 || this.labels.length !== want) {
        throw new RangeError(`keypad.keys has ${this.labels.length} labels but rows × cols is ${options.rows?.length ?? 0} × ${options.cols?.length ?? 0} = ${want}`);
      }
    }
    for (const k of (options.layout ?? 'matrix') === 'matrix' ? this.labels : Object.keys(options.pins ?? {})) {
      if (k.length !== 1 || !KEYS.includes(k)) throw new RangeError(`keypad key ${JSON.stringify(k)} is not one of ${KEYS}`);
    }
  }

  async open(): Promise<void> {
    this.closed = false;
    this.pins = await GpioPins.create(this.options);
    const activeLow = this.options.activeLow ?? true;
    if ((this.options.layout ?? 'matrix') === 'direct') {
      for (const [key, bcm] of Object.entries(this.options.pins ?? {})) {
        const pin = this.pins.open(bcm, 'in', 'both', { activeLow });
        const entry = { key, pin, timer: null as TimerHandle | null, stable: pin.readSync() === 1 };
        this.direct.push(entry);
        pin.watch(() => this.directEdge(entry));
      }
      return;
    }
    this.rows = (this.options.rows ?? []).map((bcm) => this.pins!.open(bcm, 'out', 'none', { activeLow }));
    this.cols = (this.options.cols ?? []).map((bcm) => this.pins!.open(bcm, 'in', 'both', { activeLow }));
    for (const key of this.labels) this.state.set(key, { stable: false, candidate: false, since: 0 });
    for (const col of this.cols) col.watch(() => this.wake());
    this.rest();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.scanning !== null) this.timers.clearInterval(this.scanning);
    this.scanning = null;
    for (const d of this.direct) if (d.timer !== null) this.timers.clearTimeout(d.timer);
    this.direct = [];
    this.rows = [];
    this.cols = [];
    this.pins?.close();
    this.pins = null;
  }

  /** Direct layout: each edge restarts the key's debounce timer; the level read when it fires counts. */
  private directEdge(entry: (typeof this.direct)[number]): void {
    if (entry.timer !== null) this.timers.clearTimeout(entry.timer);
    entry.timer = this.timers.setTimeout(() => {
      entry.timer = null;
      if (this.closed) return;
      const down = entry.pin.readSync() === 1;
      if (down === entry.stable) return;
      entry.stable = down;
      if (down) this.emit('key', entry.key);
    }, this.debounceMs);
  }

  /** Matrix at rest: all rows active, so any key pulls its column; a key already down starts a scan. */
  private rest(): void {
    for (const row of this.rows) row.writeSync(1);
    if (this.cols.some((c) => c.readSync() === 1)) this.wake();
  }

  private wake(): void {
    if (this.scanning !== null || this.closed) return;
    const every = this.options.scanMs ?? 5;
    this.scanning = this.timers.setInterval(() => this.scan(), every);
    this.scan();
  }

  private scan(): void {
    if (this.closed) return;
    const now = this.timers.mono();
    const n = this.cols.length;
    let anyDown = false;
    for (let r = 0; r < this.rows.length; r++) {
      for (let i = 0; i < this.rows.length; i++) this.rows[i]!.writeSync(i === r ? 1 : 0);
      for (let c = 0; c < n; c++) {
        const key = this.labels[r * n + c]!;
        const s = this.state.get(key)!;
        const raw = this.cols[c]!.readSync() === 1;
        if (raw !== s.candidate) {
          s.candidate = raw;
          s.since = now;
        }
        if (s.candidate !== s.stable && now - s.since >= this.debounceMs) {
          s.stable = s.candidate;
          if (s.stable) this.emit('key', key);
        }
        if (s.candidate || s.stable) anyDown = true;
      }
    }
    if (!anyDown && this.scanning !== null) {
      this.timers.clearInterval(this.scanning);
      this.scanning = null;
      this.rest();
    }
  }
}

