// `kiosk dev`: a local rig for trying the technician commands on a development machine — the local
// sandbox gateway, a real pseudo-terminal as the scanner (socat), and the real daemon (`kiosk run`, a
// child process) with the log indicator. `kiosk dev scan CODE|BEHAVIOUR` types a line into that scanner.
// `--mdb`: a simulated vending machine behind an MDB HAT on a second pty (dev-machine.ts), driven by
// `kiosk dev machine ACTION`. Everything lives in one folder (default ./kiosk-dev) that the rig marks as its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startSandbox } from '../sandbox/start.js';
import { testCode, TEST_CODES } from '../sandbox/codes.js';
import type { OrderType } from '../umpay/types.js';
import { maskAuthCode } from '../umpay/authcode.js';
import { demoConfigJson, demoMdbSection } from '../kiosk/demo.js';
import { parseCommand, UsageError } from './args.js';
import { acquireLock, lockState, LockHeldError, type InstanceLock } from '../kiosk/lock.js';
import { CommandExit, runCommand } from './tech/context.js';
import { EXIT, fsProblem, processIo } from './tech/format.js';
import { askMachine, machineStep, startMachine } from './dev-machine.js';
import { makeDirs, pseudoFolder } from '../dirs.js';

/** The marker that makes a folder the rig's own: only such a folder is reused by `kiosk dev` (never emptied). */
const MARKER = 'rig.json';
const KIOSK_JS = fileURLToPath(new URL('./kiosk.js', import.meta.url));

interface RigInfo {
  feeder: string;
  config: string;
  baseUrl: string;
  log: string;
  pid: number;
  /** --mdb: the socket of the rig's vending machine. */
  machine?: string;
}

export async function main(argv: string[]): Promise<number> {
  return runCommand(processIo, () => (argv[0] === 'scan' ? scan(argv.slice(1)) : argv[0] === 'machine' ? machine(argv.slice(1)) : up(argv)));
}

function parse(path: string, argv: string[]): { values: Record<string, string | undefined>; positionals: string[] } {
  const args = parseCommand(path, argv);
  return { values: args.flags as Record<string, string | undefined>, positionals: args.positional };
}

/** The rig in `dir` (rig.json), or undefined after saying there is none. */
function rigIn(dir: string, command: string): RigInfo | undefined {
  const infoFile = join(dir, MARKER);
  if (!existsSync(infoFile)) {
    process.stderr.write(`kiosk dev ${command}: no rig in ${dir} (start one with: kiosk dev --data ${dir})\n`);
    return undefined;
  }
  return JSON.parse(readFileSync(infoFile, 'utf8')) as RigInfo;
}

/** `kiosk dev machine ACTION`: something done at the rig's vending machine, and what the kiosk did about it. */
async function machine(argv: string[]): Promise<number> {
  const { values, positionals } = parse('dev machine', argv);
  const step = machineStep(positionals);
  const dir = resolve(values.data ?? 'kiosk-dev');
  const info = rigIn(dir, 'machine');
  if (!info) return 1;
  if (!info.machine) {
    process.stderr.write(`kiosk dev machine: the rig in ${dir} has no vending machine (start it with: kiosk dev --mdb --data ${dir})\n`);
    return 1;
  }
  if (!existsSync(info.machine) || !lockState(join(dir, 'kiosk.lock')).held) {
    process.stderr.write(`kiosk dev machine: the rig is not running in ${dir} (is kiosk dev still running?)\n`);
    return 1;
  }
  const from = existsSync(info.log) ? statSync(info.log).size : 0;
  const r = await askMachine(info.machine, step);
  if (r.message) process.stdout.write(`${r.message}\n`);
  if (step.action === 'state') {
    const s = r.selection;
    process.stdout.write(`the machine: ${r.state}${s ? `, product ${s.productId} at ${s.amount}` : ''}; an approved vend is reported as: ${r.outcome}\nlast lines from the kiosk: ${r.heard.join('  ') || '(none)'}\n`);
  }
  if (step.action !== 'select') return 0;
  // What the kiosk did with the selection, from its log: offered to the customer, or denied (C,STOP).
  const heard = await nextEvent(info.log, from, (e) => e.event === 'mdb-selection' || e.event === 'mdb-selection-refused', 5000);
  if (!heard) {
    process.stdout.write(`the daemon logged nothing about it within 5 s: see ${info.log}\n`);
    return 1;
  }
  if (heard.event.event === 'mdb-selection-refused') {
    process.stdout.write(`the kiosk denied it (C,STOP)${typeof heard.event.reason === 'string' ? `: ${heard.event.reason}` : ''}\n`);
    return 1;
  }
  process.stdout.write(`the kiosk asks the customer to scan: kiosk dev scan paid --data ${dir}\n`);
  return 0;
}

async function scan(argv: string[]): Promise<number> {
  const { values, positionals } = parse('dev scan', argv);
  const dir = resolve(values.data ?? 'kiosk-dev');
  const info = rigIn(dir, 'scan');
  if (!info) return 1;
  const wallet = (values.wallet ?? 'wechat') as OrderType;
  if (!['wechat', 'alipay', 'unionpay'].includes(wallet)) throw new UsageError(`dev scan: --wallet must be wechat, alipay or unionpay, got ${JSON.stringify(values.wallet)}`);
  const arg = positionals[0]!;
  const behaviour = TEST_CODES.find((t) => t.behaviour === arg)?.behaviour;
  if (!behaviour && !/^[0-9]+$/.test(arg)) {
    throw new UsageError(`dev scan: ${JSON.stringify(arg)} is neither digits nor a sandbox behaviour (${TEST_CODES.map((t) => t.behaviour).join(', ')})`);
  }
  const line = behaviour ? testCode(behaviour, wallet) : arg;
  if (!existsSync(info.feeder) || !lockState(join(dir, 'kiosk.lock')).held) {
    process.stderr.write(`kiosk dev scan: the rig's daemon is not running in ${dir} (is kiosk dev still running?)\n`);
    return 1;
  }
  const shown = `${behaviour ? `${behaviour} ` : ''}${line.length >= 12 ? maskAuthCode(line) : `(${line.length} digits)`}`;
  const from = existsSync(info.log) ? statSync(info.log).size : 0;
  writeFileSync(info.feeder, line + '\r');
  process.stdout.write(`typed ${shown} into the rig's scanner\n`);
  // What the daemon did with it, from its log: taken (and the customer's result), ignored, or not a code.
  const heard = await nextEvent(info.log, from, (e) => SCAN_EVENTS.has(String(e.event)) && (e.authCode === undefined || e.authCode === maskAuthCode(line)), 5000);
  if (!heard) {
    process.stdout.write(`the daemon logged nothing about it within 5 s: see ${info.log}\n`);
    return 1;
  }
  const e = heard.event;
  if (e.event !== 'scan') {
    const choose = info.machine && e.state === 'idle' ? `; choose on the machine first: kiosk dev machine select 2 --data ${dir}` : '';
    const why = e.event === 'scan-not-now' ? `not now (the kiosk is ${String(e.state)}${choose})` : e.event === 'scan-bad' ? `not a payment code (${String(e.reason)})` : `the vend sensor is at fault (${String(e.reason)})`;
    process.stdout.write(`the daemon ignored it: ${why}; nothing was paid\n`);
    return 1;
  }
  process.stdout.write('the daemon took it: paying…\n');
  const result = await nextEvent(info.log, heard.offset, (r) => r.event === 'customer-result', RESULT_WAIT_MS);
  if (!result) {
    process.stdout.write(`no result within ${RESULT_WAIT_MS / 1000} s (kiosk status shows the order)\n`);
    return 1;
  }
  const r = result.event as { kind?: string; orderNo?: string; reason?: string };
  process.stdout.write(`result: ${r.kind ?? '?'}${r.orderNo ? ` (order ${r.orderNo})` : ''}${r.reason ? `: ${r.reason}` : ''}\n`);
  return 0;
}

/** The daemon's log events about a scanned line (src/kiosk/interaction.ts, scan-pay.ts). */
const SCAN_EVENTS = new Set(['scan', 'scan-not-now', 'scan-bad', 'scan-refused-vend-fault']);
const RESULT_WAIT_MS = 60_000;

/** The first JSON log line after byte `from` of `file` that `match` accepts, within `ms`; and where it ended. */
async function nextEvent(file: string, from: number, match: (e: Record<string, unknown>) => boolean, ms: number): Promise<{ event: Record<string, unknown>; offset: number } | undefined> {
  const end = performance.now() + ms;
  for (;;) {
    const text = existsSync(file) ? readFileSync(file).subarray(from).toString('utf8') : '';
    let at = from;
    for (const l of text.split('\n')) {
      at += Buffer.byteLength(l) + 1;
      if (!l.endsWith('}')) continue; // the last line may be half written
      try {
        const e = JSON.parse(l) as Record<string, unknown>;
        if (match(e)) return { event: e, offset: at };
      } catch {
        /* not a JSON line */
      }
    }
    if (performance.now() > end) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Makes `dir` the rig's: refuses a folder with files that the rig did not make, and a folder whose rig runs (its
 * daemon's kernel lock, or the rig's own). Nothing of a stopped rig is deleted but the links and the ready flag it
 * remakes: its journal (and any rescued copy of one) and the sandbox's ledger carry over, as on a kiosk restart.
 */
function claimRigDir(dir: string): InstanceLock {
  const pseudo = pseudoFolder(dir);
  if (pseudo) throw new UsageError(`dev: --data ${dir} ${pseudo}`);
  try {
    if (existsSync(dir) && readdirSync(dir).length > 0 && !existsSync(join(dir, MARKER))) throw new UsageError(`dev: ${dir} exists and is not a kiosk dev rig folder; give another --data`);
    // One level at a time, bounded (src/dirs.ts): Node's recursive mkdir retries for ever where mkdir answers ENOENT.
    makeDirs(dir, 0o700);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`dev: --data ${fsProblem(dir, err)}`);
  }
  const running = (pid: number | undefined) => new CommandExit(EXIT.REFUSED, `dev: a rig is already running here (pid ${pid || '?'}): stop it first (Ctrl-C in its terminal), or give another --data`);
  let lock: InstanceLock;
  try {
    lock = acquireLock(join(dir, 'rig.lock'));
  } catch (err) {
    if (err instanceof LockHeldError) throw running(err.pid);
    throw err;
  }
  const daemon = lockState(join(dir, 'kiosk.lock'));
  if (daemon.held) {
    lock.release();
    throw running(daemon.pid);
  }
  for (const f of ['ready', 'scanner', 'feeder', 'hat', 'machine', 'machine.sock']) rmSync(join(dir, f), { force: true });
  return lock;
}

/** A socat pty pair linked at `a` (the driver's end) and `b` (the far end), once both links are there. */
async function ptyPair(a: string, b: string, started: ChildProcess[]): Promise<void> {
  const socat = spawn('socat', [`pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: 'ignore' });
  started.push(socat);
  const socatFailed = new Promise<never>((_, reject) => {
    socat.once('error', (err) => reject(new Error(`socat could not start (${err.message}): install it with apt-get install socat`)));
    socat.once('exit', (code) => reject(new Error(`socat exited (${code})`)));
  });
  socatFailed.catch(() => undefined);
  for (let i = 0; !(existsSync(a) && existsSync(b)); i++) {
    if (i > 400) throw new Error(`socat's links did not appear for ${a}`);
    await Promise.race([new Promise((r) => setTimeout(r, 5)), socatFailed]);
  }
}

async function up(argv: string[]): Promise<number> {
  const { values } = parse('dev', argv);
  const pricing = values.pricing ?? 'fixed';
  if (pricing !== 'fixed' && pricing !== 'menu' && pricing !== 'keyed') throw new UsageError(`dev: --pricing must be fixed, menu or keyed, got ${JSON.stringify(pricing)}`);
  const mdb = values.mdb !== undefined;
  if (mdb && values.pricing !== undefined) throw new UsageError('dev: with --mdb the vending machine names the price: --pricing is not used');
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`dev: --port must be 0–65535, got ${JSON.stringify(values.port)}`);
  const dir = resolve(values.data ?? 'kiosk-dev');
  const rigLock = claimRigDir(dir);
  writeFileSync(join(dir, MARKER), '{}\n', { mode: 0o600 }); // claimed before anything else is made

  const tls = values.tls !== undefined;
  const sandbox = await startSandbox({ port, host: '127.0.0.1', stateDir: join(dir, 'sandbox'), ledgerFile: join(dir, 'sandbox', 'ledger.json'), tls });
  const device = join(dir, 'scanner');
  const feeder = join(dir, 'feeder');
  const hat = join(dir, 'hat');
  const socats: ChildProcess[] = [];
  let daemon: ChildProcess | undefined;
  let vendingMachine: Awaited<ReturnType<typeof startMachine>> | undefined;
  const stopAll = async () => {
    if (daemon && daemon.exitCode === null) {
      const gone = new Promise((r) => daemon!.once('exit', r));
      daemon.kill('SIGTERM');
      await gone;
    }
    await vendingMachine?.close();
    for (const socat of socats) if (socat.exitCode === null) socat.kill('SIGTERM');
    await sandbox.close();
    rigLock.release();
  };
  try {
    await ptyPair(device, feeder, socats);
    if (mdb) {
      await ptyPair(hat, join(dir, 'machine'), socats);
      vendingMachine = await startMachine(join(dir, 'machine'), join(dir, 'machine.sock'));
    }
    const config = {
      ...demoConfigJson(sandbox.baseUrl, pricing, tls ? 'sandbox/tls-ca.pem' : undefined),
      scanner: { driver: 'serial', path: device },
      indicator: { driver: 'log' },
      // With the machine it releases the product (C,VEND), never a relay.
      approve: { driver: mdb ? 'none' : 'sim', pulseMs: 300 },
      keypad: { driver: 'none' },
      daemon: { controlSocket: join(dir, 'kiosk.sock'), lockFile: join(dir, 'kiosk.lock') },
      ...(mdb ? { mdb: { path: hat, ...demoMdbSection() } } : {}),
    } as Record<string, unknown>;
    if (pricing !== 'fixed') {
      // No keypad on the rig: a fixed price keeps every scan payable. Menu/keyed need the demo's sim keypad.
      process.stderr.write(`kiosk dev: the rig has no keypad; --pricing ${pricing} is written to the config, but scans only pay in fixed mode\n`);
    }
    const configFile = join(dir, 'config.json');
    writeFileSync(configFile, JSON.stringify(config, null, 2) + '\n', { mode: 0o600 });
    const logFile = join(dir, 'daemon.log');
    const logStream = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    const readyFile = join(dir, 'ready');
    daemon = spawn(process.execPath, [KIOSK_JS, 'run', '--config', configFile], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KIOSK_READY_FILE: readyFile } });
    daemon.stdout!.pipe(logStream);
    daemon.stderr!.on('data', (d: Buffer) => process.stderr.write(d));
    const info: RigInfo = { feeder, config: configFile, baseUrl: sandbox.baseUrl, log: logFile, pid: process.pid, ...(mdb ? { machine: join(dir, 'machine.sock') } : {}) };
    writeFileSync(join(dir, MARKER), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
    const exited = new Promise<number>((r) => daemon!.once('exit', (code) => r(code ?? 1)));
    for (let i = 0; !existsSync(readyFile); i++) {
      const early = await Promise.race([exited, new Promise<undefined>((r) => setTimeout(() => r(undefined), 10))]);
      if (early !== undefined) throw new Error(`the daemon exited ${early} before it was ready: see ${logFile}`);
      if (i > 3000) throw new Error(`the daemon was not ready within 30 s: see ${logFile}`);
    }
    const c = `--config ${configFile}`;
    process.stdout.write(
      [
        `kiosk dev: ready in ${dir}`,
        `  sandbox   ${sandbox.baseUrl}`,
        `  scanner   ${device} (a pty; the other end is ${feeder})`,
        ...(mdb ? [`  machine   a simulated vending machine behind an MDB HAT on ${hat} (a pty; the machine is on ${join(dir, 'machine')})`] : []),
        `  daemon    pid ${daemon.pid}, log ${logFile}`,
        '',
        'try, in another terminal:',
        ...(mdb
          ? [
              `  kiosk dev machine select 2 --data ${dir}     (choose product 2 on the machine; or cancel, reset, outcome failure|hold, succeed, fail, garbage, state)`,
              `  kiosk mdb watch ${c}`,
            ]
          : []),
        `  kiosk dev scan paid --data ${dir}            (or pending-then-paid, answer-lost, insufficient-balance, …)`,
        `  kiosk status ${c}`,
        `  kiosk doctor ${c} --no-gateway`,
        `  kiosk journal list ${c}`,
        `  kiosk logs --file ${logFile}`,
        '',
        'Ctrl-C stops the rig.',
        '',
      ].join('\n'),
    );
    let stop: () => void = () => undefined;
    const stopped = new Promise<void>((r) => (stop = r));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const code = await Promise.race([exited.then((c) => ({ died: c })), stopped.then(() => undefined)]);
    if (code) {
      process.stderr.write(`kiosk dev: the daemon exited ${code.died}; see ${logFile}\n`);
      await stopAll();
      return 1;
    }
    await stopAll();
    process.stdout.write('kiosk dev: stopped\n');
    return 0;
  } catch (err) {
    await stopAll();
    process.stderr.write(`kiosk dev: ${(err as Error).message}\n`);
    return 1;
  }
}
