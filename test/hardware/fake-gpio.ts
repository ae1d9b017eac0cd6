// A fake GPIO bank with onoff's Gpio API, modelled at the electrical level: outputs drive pins, inputs read
// the wired level (pull-up when nothing pulls them low), activeLow inverts like sysfs, watch() fires on edges.
import type { BinaryValue, Direction, Edge, GpioClass, GpioLike, ValueCallback } from '../../src/hardware/gpio.js';

export class FakeBank {
  readonly pins = new Map<number, FakePin>();
  /** Physical level forced on an input (a direct key to ground), by sysfs number. */
  private forced = new Map<number, BinaryValue>();
  /** Wires closed by pressed matrix keys: pairs of sysfs numbers. */
  private wires = new Set<string>();
  readonly writes: { gpio: number; value: BinaryValue; physical: BinaryValue }[] = [];
  unexported: number[] = [];

  get Gpio(): GpioClass {
    // The pin class below needs the bank; its own `this` is the pin.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const bank = this;
    return class extends FakePin {
      constructor(gpio: number, direction: Direction, edge?: Edge, options?: { activeLow?: boolean }) {
        super(bank, gpio, direction, edge ?? 'none', options?.activeLow ?? false);
      }
    };
  }

  /** The electrical level of a pin. */
  level(gpio: number): BinaryValue {
    const pin = this.pins.get(gpio);
    if (pin?.isOutput) return pin.physical;
    if (this.forced.has(gpio)) return this.forced.get(gpio)!;
    for (const w of this.wires) {
      const [a, b] = w.split('-').map(Number) as [number, number];
      const other = a === gpio ? b : b === gpio ? a : null;
      if (other !== null && this.pins.get(other)?.isOutput && this.pins.get(other)!.physical === 0) return 0;
    }
    return 1; // pull-up
  }

  force(gpio: number, physical: BinaryValue | null): void {
    if (physical === null) this.forced.delete(gpio);
    else this.forced.set(gpio, physical);
    this.settle();
  }

  connect(a: number, b: number, closed: boolean): void {
    if (closed) this.wires.add(`${a}-${b}`);
    else this.wires.delete(`${a}-${b}`);
    this.settle();
  }

  /** Re-evaluates every input; watchers see edges synchronously (a real epoll would be a tick later). */
  settle(): void {
    for (const pin of this.pins.values()) pin.update();
  }
}

class FakePin implements GpioLike {
  physical: BinaryValue = 0;
  private last: BinaryValue;
  private watchers: ValueCallback[] = [];
  constructor(
    private readonly bank: FakeBank,
    readonly gpio: number,
    readonly dir: Direction,
    readonly edgeMode: Edge,
    readonly activeLowFlag: boolean,
  ) {
    if (bank.pins.has(gpio)) throw new Error(`EBUSY: gpio ${gpio} already exported`);
    bank.pins.set(gpio, this);
    if (dir === 'high') this.physical = 1;
    this.last = bank.level(gpio);
  }
  get isOutput(): boolean {
    return this.dir !== 'in';
  }
  private logical(physical: BinaryValue): BinaryValue {
    return (this.activeLowFlag ? 1 - physical : physical) as BinaryValue;
  }
  readSync(): BinaryValue {
    return this.logical(this.bank.level(this.gpio));
  }
  writeSync(value: BinaryValue): void {
    if (!this.isOutput) throw new Error(`EPERM: gpio ${this.gpio} is an input`);
    this.physical = this.logical(value);
    this.bank.writes.push({ gpio: this.gpio, value, physical: this.physical });
    this.bank.settle();
  }
  watch(cb: ValueCallback): void {
    if (this.edgeMode === 'none') throw new Error(`gpio ${this.gpio}: watch without an edge`);
    this.watchers.push(cb);
  }
  unwatch(cb?: ValueCallback): void {
    this.watchers = cb ? this.watchers.filter((w) => w !== cb) : [];
  }
  unexport(): void {
    this.watchers = [];
    this.bank.pins.delete(this.gpio);
    this.bank.unexported.push(this.gpio);
  }
  update(): void {
    if (this.isOutput) return;
    const now = this.bank.level(this.gpio);
    if (now === this.last) return;
    this.last = now;
    const v = this.logical(now);
    const rising = v === 1;
    if (this.edgeMode === 'both' || (this.edgeMode === 'rising') === rising) for (const w of [...this.watchers]) w(null, v);
  }
}
