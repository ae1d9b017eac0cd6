// A johnny-five IO plugin for the Pi's own GPIO through onoff (digital in/out only: the lamps and an active
// buzzer need nothing more). Follows the IO plugin contract: name, pins, analogPins, MODES, HIGH/LOW,
// isReady + 'connect'/'ready' events, normalize, pinMode, digitalWrite, digitalRead.
import { EventEmitter } from 'node:events';
import { GpioPins, type BinaryValue, type GpioLike, type GpioOptions } from '../gpio.js';

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

  constructor(private readonly options: GpioOptions = {}) {
    super();
  }

  /** Opens the GPIO bank, then emits 'connect' and 'ready' as johnny-five expects. */
  async init(): Promise<this> {
    this.gpio = await GpioPins.create(this.options);
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
    if (old && this.pins[n].mode === mode) return this;
    if (old) {
      old.unwatch();
      old.unexport();
    }
    this.lines.set(n, mode === MODES.OUTPUT ? this.gpio.open(n, 'low') : this.gpio.open(n, 'in', 'both'));
    this.pins[n].mode = mode;
    return this;
  }

  digitalWrite(pin: number | string, value: number): this {
    const n = this.normalize(pin);
    if (this.pins[n].mode !== MODES.OUTPUT) this.pinMode(n, MODES.OUTPUT);
    const v: BinaryValue = value ? 1 : 0;
    this.lines.get(n)!.writeSync(v);
    this.pins[n].value = v;
    return this;
  }

  digitalRead(pin: number | string, handler: (value: number) => void): this {
    const n = this.normalize(pin);
    if (this.pins[n].mode !== MODES.INPUT) this.pinMode(n, MODES.INPUT);
    const line = this.lines.get(n)!;
    const report = (v: number) => {
      this.pins[n].value = v;
      handler(v);
      this.emit(`digital-read-${n}`, v);
    };
    line.watch((err, v) => (err ? this.emit('error', err) : report(v)));
    report(line.readSync());
    return this;
  }

  /** Unexports every line. */
  close(): void {
    this.gpio?.close();
    this.lines.clear();
    this.isReady = false;
  }
}
