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
import { clockState, daemonState, PERMISSION_DENIED, probeGateway, probeOrderNo, rooted, SYSTEM_ROOTS, type Roots } from './tech/probe.js';
import { formatOrderTime } from '../umpay/messages.js';
import { controlRequest } from './tech/control.js';
import type { DaemonStatus } from '../kiosk/control.js';
import { statusWords } from './tech/scanner-words.js';
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
  const { config, problems } = readConfig(file, { checkFiles: false });
  checks.push(
    problems.length === 0
      ? { name: 'config', ok: true, detail: `${file} valid` }
      : { name: 'config', ok: false, detail: problems.map(formatProblem).join('\n    '), fix: `edit ${file} (device/CONFIG.md explains every field)` },
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
  const failed = checks.filter((c) => !c.ok);
  const code = failed.length === 0 ? EXIT.OK : EXIT.PROBLEM;
  if (args.flags.json) {
    io.out(json({ ok: failed.length === 0, config: file, checks }));
    return code;
  }
  io.out(checkLines(checks));
  io.out(failed.length === 0 ? '\nall checks passed\n' : `\n${failed.length} problem${failed.length === 1 ? '' : 's'}\n`);
  return code;
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

/** Group name of a gid from <etc>/group. */
function groupName(roots: Roots, gid: number): string {
  try {
    for (const line of readFileSync(rooted(roots, '/etc/group'), 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (id !== undefined && Number(id) === gid) return name!;
    }
  } catch {
    /* no group file: show the number */
  }
  return `gid ${gid}`;
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

function scannerCheck(config: Config, roots: Roots): Check {
  const name = 'scanner';
  if (config.scanner.driver === 'hid') {
    const path = config.scanner.path;
    try {
      const st = statSync(rooted(roots, path));
      if (!st.isCharacterDevice()) return { name, ok: false, detail: `${path} is not a character device`, fix: 'scanner.path must name the input device, e.g. /dev/input/by-id/usb-…-event-kbd' };
      const group = groupName(roots, st.gid);
      return (st.mode & 0o060) === 0o060
        ? { name, ok: true, detail: `${path} present (HID), group ${group}` }
        : { name, ok: false, detail: `${path} present, group ${group}, mode ${(st.mode & 0o777).toString(8)}`, fix: 'install device/99-kiosk-scanner.rules (rule 3: this device only, GROUP="dialout", MODE="0660")' };
    } catch {
      return { name, ok: false, detail: `${path} missing`, fix: 'plug the scanner in; ls /dev/input/by-id/ shows its -event-kbd name' };
    }
  }
  if (config.scanner.driver !== 'serial') return { name, ok: true, detail: `driver ${config.scanner.driver} (no device)` };
  return serialNodeCheck(name, config.scanner.path, roots, 'plug the scanner in; install device/udev rules (the /dev/kiosk-scanner symlink); for the UART enable it in /boot/firmware/config.txt');
}

/** A serial device node the kiosk opens: present, a character device, group dialout with read-write for it. */
function serialNodeCheck(name: string, path: string, roots: Roots, missingFix: string): Check {
  const real = rooted(roots, path);
  let st;
  try {
    st = statSync(real);
  } catch {
    return { name, ok: false, detail: `${path} missing`, fix: missingFix };
  }
  if (!st.isCharacterDevice()) return { name, ok: false, detail: `${path} is not a character device`, fix: `${name === 'scanner' ? 'scanner' : 'mdb'}.path must name the serial device (e.g. /dev/kiosk-scanner, /dev/serial0, /dev/ttyACM0)` };
  const group = groupName(roots, st.gid);
  const m = st.mode & 0o777;
  if (group !== 'dialout' || (m & 0o060) !== 0o060) {
    return { name, ok: false, detail: `${path} present, group ${group}, mode ${m.toString(8).padStart(4, '0')}`, fix: 'install the udev rule (GROUP="dialout", MODE="0660") and add the kiosk user to dialout: sudo usermod -aG dialout kiosk' };
  }
  return { name, ok: true, detail: `${path} present, group dialout, mode ${m.toString(8).padStart(4, '0')}` };
}

/**
 * The MDB HAT's port (docs/mdb.md): the device node as for the scanner, and on the Pi's UART no serial console on it
 * (a console writes login prompts into the HAT and eats its lines).
 */
function mdbCheck(config: Config, roots: Roots): Check {
  const name = 'mdb HAT port';
  const mdb = config.mdb!;
  if (mdb.driver === 'sim') return { name, ok: true, detail: 'driver sim (no device)' };
  const node = serialNodeCheck(name, mdb.path, roots, 'seat the HAT (or plug the MDB-USB in); for the UART: enable_uart=1 in /boot/firmware/config.txt and reboot (docs/mdb.md)');
  if (!node.ok || !/^\/dev\/(serial0|ttyAMA0|ttyS0)$/.test(mdb.path)) return node;
  for (const file of ['/boot/firmware/cmdline.txt', '/boot/cmdline.txt']) {
    let text: string;
    try {
      text = readFileSync(rooted(roots, file), 'utf8');
    } catch {
      continue;
    }
    const console = /(?:^|\s)console=(serial0|ttyAMA0|ttyS0)\b/.exec(text);
    if (console) return { name, ok: false, detail: `${mdb.path} present, but ${file} puts the serial console on ${console[1]}`, fix: `remove console=${console[1]},… from ${file} (or sudo raspi-config nonint do_serial_cons 1) and reboot` };
    return { ...node, detail: `${node.detail}; no serial console in ${file}` };
  }
  return node;
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
