// GPIO through onoff (sysfs). Pins are configured by BCM number; sysfs numbers them from the gpiochip's base,
// which moved with the kernel: 0 on old kernels, 512 on Pi 4 Bookworm (6.6+), 571 on Pi 5 (RP1).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type BinaryValue = 0 | 1;
export type Direction = 'in' | 'out' | 'high' | 'low';
export type Edge = 'none' | 'rising' | 'falling' | 'both';
export type ValueCallback = (err: Error | null | undefined, value: BinaryValue) => void;

/** The part of onoff's Gpio the drivers use (tests pass a fake with this shape). */
export interface GpioLike {
  readSync(): BinaryValue;
  writeSync(value: BinaryValue): void;
  watch(callback: ValueCallback): void;
  unwatch(callback?: ValueCallback): void;
  unexport(): void;
}

export type GpioClass = new (gpio: number, direction: Direction, edge?: Edge, options?: { activeLow?: boolean; debounceTimeout?: number }) => GpioLike;

/** Options every GPIO driver takes. */
export interface GpioOptions {
  /** sysfs number of BCM 0; read from sysfs when absent. */
  gpioChipBase?: number;
  /** Root of the sysfs tree, default '/sys' (tests point it at a fake tree). */
  sysfsRoot?: string;
  /** onoff's Gpio class, or a fake with its API. Default: onoff, loaded on first use. */
  gpioClass?: GpioClass;
}

/** Labels of the SoC's own GPIO controller on Raspberry Pi models (not the expander's). */
const PI_CHIP_LABELS = ['pinctrl-bcm2835', 'pinctrl-bcm2711', 'pinctrl-bcm2712', 'pinctrl-rp1'];

export class GpioError extends Error {
  constructor(message: string, readonly code: string) {
    super(message);
    this.name = 'GpioError';
  }
}

/** The sysfs base of the Pi's GPIO controller: the override if given, else found in <sysfsRoot>/class/gpio. */
export function gpioChipBase(options: Pick<GpioOptions, 'gpioChipBase' | 'sysfsRoot'> = {}): number {
  if (options.gpioChipBase !== undefined) return options.gpioChipBase;
  const dir = join(options.sysfsRoot ?? '/sys', 'class', 'gpio');
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => e.startsWith('gpiochip'));
  } catch (err) {
    throw new GpioError(`cannot read ${dir} (${(err as NodeJS.ErrnoException).code}): is this a Raspberry Pi with sysfs GPIO? Set keypad.gpioChipBase to override`, 'GPIO_NO_SYSFS');
  }
  const seen: string[] = [];
  for (const entry of entries.sort()) {
    try {
      const label = readFileSync(join(dir, entry, 'label'), 'utf8').trim();
      seen.push(`${entry}=${label}`);
      if (PI_CHIP_LABELS.includes(label)) return Number(readFileSync(join(dir, entry, 'base'), 'utf8').trim());
    } catch {
      // a chip without readable label/base is not ours
    }
  }
  throw new GpioError(`no Raspberry Pi GPIO controller in ${dir} (found ${seen.join(', ') || 'no gpiochip'}; expected label ${PI_CHIP_LABELS.join(' or ')}). Set gpioChipBase to override`, 'GPIO_NO_CHIP');
}

/** Resolves BCM numbers to sysfs numbers and opens pins with the configured (or onoff's) Gpio class. */
export class GpioPins {
  private readonly base: number;
  private readonly opened: GpioLike[] = [];

  private constructor(private readonly Gpio: GpioClass, options: GpioOptions) {
    this.base = gpioChipBase(options);
  }

  static async create(options: GpioOptions): Promise<GpioPins> {
    const Gpio = options.gpioClass ?? (await loadOnoff());
    return new GpioPins(Gpio, options);
  }

  sysfsNumber(bcm: number): number {
    return this.base + bcm;
  }

  open(bcm: number, direction: Direction, edge: Edge = 'none', options: { activeLow?: boolean } = {}): GpioLike {
    const pin = new this.Gpio(this.sysfsNumber(bcm), direction, edge, options);
    this.opened.push(pin);
    return pin;
  }

  /** Unexports every pin opened here; errors are ignored (the pin may already be gone). */
  close(): void {
    for (const pin of this.opened.splice(0)) {
      try {
        pin.unwatch();
        pin.unexport();
      } catch {
        // nothing left to release
      }
    }
  }
}

/** onoff is loaded lazily: only GPIO drivers need it, and its native epoll module is absent off-Pi. */
export async function loadOnoff(): Promise<GpioClass> {
  const mod = (await import('onoff')) as unknown as { Gpio: GpioClass & { accessible: boolean } };
  if (!mod.Gpio.accessible) throw new GpioError('GPIO is not accessible (no /sys/class/gpio or no permission: add the user to group gpio)', 'GPIO_NOT_ACCESSIBLE');
  return mod.Gpio;
}
