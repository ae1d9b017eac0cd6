// `kiosk doctor [--json] [--no-gateway]`: every precondition of the daemon, each with ✓/✗ and the fix.
// Reports rather than refuses: a broken config is one ✗ among the others. Exit 0 all good, 1 otherwise.
import { parseCommand } from './args.js';
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname } from 'node:path';
import { formatProblem, readConfig, type Config } from '../config/index.js';
import { openJournal, orderNoPrefix } from '../journal/journal.js';
import { gpioChipBase } from '../hardware/gpio.js';
import { loadPrivateKey, loadPublicKey } from '../umpay/keys.js';
import { configPath, runCommand } from './tech/context.js';
import { captureIo, checkLines, EXIT, json, processIo, type Check, type Io } from './tech/format.js';
import { inWorker } from '../worker.js';
import { clockState, daemonState, PERMISSION_DENIED, platformClockWords, probeGateway, probeOrderNo, SYSTEM_ROOTS, type Roots } from './tech/probe.js';
import { formatOrderTime } from '../umpay/messages.js';
import { controlRequest } from './tech/control.js';
import type { DaemonStatus } from '../kiosk/control.js';
import { statusWords } from './tech/scanner-words.js';
import { mdbCheck, scannerCheck } from './tech/scanner-check.js';
import type { ModuleStatus } from '../hardware/modules/session.js';

export interface DoctorOptions {
  roots?: Roots;
  now?: () => number;
}

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: DoctorOptions = {}): Promise<number> {
  return runCommand(io, () => doctor(argv, io, options));
}

/** `kiosk doctor --json` on a config file, as an object (the remote `doctor` runs it in doctor-worker.ts). */
export async function doctorReport(configFile: string): Promise<Record<string, unknown>> {
  const io = captureIo();
  const code = await run(['--json', '--config', configFile], io);
  try {
    return { exit: code, ...(JSON.parse(io.stdout()) as object) };
  } catch {
    return { exit: code, output: io.stdout().slice(0, 4000), stderr: io.stderr().slice(0, 2000) };
  }
}

/**
 * The fleet's remote `doctor` (src/kiosk/fleet.ts), in a worker thread: the doctor's checks are synchronous
 * (integrity_check reads the whole journal, keys are parsed), and on the daemon's own event loop they would hold
 * a customer's payment for as long as they take (seconds for a large journal on a Pi).
 */
export function remoteDoctor(configFile: string): Promise<Record<string, unknown>> {
  return inWorker<Record<string, unknown>>(new URL('./doctor-worker.js', import.meta.url), { configFile });
}

async function doctor(argv: readonly string[], io: Io, options: DoctorOptions): Promise<number> {
  const args = parseCommand('doctor', argv);
  const roots = options.roots ?? SYSTEM_ROOTS;
  const file = configPath(args, io);
  const checks: Check[] = [];
  // The same check `kiosk run` makes before it starts (files included: key mode, fleet.operatorKeys…): every
  // problem it would refuse to start with is listed here, and counted, one by one.
  const { problems } = readConfig(file);
  // The other checks still run when only the files are wrong: they say more about each (and the fix).
  const { config } = readConfig(file, { checkFiles: false });
  checks.push(
    problems.length === 0
      ? { name: 'config', ok: true, detail: `${file} valid` }
      : { name: 'config', ok: false, detail: problems.map(formatProblem).join('\n    '), fix: `kiosk run refuses to start with ${problems.length === 1 ? 'this problem' : `these ${problems.length} problems`}: edit ${file}, or fix the files it names (device/CONFIG.md explains every field)` },
  );
  if (!config) {
    const skipped = ['merchant key', 'certificate', 'journal', 'scanner', 'gpio', 'clock', 'gateway'];
    for (const name of skipped) checks.push({ name, ok: false, skipped: true, detail: 'not checked: the config could not be read or is invalid' });
  } else {
    checks.push(keyCheck(config), certCheck(config), journalCheck(config), scannerCheck(config, roots), gpioCheck(config, roots));
    if (config.mdb) checks.push(mdbCheck(config, roots));
    checks.push(await orderNumbersCheck(config, !args.flags['no-gateway'], (options.now ?? Date.now)()));
    const clock = clockState(roots, (options.now ?? Date.now)());
    checks.push({ name: 'clock', ok: clock.ok, detail: clock.detail, fix: 'enable time sync: sudo timedatectl set-ntp true; check the network; wait for systemd-timesyncd' });
    if (args.flags['no-gateway']) checks.push({ name: 'gateway', ok: true, detail: 'not checked (--no-gateway)' });
    else {
      const g = await probeGateway(config, probeOrderNo(config));
      checks.push({ name: 'gateway', ok: g.ok, detail: g.detail, fix: g.fix });
      const c = g.clock;
      checks.push({
        name: 'platform clock',
        ok: c.state !== 'wrong',
        info: c.state === 'unknown' || !c.zoneIsPlatform,
        detail: platformClockWords(c),
        fix: 'sudo timedatectl set-ntp true (check the network and NTP); sudo timedatectl set-timezone Asia/Shanghai',
      });
    }
    // Telemetry (docs/fleet.md): only when configured; a failure here never stops a payment.
    if (config.fleet) {
      const { probeBroker } = await import('../fleet/probe.js');
      const f = await probeBroker(config.fleet, config.deviceId);
      checks.push({ name: 'fleet broker', ok: f.ok, detail: f.detail, fix: f.fix });
    }
    const d = daemonState(config);
    if (d.denied) checks.push({ name: 'daemon', ok: false, detail: `${d.lockFile}: ${PERMISSION_DENIED}`, fix: 'sudo kiosk doctor' });
    // Not running is a fact for the technician (they may have stopped it), not a passed check.
    else checks.push({ name: 'daemon', ok: true, info: !d.running, detail: d.running ? `running, pid ${d.pid ?? '?'}` : d.problem ? `not running; ${d.problem}` : 'not running' });
    if (config.scanner.module !== 'plain') checks.push(await scannerModuleCheck(config, d.running));
  }
  const count = countProblems(checks, problems.map((p) => p.field));
  const code = count.problems === 0 ? EXIT.OK : EXIT.PROBLEM;
  if (args.flags.json) {
    io.out(json({ ok: count.problems === 0, config: file, problems: count.problems, skipped: count.skipped, checks }));
    return code;
  }
  io.out(checkLines(checks));
  const skipped = count.skipped.length ? `; ${plural(count.skipped.length, 'check')} skipped (they need a readable config)` : '';
  io.out(count.problems === 0 ? `\nall checks passed${skipped}\n` : `\n${plural(count.problems, 'problem')}${skipped}\n`);
  return code;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** The config field a check looks at again: a problem the config check already counted is not counted twice. */
const CHECK_FIELD: Readonly<Record<string, string>> = { 'merchant key': 'merchant.privateKey', certificate: 'gateway.platformCert' };

/**
 * Problems: each config problem (as `kiosk run` counts them) and each other failed check, once; a check that could
 * not run is skipped, never a problem.
 */
export function countProblems(checks: readonly Check[], configFields: readonly string[]): { problems: number; skipped: string[] } {
  let problems = configFields.length;
  const skipped: string[] = [];
  for (const c of checks) {
    if (c.name === 'config' || c.ok) continue;
    if (c.skipped) skipped.push(c.name);
    else if (!configFields.includes(CHECK_FIELD[c.name] ?? '')) problems++;
  }
  return { problems, skipped };
}

function mode(path: string): number {
  return statSync(path).mode & 0o777;
}

function keyCheck(config: Config): Check {
  const file = config.merchant.privateKey;
  const name = 'merchant key';
  if (!existsSync(file)) return { name, ok: false, detail: `${file}: no such file`, fix: 'copy the merchant key (*.key.p8) there, then chmod 600 and chown kiosk' };
  try {
    const m = mode(file);
    const key = loadPrivateKey(file);
    const bits = key.asymmetricKeyDetails?.modulusLength;
    if (m & 0o077) return { name, ok: false, detail: `${file}: RSA ${bits}-bit, but mode ${m.toString(8).padStart(4, '0')} lets group/others read it`, fix: `chmod 600 ${file} && chown kiosk ${file}` };
    return { name, ok: true, detail: `${file}: RSA ${bits}-bit, mode ${m.toString(8).padStart(4, '0')}` };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, fix: 'use the key the platform issued (PKCS#8 DER .p8, or PEM); run as the kiosk user if permission was denied' };
  }
}

function certCheck(config: Config): Check {
  const file = config.gateway.platformCert;
  const name = 'certificate';
  try {
    const key = loadPublicKey(file);
    let about = `RSA ${key.asymmetricKeyDetails?.modulusLength}-bit public key`;
    try {
      const x = new X509Certificate(readFileSync(file));
      // The test certificate expired in 2006 and still signs: dates are shown, never held against it.
      about = `certificate ${x.subject.replace(/\n/g, ', ')}, valid to ${x.validTo} (dates are not enforced)`;
    } catch {
      /* a bare public key or PEM certificate text: the key line is enough */
    }
    return { name, ok: true, detail: `${file}: ${about}` };
  } catch (err) {
    return { name, ok: false, detail: (err as Error).message, fix: 'use the platform certificate for this environment (*.cert.crt, DER or PEM)' };
  }
}

function journalCheck(config: Config): Check {
  const file = config.journal.path;
  const name = 'journal';
  const dir = dirname(file);
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  if (!existsSync(dir)) return { name, ok: false, detail: `folder ${dir} does not exist`, fix: `sudo install -d -m 0700 -o kiosk ${dir}` };
  // SQLite writes -wal and -shm files beside the journal: the folder must be writable too.
  if (!writable(dir)) return { name, ok: false, detail: `folder ${dir} is not writable by this user`, fix: `run as the kiosk user (sudo -u kiosk kiosk doctor), or sudo chown kiosk ${dir}` };
  const daemon = daemonState(config);
  if (!existsSync(file)) {
    if (daemon.running) return { name, ok: false, detail: `the daemon (pid ${daemon.pid ?? '?'}) runs, but there is no journal at ${file}: the journal it writes was deleted or moved (it refuses payments)`, fix: GONE_FIX };
    return { name, ok: true, detail: `${file} not created yet (the daemon creates it at its first start); folder writable` };
  }
  if (!writable(file)) return { name, ok: false, detail: `${file} is not writable by this user`, fix: `run as the kiosk user, or sudo chown kiosk ${file}; chmod 600 ${file}` };
  try {
    const j = openJournal(file, { readonly: true });
    try {
      const result = j.integrityCheck();
      if (result !== 'ok') return { name, ok: false, detail: `${file}: integrity_check: ${result}`, fix: 'stop the daemon, keep a copy of the file, restore the last backup; ask for help before deleting anything (it holds unfinished payments)' };
      // The running daemon wrote its pid into the run it opened (journal runs table): another file is not its journal.
      const last = j.identity().runs.at(-1);
      if (daemon.running && daemon.pid && last?.pid !== daemon.pid) {
        return { name, ok: false, detail: `${file} is not the journal the running daemon (pid ${daemon.pid}) opened (its last run was opened by pid ${last?.pid ?? '?'}): replaced or restored while the daemon runs; it refuses payments`, fix: GONE_FIX };
      }
      const counts = j.countsByState();
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      return { name, ok: true, detail: `${file}: integrity ok, ${total} order${total === 1 ? '' : 's'}, writable, mode ${mode(file).toString(8).padStart(4, '0')}` };
    } finally {
      j.close();
    }
  } catch (err) {
    return { name, ok: false, detail: `${file}: ${(err as Error).message}`, fix: 'check journal.path; a file that is not a journal must not be there' };
  }
}

const GONE_FIX =
  'let the daemon finish its unfinished orders (kiosk status), stop it, move the newest <journal.path>.rescued-* copy (the daemon saves the journal it holds) to journal.path, start it';

/**
 * Whether another journal makes (or made) order numbers with this deviceId: a lost, restored or cloned journal,
 * or two kiosks sharing a deviceId. Local evidence: orders the platform answered 16 (number already used).
 * Platform evidence (one or two queries): numbers of the pre-run-id form (device + date + sequence) that this
 * journal would make next; a copy of it, or a kiosk of an older version with this deviceId, makes exactly those.
 * New numbers carry a random run id (journal/orderno.ts) and cannot collide; the settlement file (kiosk settle)
 * shows orders of this deviceId made by other journals.
 */
async function orderNumbersCheck(config: Config, askGateway: boolean, now: number): Promise<Check> {
  const name = 'order numbers';
  const file = config.journal.path;
  if (!existsSync(file)) return { name, ok: true, info: true, detail: 'no journal yet' };
  let collisions: string[];
  let seq: number;
  let journal;
  try {
    journal = openJournal(file, { readonly: true });
  } catch (err) {
    return { name, ok: true, info: true, skipped: true, detail: `not checked: ${(err as Error).message}` };
  }
  try {
    collisions = (journal.db.prepare(`SELECT order_no AS o FROM orders WHERE flag = 'order-no-collision' ORDER BY seq`).all() as { o: string }[]).map((r) => r.o);
    seq = Number((journal.db.prepare(`SELECT value FROM meta WHERE key = 'seq'`).get() as { value: string } | undefined)?.value ?? '0');
  } finally {
    journal.close();
  }
  const fix = `give every kiosk its own deviceId (device/CONFIG.md); if this journal was lost or restored, compare it with the platform: kiosk settle on the recent settlement files`;
  if (collisions.length) {
    return { name, ok: false, detail: `the platform answered 16 (order number already used) for ${collisions.length} order(s) (${collisions.slice(-3).join(', ')}): another journal made numbers with deviceId ${config.deviceId} (a lost, restored or cloned journal, or two kiosks sharing the deviceId)`, fix };
  }
  if (!askGateway) return { name, ok: true, detail: 'no order number the platform refused as used (platform not asked: --no-gateway)' };
  const day = formatOrderTime(now).slice(0, 8);
  const prefix = orderNoPrefix(config.deviceId);
  for (const n of [seq + 1, seq + 2]) {
    const orderNo = `${prefix}${day}${String(n).padStart(6, '0')}`;
    const g = await probeGateway(config, orderNo);
    if (!g.signed) return { name, ok: true, info: true, skipped: true, detail: `platform not asked: ${g.detail}` };
    if (g.respCode === '00') {
      return {
        name,
        ok: false,
        detail: `the platform knows order ${orderNo}, which this journal (sequence at ${seq}) never made: another journal with deviceId ${config.deviceId} is ahead of this one (two kiosks sharing it, or this journal is younger than the kiosk's history)`,
        fix,
      };
    }
  }
  return { name, ok: true, detail: `no sign of another journal with deviceId ${config.deviceId} (no 16 answers; the platform does not know this journal's next numbers of the old form)` };
}

/** The module as the running daemon found and set it up (it owns the port); without a daemon, where to look. */
async function scannerModuleCheck(config: Config, running: boolean): Promise<Check> {
  const name = 'scanner module';
  if (!running) return { name, ok: true, info: true, detail: `${config.scanner.module}: not checked while the daemon is stopped (kiosk scanner show reads it)` };
  try {
    const live = await controlRequest<DaemonStatus>(config.daemon.controlSocket, 'status', 3000);
    const mod = live.scanner?.module as ModuleStatus | undefined;
    if (!mod) return { name, ok: false, detail: 'the daemon reports no module (an older daemon, or the scanner is not a serial one)' };
    const ok = mod.state === 'ready' && mod.profileMatch !== false;
    return {
      name,
      ok,
      detail: statusWords(mod, config),
      fix: ok ? undefined : mod.state === 'no-answer' ? 'check scanner.module, scanner.baudRate and the TX/RX wiring (stop the daemon, then kiosk scanner detect)' : 'kiosk scanner show lists each difference; with scanner.setup "apply" a restart writes them',
    };
  } catch (err) {
    return { name, ok: false, detail: `the daemon did not answer on ${config.daemon.controlSocket}: ${(err as Error).message}` };
  }
}

function gpioCheck(config: Config, roots: Roots): Check {
  const name = 'gpio';
  const users = [
    config.keypad.driver === 'gpio' ? 'keypad' : '',
    config.approve.driver === 'gpio' ? 'approve' : '',
    config.indicator.driver === 'johnny-five' && config.indicator.io === 'gpio' ? 'indicator' : '',
  ].filter(Boolean);
  if (users.length === 0) return { name, ok: true, detail: 'not used by this config' };
  let sysfs: string;
  try {
    const base = gpioChipBase({ gpioChipBase: config.keypad.gpioChipBase, sysfsRoot: roots.sys });
    sysfs = `sysfs base ${base}`;
  } catch (err) {
    sysfs = '';
    const chardev = listGpiochips(roots);
    return {
      name,
      ok: false,
      detail: `${(err as Error).message}${chardev.length ? `; /dev has ${chardev.join(', ')} but the drivers use sysfs numbering` : ''}`,
      fix: 'on a Raspberry Pi: enable sysfs GPIO (kernel with CONFIG_GPIO_SYSFS), or set keypad.gpioChipBase; add the kiosk user to group gpio',
    };
  }
  const chardev = listGpiochips(roots);
  return { name, ok: true, detail: `for ${users.join(', ')}: ${sysfs}${chardev.length ? `, ${chardev.join(' ')}` : ''}` };
}

function listGpiochips(roots: Roots): string[] {
  try {
    return readdirSync(roots.dev)
      .filter((e) => /^gpiochip[0-9]+$/.test(e))
      .sort()
      .map((e) => `/dev/${e}`);
  } catch {
    return [];
  }
}
