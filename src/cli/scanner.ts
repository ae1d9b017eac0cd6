// `kiosk scanner detect|show|setup|trigger|read`: the technician's view of the scanner module.
//   detect [--path DEV] [--json]      try each protocol at the common bauds, read-only; print family, model,
//                                     baud, settings
//   show [--json]                     the module as the kiosk sees it: identity, settings is → profile (asks a
//                                     running daemon)
//   setup [--dry-run] [--json]        apply the profile now (--dry-run: list each setting as is → to be, write nothing)
//   trigger                           start one read window
//   read [--timeout S]                wait for one scan (masked) and say what it was
// A running daemon owns the port: show asks it over the control socket; the others say so and stop.
import { statSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import { ScanParser, type BadScan } from '../hardware/scanner.js';
import { MODULE_DRIVERS, ModuleLink, runSetup, settingReports, setupProblems, DETECT_BAUDS, kioskProfile, type ModuleDriver, type Settings } from '../hardware/modules/index.js';
import type { ModuleStatus, SetupReport } from '../hardware/modules/session.js';
import type { Config } from '../config/index.js';
import { runCommand, techConfig, CommandExit } from './tech/context.js';
import { EXIT, fsProblem, json, keyValues, processIo, table, type Io } from './tech/format.js';
import { daemonState } from './tech/probe.js';
import { controlRequest } from './tech/control.js';
import { REMOTE_SETUP_TIMEOUT_MS } from '../kiosk/scanner-setup.js';
import type { ControlError, DaemonStatus } from '../kiosk/control.js';
import { intFlag, parseCommand, stringFlag, usage, UsageError } from './args.js';
import { setupWords, statusWords } from './tech/scanner-words.js';


export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => scanner(argv, io));
}

interface Open {
  port: SerialPort;
  link: ModuleLink | null;
  parser: ScanParser;
  close(): Promise<void>;
}

/** Opens the serial port at `baud` with `driver`'s framer between it and a scan parser. */
async function openPort(path: string, baud: number, driver: ModuleDriver | null, config: Config, onLine?: (l: { code?: string; bad?: BadScan }) => void, timeoutMs = 300): Promise<Open> {
  const port = new SerialPort({ path, baudRate: baud, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  port.on('error', () => {});
  // The parser hands over digit strings; which of them are payment codes is decided here, as the kiosk does.
  const onDigits = (code: string) => {
    const kind = classifyAuthCode(code);
    onLine?.(kind.ok ? { code } : { bad: { reason: kind.reason, sample: maskAuthCode(code) } });
  };
  const parser = new ScanParser(config.scanner, onDigits, (bad) => onLine?.({ bad }));
  const link = driver
    ? new ModuleLink({
        framer: driver.framer(),
        write: (b) => new Promise((res, rej) => port.write(b, (e) => (e ? rej(e) : port.drain((d) => (d ? rej(d) : res()))))),
        onData: (b) => parser.push(b),
        timeoutMs,
      })
    : null;
  port.on('data', (b: Buffer) => (link ? link.ingest(b) : parser.push(b)));
  return {
    port,
    link,
    parser,
    close: async () => {
      link?.close();
      if (port.isOpen) await new Promise<void>((r) => port.close(() => r()));
    },
  };
}

function describeOpenError(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  // serialport's own text is errno words ("Error: No such file or directory, cannot open …"): say it as we do.
  try {
    if (!statSync(path).isCharacterDevice()) return `${path}: not a serial device (scanner.path or --path names the scanner's device, e.g. /dev/kiosk-scanner)`;
  } catch (statErr) {
    const code = (statErr as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? `${path}: no such device: is the scanner plugged in? (ls /dev/serial/by-id/; kiosk doctor checks scanner.path)` : fsProblem(path, statErr);
  }
  if (/permission denied/i.test(e.message)) return `${path}: permission denied: add the user to the dialout group, or use sudo`;
  return `${path}: ${e.message}${/EBUSY|lock/i.test(e.message) ? ' (another program has the port open: is the kiosk daemon running?)' : ''}`;
}

async function scanner(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCommand('scanner', argv);
  const [sub] = args.positional as [string];
  if (!['detect', 'show', 'setup', 'trigger', 'read'].includes(sub)) throw new UsageError(`unknown scanner command ${JSON.stringify(sub)}\n${usage('scanner')}`);
  const { config } = techConfig(args, io);
  const sc = config.scanner;
  const path = stringFlag(args, 'path') ?? sc.path;
  if (sc.driver !== 'serial' && !stringFlag(args, 'path')) {
    io.err(`scanner.driver is ${JSON.stringify(sc.driver)}: only a serial scanner takes commands (give --path DEV to probe a serial device anyway)\n`);
    return EXIT.PROBLEM;
  }

  // The daemon holds the port: never open it under it.
  const daemon = daemonState(config);
  if (daemon.running) {
    if (sub === 'show') {
      const live = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 3000).catch((err: Error) => {
        throw new CommandExit(EXIT.PROBLEM, `the kiosk daemon (pid ${daemon.pid ?? '?'}) is running but did not answer on ${config.daemon.controlSocket}: ${err.message}`);
      });
      const mod = (live.scanner as { module?: ModuleStatus } | undefined)?.module;
      if (args.flags.json) io.out(json({ source: 'daemon', connected: live.scanner?.connected ?? false, module: mod ?? null }));
      else io.out(mod ? statusWords(mod, config) + '\n' : `scanner.module is ${sc.module}: the daemon sends no commands to the scanner\n`);
      return mod && mod.state !== 'ready' ? EXIT.PROBLEM : EXIT.OK;
    }
    if (sub === 'setup' && !stringFlag(args, 'path') && args.flags.baud === undefined) return setupByDaemon(config, daemon.pid, Boolean(args.flags['dry-run']), Boolean(args.flags.json), io);
    io.err(`the kiosk daemon (pid ${daemon.pid ?? '?'}) owns ${path}: stop it first (systemctl stop kiosk), or use "kiosk scanner show|setup" to ask it\n`);
    return EXIT.REFUSED;
  }

  if (sub === 'detect') return detect(path, config, io, Boolean(args.flags.json));

  const family = sc.module;
  const driver = family === 'plain' ? null : MODULE_DRIVERS[family]!;
  const baud = intFlag(args, 'baud', sc.baudRate)!;
  const profile = kioskProfile({ terminator: sc.terminator, trigger: sc.trigger, baudRate: baud, beep: sc.moduleBeep, reReadDelayMs: sc.reReadDelayMs, readWindowMs: sc.readWindowMs });

  if (sub === 'read') {
    const timeoutS = intFlag(args, 'timeout', 10)!;
    if (timeoutS < 1 || timeoutS > 600) throw new UsageError('--timeout must be 1–600 seconds');
    let done: (l: { code?: string; bad?: BadScan } | null) => void = () => {};
    const got = new Promise<{ code?: string; bad?: BadScan } | null>((r) => (done = r));
    let open: Open;
    try {
      open = await openPort(path, baud, driver, config, (l) => done(l));
    } catch (err) {
      io.err(describeOpenError(path, err) + '\n');
      return EXIT.PROBLEM;
    }
    try {
      if (driver && sc.trigger === 'command') {
        const id = await driver.identify(open.link!, sc.model || undefined);
        if (id) await driver.trigger(open.link!, id);
        else io.err(`no ${family} module answered at ${baud} baud: not triggered (kiosk scanner detect)\n`);
      }
      io.out(`waiting up to ${timeoutS} s for a scan on ${path}…\n`);
      const timer = setTimeout(() => done(null), timeoutS * 1000);
      const line = await got;
      clearTimeout(timer);
      if (!line) {
        io.out(`nothing read within ${timeoutS} s (check the module's mode and tail: kiosk scanner show)\n`);
        return EXIT.PROBLEM;
      }
      if (line.code) io.out(`read a payment code ${maskAuthCode(line.code)}\n`);
      else io.out(`read something that is not a payment code: ${line.bad!.reason} (${line.bad!.sample})\n`);
      return line.code ? EXIT.OK : EXIT.PROBLEM;
    } finally {
      await open.close();
    }
  }

  if (!driver) {
    io.err(`scanner.module is "plain": the kiosk sends this scanner no commands (set scanner.module, or run kiosk scanner detect)\n`);
    return EXIT.PROBLEM;
  }
  let open: Open;
  try {
    open = await openPort(path, baud, driver, config);
  } catch (err) {
    io.err(describeOpenError(path, err) + '\n');
    return EXIT.PROBLEM;
  }
  try {
    const id = await driver.identify(open.link!, sc.model || undefined);
    if (!id) {
      io.err(`no ${family} module answered on ${path} at ${baud} baud (kiosk scanner detect tries the others)\n`);
      return EXIT.PROBLEM;
    }
    if (sub === 'trigger') {
      await driver.trigger(open.link!, id);
      io.out(`read window started on ${id.model}\n`);
      return EXIT.OK;
    }
    const mode = sub === 'show' || args.flags['dry-run'] ? (sub === 'show' ? 'verify' : 'dry-run') : 'apply';
    const result = await runSetup(driver, open.link!, id, profile, mode);
    if (args.flags.json) io.out(json({ source: 'port', path, baudRate: baud, identity: id, result }));
    else io.out(setupWords(id, { settings: settingReports(result, profile), written: result.written, saved: result.saved, skipped: result.skipped, problems: setupProblems(result) }, mode === 'apply'));
    return result.remaining.length || result.refused.length ? EXIT.PROBLEM : EXIT.OK;
  } finally {
    await open.close();
  }
}

async function detect(path: string, config: Config, io: Io, asJson: boolean): Promise<number> {
  const tried: string[] = [];
  for (const baud of DETECT_BAUDS) {
    for (const [family, driver] of Object.entries<ModuleDriver>(MODULE_DRIVERS)) {
      let open: Open;
      try {
        open = await openPort(path, baud, driver, config, undefined, 250);
      } catch (err) {
        io.err(describeOpenError(path, err) + '\n');
        return EXIT.PROBLEM;
      }
      try {
        const id = await driver.identify(open.link!, config.scanner.module === family ? config.scanner.model || undefined : undefined).catch(() => null);
        if (id) {
          const settings: Settings = id.known ? await driver.read(open.link!, id).catch(() => ({})) : {};
          if (asJson) io.out(json({ module: family, baudRate: baud, model: id.model, known: id.known, firmware: id.firmware ?? null, hardware: id.hardware ?? null, settings }));
          else {
            io.out(keyValues([['module', family], ['model', `${id.model}${id.known ? '' : ' (no register map known: the kiosk will identify and trigger it only)'}`], ['firmware', id.firmware ?? '?'], ['baud', String(baud)], ...(id.detail ? ([['detail', id.detail.replace(/\s+/g, ' ')]] as [string, string][]) : [])]));
            io.out('\n' + (Object.keys(settings).length ? table(['setting', 'value'], Object.entries(settings)) : 'settings: not read (unknown model)\n'));
          }
          return EXIT.OK;
        }
        tried.push(`${family}@${baud}`);
      } finally {
        await open.close();
      }
    }
  }
  if (asJson) io.out(json({ module: 'plain', baudRate: null, settings: {} }));
  else io.out(`no module answered (tried ${tried.join(', ')}): a plain scanner, or wired TX/RX only one way; scanner.module "plain" reads it as it is\n`);
  return EXIT.OK;
}

/**
 * The running daemon owns the port: it runs the setup itself (the same handler as the fleet's `scanner-setup`:
 * only while the kiosk is idle, the kiosk held meanwhile).
 */
async function setupByDaemon(config: Config, pid: number | undefined, dryRun: boolean, asJson: boolean, io: Io): Promise<number> {
  let r: SetupReport;
  try {
    // The daemon bounds the setup itself (src/kiosk/scanner-setup.ts); the margin covers a slow answer line.
    r = await controlRequest<SetupReport>(config.daemon.controlSocket, 'scanner-setup', REMOTE_SETUP_TIMEOUT_MS + 10_000, { dryRun });
  } catch (err) {
    const e = err as ControlError;
    // The daemon's own answer (busy, not supported, failed) as it is; otherwise it did not answer at all.
    if (e.code === 'E_CONTROL_PROTOCOL' && e.message.startsWith('daemon refused')) {
      io.err(`${e.message}\n`);
      return / busy: /.test(e.message) ? EXIT.REFUSED : EXIT.PROBLEM;
    }
    io.err(`the kiosk daemon (pid ${pid ?? '?'}) owns the scanner but did not answer on ${config.daemon.controlSocket}: ${e.message}\n`);
    return EXIT.PROBLEM;
  }
  if (asJson) io.out(json({ source: 'daemon', ...r }));
  else io.out(`set up by the running daemon${r.mode === 'dry-run' ? ' (dry run: nothing written)' : ''}\n` + setupWords(r.identity, r, r.mode === 'apply'));
  return r.matches || r.skipped ? EXIT.OK : EXIT.PROBLEM;
}
