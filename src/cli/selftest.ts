// `kiosk selftest [--approve] [--no-scan] [--hold MS] [--scan-timeout S]`: each lamp, the buzzer, the
// approve output (only with --approve: it releases a product), then "scan any code" and show what the
// scanner read, masked. Nothing is paid. Refuses while the daemon runs: both would drive the same pins
// and serial port.
// Exit 0 every step done (and a scan read), 1 a device failed or no scan came, 2 bad input, 3 refused.
import { parseCommand, UsageError } from './args.js';
import { CommandExit, runCommand, techConfig } from './tech/context.js';
import { EXIT, processIo, type Io } from './tech/format.js';
import { daemonState } from './tech/probe.js';
import { createHardware, type Hardware } from '../hardware/index.js';
import type { Pattern } from '../hardware/indicator.js';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import { createLogger, type Logger } from '../log.js';
import type { Config } from '../config/index.js';

export interface SelftestOptions {
  /** Opens the devices (tests pass sim hardware they can drive). Default: createHardware(config). */
  hardware?: (config: Config) => Promise<Hardware>;
}

/** What each step shows, as the technician should see it. */
const STEPS: ReadonlyArray<{ pattern: Pattern; what: string }> = [
  { pattern: 'ready', what: 'green lamp on' },
  { pattern: 'offline', what: 'amber lamp on' },
  { pattern: 'failure', what: 'red lamp on, one long beep' },
  { pattern: 'success', what: 'buzzer: two short beeps (green on)' },
];

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: SelftestOptions = {}): Promise<number> {
  return runCommand(io, () => selftest(argv, io, options));
}

function wholeFlag(value: string | true | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !/^[0-9]+$/.test(value)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(value)}`);
  return Number(value);
}

async function selftest(argv: readonly string[], io: Io, options: SelftestOptions): Promise<number> {
  const args = parseCommand('selftest', argv);
  const holdMs = wholeFlag(args.flags.hold, 'hold', 1500);
  const scanTimeoutMs = wholeFlag(args.flags['scan-timeout'], 'scan-timeout', 30) * 1000;
  const { config } = techConfig(args, io);
  const daemon = daemonState(config);
  if (daemon.running) {
    throw new CommandExit(EXIT.REFUSED, `the daemon (pid ${daemon.pid}) is running and holds the lamps, relay and scanner; stop it first (pm2 stop kiosk / systemctl stop kiosk), then run selftest again`);
  }
  // The drivers' warnings (a scanner that cannot be opened…) as lines among the steps, not raw JSON.
  const log = createLogger({ level: 'warn', destination: { write: (line: string) => io.out(`! ${warningWords(line)}\n`) } });
  // Every step runs to its verdict: the drivers' timers do not hold the process (they are unref'd for the
  // daemon), and with the scanner missing nothing else would: node would exit 0 in the middle of a pulse.
  const alive = setInterval(() => undefined, 1 << 30);
  try {
    return await steps(args, config, io, options, log, { holdMs, scanTimeoutMs });
  } finally {
    clearInterval(alive);
  }
}

/** One warning log line (JSON) in words: its message and why. */
export function warningWords(line: string): string {
  try {
    const o = JSON.parse(line) as { msg?: string; reason?: string; err?: { message?: string }; path?: string };
    const why = o.reason ?? o.err?.message;
    return `${o.msg ?? 'warning'}${o.path ? ` (${o.path})` : ''}${why ? `: ${why}` : ''}`;
  } catch {
    return line.trim();
  }
}

interface Times {
  holdMs: number;
  scanTimeoutMs: number;
}

async function steps(args: ReturnType<typeof parseCommand>, config: Config, io: Io, options: SelftestOptions, log: Logger, { holdMs, scanTimeoutMs }: Times): Promise<number> {
  let hw: Hardware;
  try {
    hw = options.hardware ? await options.hardware(config) : await createHardware(config, { log });
  } catch (err) {
    throw new CommandExit(EXIT.PROBLEM, `cannot open the devices: ${(err as Error).message} (kiosk doctor checks them)`);
  }
  let failures = 0;
  // The HAT answers the driver's C,1 while the lamps are tested: what it said is kept from the start.
  const hatSaid: string[] = [];
  hw.mdb?.on('line', (l: { dir: string; line: string }) => l.dir === 'in' && hatSaid.push(l.line));
  const hold = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
  try {
    const warnings: string[] = [];
    hw.indicator.on('warning', (e: Error) => warnings.push(e.message));
    for (const step of STEPS) {
      warnings.length = 0;
      hw.indicator.show(step.pattern);
      // A person watches the lamps: each step stays on for --hold.
      await hold(holdMs);
      const ok = warnings.length === 0 && hw.indicator.pattern === step.pattern;
      if (!ok) failures++;
      io.out(`${ok ? '✓' : '✗'} ${step.what}${ok ? '' : `: ${warnings.join('; ') || 'pattern not shown'}`}\n`);
    }
    hw.indicator.show('idle');
    if (config.display.driver === 'none') io.out('- no display configured (display.driver none)\n');
    else {
      // Every column of every row, and ¥ (ROM A00 0x5C): a missing row, a dead column or the wrong ROM shows.
      const { cols, rows } = hw.display.geometry;
      const ruler = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ';
      const screen = Array.from({ length: rows }, (_, r) => (r === 0 ? `SELFTEST ¥1.00 ${ruler}` : `${r + 1}${ruler}`).slice(0, cols));
      const warnings: string[] = [];
      const onWarn = (e: Error) => warnings.push(e.message);
      hw.display.on('warning', onWarn);
      hw.display.show(screen);
      await hold(holdMs);
      hw.display.off('warning', onWarn);
      if (warnings.length > 0) failures++;
      const where = config.display.driver === 'lcd' ? ` at I2C 0x${config.display.address.toString(16)} on /dev/i2c-${config.display.i2cBus}` : '';
      io.out(warnings.length === 0 ? `✓ display${where} shows ${cols}×${rows}:\n${screen.map((l) => `    |${l}|`).join('\n')}\n` : `✗ display${where}: ${warnings.join('; ')}\n`);
    }
    if (args.flags.approve) {
      try {
        await hw.approve.pulse(config.approve.pulseMs);
        io.out(`✓ approve output pulsed for ${config.approve.pulseMs} ms (driver ${config.approve.driver}, BCM ${config.approve.pin})\n`);
      } catch (err) {
        failures++;
        io.out(`✗ approve output: ${(err as Error).message}\n`);
      }
    } else {
      io.out('- approve output not pulsed (it releases a product): add --approve\n');
    }
    if (args.flags.sensor) {
      if (!hw.sensor) {
        failures++;
        io.out('✗ vend sensor: none configured (approve.confirm)\n');
      } else if (!(await waitForDrop(hw, scanTimeoutMs, io, config.approve.confirm?.pin))) failures++;
    }
    if (hw.mdb && !(await waitForHat(hw, hatSaid, Math.min(scanTimeoutMs, 5000), io, config.mdb?.path ?? ''))) failures++;
    if (!args.flags['no-scan']) {
      const scan = await waitForScan(hw, scanTimeoutMs, io);
      if (!scan) failures++;
    }
  } finally {
    hw.indicator.show('idle');
    hw.display.show([]);
    await hw.close();
  }
  io.out(failures === 0 ? 'selftest passed\n' : `selftest: ${failures} step(s) failed\n`);
  return failures === 0 ? EXIT.OK : EXIT.PROBLEM;
}

/**
 * The MDB HAT answers on its port: the driver sent `C,1` when it opened it; any line back (`c,STATUS,…`) proves the
 * wiring, the baud rate and that no serial console sits on the UART. Nothing is approved.
 */
function waitForHat(hw: Hardware, said: readonly string[], timeoutMs: number, io: Io, path: string): Promise<boolean> {
  const mdb = hw.mdb!;
  const verdict = (line: string): boolean => {
    const garbage = !/^[a-z],/.test(line);
    io.out(garbage ? `✗ MDB HAT at ${path} sent unreadable bytes (${line}): baud rate (mdb.baudRate), or a serial console on the UART (docs/mdb.md)\n` : `✓ MDB HAT at ${path} answers: ${line}\n`);
    return !garbage;
  };
  if (said.length) return Promise.resolve(verdict(said[0]!));
  return new Promise((resolve) => {
    const onLine = (l: { dir: string; line: string }) => {
      if (l.dir !== 'in') return;
      clearTimeout(timer);
      mdb.off('line', onLine);
      resolve(verdict(l.line));
    };
    const timer = setTimeout(() => {
      mdb.off('line', onLine);
      io.out(`✗ MDB HAT at ${path}: ${mdb.connected ? 'no answer to C,1' : 'port not open'} within ${Math.round(timeoutMs / 1000)} s (wiring, power from the MDB bus, enable_uart: docs/mdb.md; kiosk doctor)\n`);
      resolve(false);
    }, timeoutMs);
    mdb.on('line', onLine);
  });
}

/** Waits for the vend sensor to go active (a hand or a product through the beam). */
function waitForDrop(hw: Hardware, timeoutMs: number, io: Io, pin: number | undefined): Promise<boolean> {
  const sensor = hw.sensor!;
  if (sensor.active) {
    io.out('✗ vend sensor is active before anything falls: stuck, or the active level is wrong (approve.confirm.activeLow)\n');
    return Promise.resolve(false);
  }
  return new Promise((resolve) => {
    const onChange = (active: boolean) => {
      if (!active) return;
      clearTimeout(timer);
      sensor.off('change', onChange);
      io.out('✓ vend sensor saw a drop\n');
      resolve(true);
    };
    const timer = setTimeout(() => {
      sensor.off('change', onChange);
      io.out(`✗ vend sensor: nothing within ${Math.round(timeoutMs / 1000)} s (wiring and pull-up: device/WIRING.md)\n`);
      resolve(false);
    }, timeoutMs);
    sensor.on('change', onChange);
    io.out(`drop something through the vend sensor${pin === undefined ? '' : ` (BCM ${pin})`} (${Math.round(timeoutMs / 1000)} s)…\n`);
  });
}

/** Waits for one scan; prints it masked (a code is a bearer token even here). */
function waitForScan(hw: Hardware, timeoutMs: number, io: Io): Promise<boolean> {
  return new Promise((resolve) => {
    const scanner = hw.scanner;
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      scanner.off('code', onCode);
      scanner.off('bad', onBad);
      resolve(ok);
    };
    const onCode = (code: string) => {
      const c = classifyAuthCode(code);
      io.out(`✓ scanner read ${maskAuthCode(code)} (${code.length} digits): ${c.ok ? `a ${c.orderType} payment code` : `not a payment code: ${c.reason}`}; nothing was paid\n`);
      finish(true);
    };
    const onBad = (bad: { reason: string; sample?: string }) => {
      io.out(`✓ scanner read something that is not a code: ${bad.reason}${bad.sample ? ` (${bad.sample})` : ''}; the scanner works\n`);
      finish(true);
    };
    const timer = setTimeout(() => {
      io.out(`✗ no scan within ${Math.round(timeoutMs / 1000)} s${scanner.connected ? '' : ' (scanner not connected: kiosk doctor)'}\n`);
      finish(false);
    }, timeoutMs);
    scanner.on('code', onCode);
    scanner.on('bad', onBad);
    io.out(`scan any code (${Math.round(timeoutMs / 1000)} s)…\n`);
  });
}
