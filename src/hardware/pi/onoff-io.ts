// A johnny-five IO plugin for the Pi's own GPIO through onoff (digital in/out: the lamps and an active buzzer
// need nothing more) and its I2C bus through i2c-bus (the LCD backpack). Follows the IO plugin contract: name,
// pins, analogPins, MODES, HIGH/LOW, isReady + 'connect'/'ready' events, normalize, pinMode, digitalWrite,
// digitalRead, i2cConfig, i2cWrite, i2cWriteReg, i2cRead, i2cReadOnce, i2cStop.
import { EventEmitter } from 'node:events';
import { GpioPins, type BinaryValue, type GpioLike, type GpioOptions } from '../gpio.js';
import { openI2cBus, type I2cBusLike, type I2cOpener } from './i2c.js';

export interface OnoffIOOptions extends GpioOptions {
  /** Open the GPIO bank (default true). false: an I2C-only board (the display), no sysfs GPIO needed. */
  gpio?: boolean;
  /** Open /dev/i2c-<n> at init (default: no I2C). */
  i2cBus?: number;
  /** Opens the bus (tests: a fake bus). Default: i2c-bus. */
  openI2c?: I2cOpener;
}

const MODES = Object.freeze({ INPUT: 0, OUTPUT: 1, ANALOG: 2, PWM: 3, SERVO: 4 });
/** BCM 0–27: the 40-pin header's GPIOs on every Pi since the B+. */
const PIN_COUNT = 28;

interface PinInfo { supportedModes: number[]; mode: number | undefined; value: number; report: number; analogChannel: number }

export class OnoffIO extends EventEmitter {
  readonly name = 'onoff-gpio';
  readonly MODES = MODES;
  readonly HIGH = 1;
  readonly LOW = 0;
  readonly pins: PinInfo[] = Array.from({ length: PIN_COUNT }, () => ({ supportedModes: [MODES.INPUT, MODES.OUTPUT], mode: undefined, value: 0, report: 1, analogChannel: 127 }));
  readonly analogPins: number[] = [];
  isReady = false;
  private gpio: GpioPins | null = null;
  private readonly lines = new Map<number, GpioLike>();
  private bus: I2cBusLike | null = null;
  private i2cDelayMs = 10;
  private readonly i2cReaders = new Map<number, NodeJS.Timeout[]>();

  constructor(private readonly options: OnoffIOOptions = {}) {
    super();
  }

  /** Opens the GPIO bank and/or the I2C bus, then emits 'connect' and 'ready' as johnny-five expects. */
  async init(): Promise<this> {
    if (this.options.gpio !== false) this.gpio = await GpioPins.create(this.options);
    if (this.options.i2cBus !== undefined) this.bus = await (this.options.openI2c ?? openI2cBus)(this.options.i2cBus);
    this.isReady = true;
    this.emit('connect');
    this.emit('ready');
    return this;
  }

  /** 'GPIO17', 'BCM17' or 17 → 17. */
  normalize(pin: number | string): number {
    const n = typeof pin === 'number' ? pin : Number(String(pin).replace(/^(GPIO|BCM)/i, ''));
    if (!Number.isInteger(n) || n < 0 || n >= PIN_COUNT) throw new RangeError(`not a BCM GPIO pin: ${JSON.stringify(pin)} (0–${PIN_COUNT - 1})`);
    return n;
  }

  pinMode(pin: number | string, mode: number): this {
    const n = this.normalize(pin);
    if (!this.gpio) throw new Error('onoff IO is not ready');
    if (mode !== MODES.INPUT && mode !== MODES.OUTPUT) throw new RangeError(`BCM ${n}: mode ${mode} not supported (digital INPUT/OUTPUT only)`);
    const old = this.lines.get(n);
    if (old && this.pins[n]!.mode === mode) return this;
    if (old) {
      old.unwatch();
      old.unexport();
    }
    this.lines.set(n, mode === MODES.OUTPUT ? this.gpio.open(n, 'low') : this.gpio.open(n, 'in', 'both'));
    this.pins[n]!.mode = mode;
    return this;
  }

  digitalWrite(pin: number | string, value: number): this {
    const n = this.normalize(pin);
    if (this.pins[n]!.mode !== MODES.OUTPUT) this.pinMode(n, MODES.OUTPUT);
    const v: BinaryValue = value ? 1 : 0;
    this.lines.get(n)!.writeSync(v);
    this.pins[n]!.value = v;
    return this;
  }

  digitalRead(pin: number | string, handler: (value: number) => void): this {
    const n = this.normalize(pin);
    if (this.pins[n]!.mode !== MODES.INPUT) this.pinMode(n, MODES.INPUT);
    const line = this.lines.get(n)!;
    const report = (v: number) => {
      this.pins[n]!.value = v;
      handler(v);
      this.emit(`digital-read-${n}`, v);
    };
    line.watch((err, v) => (err ? this.emit('error', err) : report(v)));
    report(line.readSync());
    return this;
  }

  // ---- I2C (johnny-five IO plugin spec: i2cConfig, i2cWrite, i2cWriteReg, i2cRead, i2cReadOnce)

  /** { delay }: the pause between continuous reads, ms. The bus itself was opened at init. */
  i2cConfig(options: { delay?: number } | number = {}): this {
    const delay = typeof options === 'number' ? options : options.delay;
    if (typeof delay === 'number' && delay >= 0) this.i2cDelayMs = delay;
    return this;
  }

  /**
   * i2cWrite(address, [bytes]) | (address, byte) | (address, register, [bytes]) | (address, register, byte).
   * On the bus when it returns; a bus error throws (johnny-five passes it to its caller: the display driver).
   */
  i2cWrite(address: number, registerOrData: number | readonly number[], inBytes?: number | readonly number[]): this {
    const list = (v: number | readonly number[]): readonly number[] => (typeof v === 'number' ? [v] : v);
    const data = inBytes === undefined ? [...list(registerOrData)] : [registerOrData as number, ...list(inBytes)];
    this.i2c().i2cWriteSync(address, data.length, Buffer.from(data.map((b) => b & 0xff)));
    return this;
  }

  i2cWriteReg(address: number, register: number, byte: number): this {
    return this.i2cWrite(address, [register, byte]);
  }

  /** One read of bytesToRead (after writing the register, when given); handler gets the bytes on the next tick. */
  i2cReadOnce(address: number, register: number | null, bytesToRead: number | ((bytes: number[]) => void), handler?: (bytes: number[]) => void): this {
    const [reg, n, cb] = typeof bytesToRead === 'function' ? [null, register as number, bytesToRead] : [register, bytesToRead, handler!];
    const bus = this.i2c();
    if (reg !== null && reg !== undefined) bus.i2cWriteSync(address, 1, Buffer.from([reg & 0xff]));
    const buffer = Buffer.alloc(n);
    const got = bus.i2cReadSync(address, n, buffer);
    const bytes = [...buffer.subarray(0, got)];
    // Handlers are called asynchronously in every IO plugin (Firmata answers over serial).
    process.nextTick(() => {
      cb(bytes);
      this.emit(`I2C-reply-${address}-${reg ?? 0}`, bytes);
    });
    return this;
  }

  /** Continuous reads every i2cConfig delay until i2cStop(address); a failed read is an 'error' event. */
  i2cRead(address: number, register: number | null, bytesToRead: number | ((bytes: number[]) => void), handler?: (bytes: number[]) => void): this {
    const timer = setInterval(() => {
      try {
        this.i2cReadOnce(address, register, bytesToRead, handler);
      } catch (err) {
        this.emit('error', err);
      }
    }, Math.max(1, this.i2cDelayMs));
    timer.unref();
    this.i2cReaders.set(address, [...(this.i2cReaders.get(address) ?? []), timer]);
    return this;
  }

  i2cStop(options: number | { address: number }): void {
    const address = typeof options === 'number' ? options : options.address;
    for (const t of this.i2cReaders.get(address) ?? []) clearInterval(t);
    this.i2cReaders.delete(address);
  }

  private i2c(): I2cBusLike {
    if (!this.bus) throw new Error('I2C is not open on this IO (no i2cBus configured, or closed)');
    return this.bus;
  }

  /** Unexports every line, stops reads, closes the I2C bus. */
  close(): void {
    for (const a of [...this.i2cReaders.keys()]) this.i2cStop(a);
    this.gpio?.close();
    this.lines.clear();
    this.isReady = false;
    const bus = this.bus;
    this.bus = null;
    try {
      bus?.closeSync();
    } catch {
      // already gone
    }
  }
}
