// Builds the kiosk's hardware from config: one driver per device, chosen by `<device>.driver`.
// Driver options are the config sub-objects as they are (plain data); docs/hardware.md, documents each field.
// Each driver's module (and the package it needs: serialport, onoff, johnny-five, i2c-bus, koffi) is imported
// when the config names that driver, not before: a kiosk with a sim scanner and log outputs loads none of them
// (cold start on a Pi, docs/performance.md). Only the headless drivers (log, none) are loaded up front.
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { NoApprove, type ApproveOutput } from './approve.js';
import { NoDisplay, type Display } from './display.js';
import { LogDisplay } from './log-display.js';
import type { I2cOpener } from './pi/i2c.js';
import type { VendSensor } from './vend-sensor.js';
import type { Indicator } from './indicator.js';
import type { Keypad } from './keypad.js';
import { LogIndicator } from './log-indicator.js';
import type { GpioKeypadOptions } from './pi/gpio-keypad.js';
import type { Scanner } from './scanner.js';
import type { Clock } from '../clock.js';
import type { Config } from '../config/types.js';
import type { ModuleStateStore } from './modules/state.js';
import type { ModuleSim } from './sim/module-sim.js';
import type { MdbDevice } from './mdb.js';
import type { VmcSim } from './sim/mdb-sim.js';

export type { Scanner, BadScan, ScannerFault, Terminator } from './scanner.js';
export type { Keypad, Key } from './keypad.js';
export type { Indicator, Pattern, Lamp, LampState, ShowInfo } from './indicator.js';
export { PATTERNS, PATTERN_NAMES } from './indicator.js';
export type { ApproveOutput } from './approve.js';
export type { Display, DisplayGeometry } from './display.js';
export type { VendSensor } from './vend-sensor.js';
export { FileStateStore, MemoryStateStore, type ModuleStateStore } from './modules/state.js';
export type { ModuleStatus, SetupReport } from './modules/session.js';
export { gpioChipBase, GpioError } from './gpio.js';
export type { MdbDevice, MdbMessage, MdbStatus } from './mdb.js';

/** The config's device sections (their types and defaults are the config's own). Absent display: none. */
export type HardwareConfig = Pick<Config, 'scanner' | 'keypad' | 'indicator' | 'approve'> & {
  display?: Pick<Config['display'], 'driver' | 'cols' | 'rows' | 'address' | 'i2cBus'>;
  mdb?: Pick<NonNullable<Config['mdb']>, 'driver' | 'path' | 'baudRate'>;
};

/** Test and embedding hooks; the daemon passes only log. */
export interface HardwareDeps {
  log?: Logger;
  timers?: Clock;
  /** Fake or real onoff Gpio class for every GPIO driver. */
  gpioClass?: GpioKeypadOptions['gpioClass'];
  /** serialport binding for the scanner (tests: MockBinding). */
  binding?: unknown;
  /** Where the GPIO sysfs tree is (tests). Default /sys. */
  sysfsRoot?: string;
  /** Where a scanner module's flash-save count is kept (the daemon: a file next to the journal). */
  moduleState?: ModuleStateStore;
  /** The simulated module behind a sim scanner (scanner.driver "sim" with scanner.module set): demo and tests. */
  simModule?: ModuleSim;
  /** Opens the I2C bus for an lcd display (tests: a fake bus). */
  openI2c?: I2cOpener;
  /** The simulated machine behind mdb.driver "sim" (the demo drives it). */
  simVmc?: VmcSim;
  /** serialport binding for the MDB HAT (tests: MockBinding). */
  mdbBinding?: unknown;
}

export interface Hardware {
  scanner: Scanner;
  /** null when keypad.driver is 'none'. */
  keypad: Keypad | null;
  indicator: Indicator;
  approve: ApproveOutput;
  /** The vend sensor, when approve.confirm is configured. */
  sensor: VendSensor | null;
  /** Always present: driver 'none' is a display nobody sees. */
  display: Display;
  /** The vending machine's cashless port (MDB HAT), when the config has an `mdb` section. */
  mdb: MdbDevice | null;
  /** Closes every device; never rejects (each failure is logged). */
  close(): Promise<void>;
}

/**
 * Creates and opens every device. A missing scanner does not fail this (the scanner reports 'fault' and keeps
 * retrying); a GPIO or indicator board that cannot be opened does, with what and where in the message, after
 * closing whatever was already opened.
 */
export async function createHardware(config: HardwareConfig, deps: HardwareDeps = {}): Promise<Hardware> {
  const log = deps.log ?? silentLogger;
  const { timers, gpioClass, sysfsRoot } = deps;
  const opened: { name: string; close(): Promise<void> }[] = [];
  const closeAll = async () => {
    for (const d of opened.splice(0).reverse()) {
      try {
        await d.close();
      } catch (err) {
        log.warn({ hardware: d.name, err }, `closing ${d.name} failed`);
      }
    }
  };
  const open = async <T extends { open(): Promise<void>; close(): Promise<void> }>(name: string, device: T): Promise<T> => {
    try {
      await device.open();
    } catch (err) {
      await closeAll();
      const e = err as Error & { code?: string };
      throw Object.assign(new Error(`${name}: ${e.message}`), { code: e.code ?? 'HARDWARE_OPEN_FAILED', cause: err });
    }
    opened.push({ name, close: () => device.close() });
    return device;
  };
  const clean = <T extends object>(o: T) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== '' && v !== undefined)) as T;

  const ind = clean(config.indicator);
  const indicator = await open(
    'indicator',
    ind.driver === 'johnny-five'
      ? new (await import('./pi/j5-indicator.js')).J5Indicator({ ...ind, timers, log, gpioClass, sysfsRoot })
      : ind.driver === 'sim'
        ? new (await import('./sim/sim-indicator.js')).SimIndicator({ timers })
        : new LogIndicator({ log }),
  );
  indicator.on('warning', (err: unknown) => log.warn({ hardware: 'indicator', err }, 'indicator output failed'));

  const ap = config.approve;
  const simApprove = ap.driver === 'sim' ? new (await import('./sim/sim-approve.js')).SimApprove({ pulseMs: ap.pulseMs, timers }) : undefined;
  const approve = await open(
    'approve',
    ap.driver === 'gpio' ? new (await import('./pi/gpio-approve.js')).GpioApprove({ ...ap, timers, gpioClass, sysfsRoot }) : (simApprove ?? new NoApprove()),
  );
  let sensor: VendSensor | null = null;
  const cf = ap.confirm;
  if (cf && ap.driver === 'gpio') {
    const { GpioVendSensor } = await import('./pi/gpio-vend-sensor.js');
    sensor = await open('vend sensor', new GpioVendSensor({ pin: cf.pin, activeLow: cf.activeLow, debounceMs: cf.debounceMs, timers, gpioClass, sysfsRoot }));
  } else if (cf && simApprove) {
    const sim = new (await import('./sim/sim-vend-sensor.js')).SimVendSensor({ timers, miss: cf.simMiss });
    simApprove.on('pulse', (p: { active: boolean }) => p.active && sim.pulsed());
    sensor = await open('vend sensor', sim);
  }
  sensor?.on('warning', (err: unknown) => log.warn({ hardware: 'vend-sensor', err }, 'vend sensor input failed'));

  const dc = config.display ?? { driver: 'none', cols: 16, rows: 2, address: 0x27, i2cBus: 1 };
  const geometry = { cols: dc.cols, rows: dc.rows };
  const display = await open(
    'display',
    dc.driver === 'lcd'
      ? new (await import('./pi/lcd-display.js')).LcdDisplay({ ...geometry, address: dc.address, i2cBus: dc.i2cBus, openI2c: deps.openI2c, log })
      : dc.driver === 'log'
        ? new LogDisplay({ geometry, log })
        : dc.driver === 'sim'
          ? new (await import('./sim/sim-display.js')).SimDisplay({ geometry })
          : new NoDisplay(geometry),
  );
  display.on('warning', (err: unknown) => log.warn({ hardware: 'display', err }, 'display output failed'));

  const kp = config.keypad;
  let keypad: Keypad | null = null;
  if (kp.driver === 'gpio') keypad = await open('keypad', new (await import('./pi/gpio-keypad.js')).GpioKeypad({ ...kp, timers, log, gpioClass, sysfsRoot }));
  else if (kp.driver === 'sim') keypad = await open('keypad', new (await import('./sim/sim-keypad.js')).SimKeypad());

  const sc = clean(config.scanner);
  let scanner: Scanner;
  if (sc.driver === 'serial') {
    if (!sc.path) {
      await closeAll();
      throw Object.assign(new Error('scanner.path is required when scanner.driver is "serial"'), { code: 'HARDWARE_CONFIG' });
    }
    const { SerialScanner } = await import('./pi/serial-scanner.js');
    scanner = new SerialScanner({ ...sc, path: sc.path, timers, log, binding: deps.binding, moduleState: deps.moduleState });
  } else if (sc.driver === 'hid') {
    if (!sc.path) {
      await closeAll();
      throw Object.assign(new Error('scanner.path is required when scanner.driver is "hid"'), { code: 'HARDWARE_CONFIG' });
    }
    const { HidScanner } = await import('./pi/hid-scanner.js');
    scanner = new HidScanner({ path: sc.path, maxLineLength: sc.maxLineLength, reopenMinMs: sc.reopenMinMs, reopenMaxMs: sc.reopenMaxMs, timers, log });
  } else {
    const { SimScanner } = await import('./sim/sim-scanner.js');
    scanner = new SimScanner({ ...sc, timers, log, moduleState: deps.moduleState, module: deps.simModule ? sc.module : 'plain', sim: deps.simModule });
  }
  await open('scanner', scanner);

  let mdb: MdbDevice | null = null;
  if (config.mdb) {
    const m = config.mdb;
    mdb = await open(
      'mdb',
      m.driver === 'sim'
        ? new (await import('./sim/mdb-sim.js')).SimMdb(deps.simVmc)
        : new (await import('./pi/mdb-hat.js')).MdbHat({ path: m.path, baudRate: m.baudRate, binding: deps.mdbBinding, timers, log }),
    );
  }

  return { scanner, keypad, indicator, approve, sensor, display, mdb, close: closeAll };
}
