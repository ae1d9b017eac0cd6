// `kiosk fleet …`: the operator's side of the fleet (docs/fleet.md).
//   kiosk fleet watch --broker URL [--prefix P] [--once SECONDS] [--json]
//       a live table of every kiosk from the retained status and the events
//   kiosk fleet cmd DEVICE NAME --broker URL --key OPERATOR.pem [--prefix P] [--args JSON] [--timeout S]
//       signs a command, sends it, prints the answer (exit 0 ok, 1 the kiosk said no or no answer; scanner-setup:
//       1 also when the module does not match the profile, as kiosk scanner setup)
//   kiosk fleet keygen --out DIR
//       an operator key pair: operator.key.pem (0600, stays with the operator), operator.pub.pem (for kiosks)
// Broker access: --username U --password-file F --ca F --cert F --key-file F --protocol 4|5.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { parseCommand, subcommand, UsageError } from './args.js';
import { CommandExit, runCommand } from './tech/context.js';
import { ago, EXIT, fsProblem, json, processIo, table, yuan, type Io } from './tech/format.js';
import { COMMAND_NAMES, newCommand, operatorKeyPair, PAYLOAD_VERSION, signCommand, type CommandReply, type StatusPayload } from '../fleet/protocol.js';
import { FleetFileError, loadOperatorPrivateKey } from '../fleet/files.js';
import type { RemoteSetupAnswer } from '../kiosk/scanner-setup.js';
import { setupWords } from './tech/scanner-words.js';
import { makeDirs } from '../dirs.js';


export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, opts: { now?: () => number } = {}): Promise<number> {
  return runCommand(io, async () => {
    const sub = subcommand('fleet', argv);
    const rest = argv.slice(1);
    if (sub === 'watch') return watch(rest, io, opts.now ?? Date.now);
    if (sub === 'cmd') return cmd(rest, io);
    return keygen(rest, io);
  });
}

function str(v: string | true | undefined, name: string): string | undefined {
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

function readFlagFile(file: string, name: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `--${name} ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

interface Broker {
  url: string;
  prefix: string;
  options: IClientOptions;
}

function brokerOf(flags: Record<string, string | true>): Broker {
  const url = str(flags.broker, 'broker');
  if (!url) throw new UsageError('missing --broker URL (e.g. mqtts://broker.example.com:8883)');
  if (!/^mqtts?:\/\/[^/]+/.test(url)) throw new UsageError(`--broker must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], got ${JSON.stringify(url)}`);
  const prefix = str(flags.prefix, 'prefix') ?? 'kiosk';
  if (!/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/.test(prefix)) throw new UsageError(`--prefix: letters, digits, "-", "_" and "/" between levels, got ${JSON.stringify(prefix)}`);
  const protocol = str(flags.protocol, 'protocol') ?? '5';
  if (protocol !== '4' && protocol !== '5') throw new UsageError(`--protocol must be 4 or 5, got ${JSON.stringify(protocol)}`);
  const options: IClientOptions = { protocolVersion: protocol === '5' ? 5 : 4, reconnectPeriod: 1000, connectTimeout: 5000, clientId: `kiosk-operator-${randomBytes(4).toString('hex')}` };
  const user = str(flags.username, 'username');
  if (user) options.username = user;
  const pw = str(flags['password-file'], 'password-file');
  if (pw) options.password = readFlagFile(pw, 'password-file').toString('utf8').replace(/\r?\n$/, '');
  for (const [flag, key] of [
    ['ca', 'ca'],
    ['cert', 'cert'],
    ['key-file', 'key'],
  ] as const) {
    const f = str(flags[flag], flag);
    if (f) options[key] = readFlagFile(f, flag);
  }
  return { url, prefix, options };
}

function connected(b: Broker, io: Io): Promise<MqttClient> {
  const client = connect(b.url, b.options);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      client.end(true);
      reject(new CommandExit(EXIT.PROBLEM, `${b.url}: no connection within 5 s${lastError ? ` (${lastError})` : ''}`));
    }, 5000);
    let lastError = '';
    client.on('error', (err) => (lastError = err.message));
    client.once('connect', () => {
      clearTimeout(timer);
      resolve(client);
    });
    void io;
  });
}

// ---------------------------------------------------------------- watch

interface Row {
  device: string;
  status?: StatusPayload;
  lastEventAt?: string;
  lastPayment?: { at: string; amountFen: number; state: string };
}

/** Anything a broker relays is untrusted: no control characters (terminal escapes) reach the operator's screen. */
const clean = (v: unknown): string | number => (typeof v === 'number' ? v : String(v).replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 40));

/** The table as `kiosk fleet watch` prints it (also what docs/fleet.md shows). */
export function watchTable(rows: readonly Row[], now: number): string {
  const sorted = [...rows].sort((a, b) => a.device.localeCompare(b.device));
  const body = sorted.map((r) => {
    const s = r.status;
    const lastAt = r.lastPayment?.at ?? s?.lastPaymentAt ?? null;
    // The Last Will was written at connect time: its `at` is not when the kiosk was lost.
    const online = !s ? '?' : s.online === true ? 'yes' : s.reason === 'lost' ? 'NO (lost)' : `NO (${clean(s.reason ?? 'offline')} ${ago(now - Date.parse(String(s.at)))})`;
    const fen = (n: unknown): string => (Number.isSafeInteger(n) ? yuan(n as number) : '?');
    return [
      r.device,
      online,
      s?.link ?? '?',
      s?.scanner ? (s.scanner.connected ? 'ok' : 'FAULT') : '?',
      s?.attention ?? '?',
      s?.today ? s.today.count : '?',
      s?.today ? fen(s.today.amountFen) : '?',
      lastAt ? `${ago(now - Date.parse(String(lastAt)))}${r.lastPayment ? ` ${r.lastPayment.state} ${fen(r.lastPayment.amountFen)}` : ''}` : '-',
      s?.outbox ? `${s.outbox.count}${s.outbox.dropped ? ` (${s.outbox.dropped} dropped)` : ''}` : '?',
    ].map(clean);
  });
  return table(['device', 'online', 'link', 'scanner', 'attention', 'today', 'takings', 'last payment', 'outbox'], body);
}

async function watch(argv: readonly string[], io: Io, now: () => number): Promise<number> {
  const args = parseCommand('fleet watch', argv);
  const b = brokerOf(args.flags);
  const onceS = str(args.flags.once, 'once');
  if (onceS !== undefined && !/^[0-9]+(\.[0-9]+)?$/.test(onceS)) throw new UsageError(`--once must be a number of seconds, got ${JSON.stringify(onceS)}`);
  const rows = new Map<string, Row>();
  const row = (device: string): Row => {
    let r = rows.get(device);
    if (!r) rows.set(device, (r = { device }));
    return r;
  };
  const client = await connected(b, io);
  const depth = b.prefix.split('/').length;
  client.on('message', (t, payload) => {
    const parts = t.split('/');
    const device = parts[depth];
    const leaf = parts.slice(depth + 1).join('/');
    if (!device) return;
    let m: Record<string, unknown>;
    try {
      m = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (m.v !== PAYLOAD_VERSION) return;
    // An offline status (the Last Will carries nothing else) keeps the last known figures on show.
    if (leaf === 'status') row(device).status = { ...row(device).status, ...(m as unknown as StatusPayload) };
    else if (leaf === 'events') {
      const r = row(device);
      r.lastEventAt = String(m.at);
      const d = m.data as { amountFen?: number; state?: string } | undefined;
      if (m.type === 'order' && d && typeof d.amountFen === 'number') r.lastPayment = { at: String(m.at), amountFen: d.amountFen, state: String(d.state) };
    }
    if (onceS === undefined) draw();
  });
  const draw = (): void => {
    if (args.flags.json) io.out(JSON.stringify([...rows.values()]) + '\n');
    else io.out(`${io.outIsTTY ? '\x1b[H\x1b[2J' : ''}${b.url}  ${b.prefix}/+  ${new Date(now()).toISOString()}\n${watchTable([...rows.values()], now())}`);
  };
  await new Promise<void>((resolve, reject) => client.subscribe([`${b.prefix}/+/status`, `${b.prefix}/+/events`], { qos: 1 }, (err) => (err ? reject(err) : resolve())));
  if (onceS !== undefined) {
    // Retained statuses arrive right after the subscription; events only as they happen.
    await new Promise((r) => setTimeout(r, Number(onceS) * 1000));
    draw();
    await new Promise<void>((r) => client.end(false, {}, () => r()));
    return EXIT.OK;
  }
  const tick = setInterval(draw, 5000);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  clearInterval(tick);
  await new Promise<void>((r) => client.end(false, {}, () => r()));
  return EXIT.OK;
}

// ---------------------------------------------------------------- cmd

async function cmd(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCommand('fleet cmd', argv);
  const [device, name] = args.positional as [string, string];
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) throw new UsageError(`fleet cmd: unknown command ${JSON.stringify(name)} (commands: ${COMMAND_NAMES.join(', ')})`);
  const keyFile = str(args.flags.key, 'key');
  if (!keyFile) throw new UsageError('missing --key OPERATOR.key.pem (kiosk fleet keygen makes one)');
  let key;
  try {
    key = loadOperatorPrivateKey(keyFile);
  } catch (err) {
    if (err instanceof FleetFileError) throw new CommandExit(EXIT.USAGE, err.message);
    throw err;
  }
  let cmdArgs: Record<string, unknown> = {};
  const a = str(args.flags.args, 'args');
  if (a !== undefined) {
    try {
      cmdArgs = JSON.parse(a) as Record<string, unknown>;
    } catch {
      throw new UsageError(`--args must be a JSON object, e.g. '{"day":"2026-11-30"}'`);
    }
    if (typeof cmdArgs !== 'object' || cmdArgs === null || Array.isArray(cmdArgs)) throw new UsageError('--args must be a JSON object');
  }
  const timeoutS = Number(str(args.flags.timeout, 'timeout') ?? '30');
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new UsageError('--timeout must be a number of seconds');
  const b = brokerOf(args.flags);
  const v5 = b.options.protocolVersion === 5;
  const replyTopic = `${b.prefix}/${device}/reply/${randomBytes(8).toString('hex')}`;
  const body = newCommand(device, name, cmdArgs, Date.now(), v5 ? undefined : replyTopic);
  const envelope = signCommand(body, key);
  const correlation = randomBytes(16);
  const client = await connected(b, io);
  try {
    const answer = new Promise<CommandReply>((resolve) => {
      client.on('message', (t, payload, packet) => {
        if (t !== replyTopic) return;
        if (v5 && packet.properties?.correlationData && !Buffer.from(packet.properties.correlationData).equals(correlation)) return;
        try {
          const r = JSON.parse(payload.toString('utf8')) as CommandReply;
          if (r.nonce === body.nonce || r.nonce === null) resolve(r);
        } catch {
          /* not an answer */
        }
      });
    });
    await new Promise<void>((resolve, reject) => client.subscribe(replyTopic, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    client.publish(`${b.prefix}/${device}/cmd/${name}`, JSON.stringify(envelope), { qos: 1, ...(v5 ? { properties: { responseTopic: replyTopic, correlationData: correlation } } : {}) });
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([answer, new Promise<null>((res) => (timer = setTimeout(() => res(null), timeoutS * 1000)))]);
    clearTimeout(timer);
    if (!r) throw new CommandExit(EXIT.PROBLEM, `no answer from ${device} within ${timeoutS} s (offline? kiosk fleet watch shows it)`);
    if (args.flags.json) io.out(json(r));
    else if (r.ok && name === 'scanner-setup') {
      // The same table as `kiosk scanner setup` on site.
      const s = r.result as RemoteSetupAnswer;
      io.out(`${device} ${name}: ok${s.mode === 'dry-run' ? ' (dry run: nothing written)' : ''}\n${setupWords(s.identity, s, s.mode === 'apply')}module: ${s.status.state}, flash saves ${s.status.saves}, ${s.ms} ms\n`);
    } else if (r.ok) io.out(`${device} ${name}: ok\n${JSON.stringify(r.result, null, 2)}\n`);
    else io.out(`${device} ${name}: ${r.error}\n`);
    if (r.ok && name === 'scanner-setup') {
      const s = r.result as RemoteSetupAnswer;
      return s.matches || s.skipped ? EXIT.OK : EXIT.PROBLEM;
    }
    return r.ok ? EXIT.OK : EXIT.PROBLEM;
  } finally {
    await new Promise<void>((r) => client.end(false, {}, () => r()));
  }
}

// ---------------------------------------------------------------- keygen

function keygen(argv: readonly string[], io: Io): number {
  const args = parseCommand('fleet keygen', argv);
  const out = str(args.flags.out, 'out');
  if (!out) throw new UsageError('missing --out DIR');
  const priv = join(out, 'operator.key.pem');
  const pub = join(out, 'operator.pub.pem');
  // Never overwrite a key: the kiosks trust the old public half.
  for (const f of [priv, pub]) if (existsSync(f)) throw new CommandExit(EXIT.REFUSED, `${f} exists; not overwritten (kiosks may trust it)`);
  let at = out;
  try {
    if (existsSync(out) && !statSync(out).isDirectory()) throw new CommandExit(EXIT.USAGE, `--out ${out}: not a folder (give the folder the two key files go into)`);
    makeDirs(out, 0o700);
    const kp = operatorKeyPair();
    writeFileSync((at = priv), kp.privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync((at = pub), kp.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    if (err instanceof CommandExit) throw err;
    throw new CommandExit(EXIT.USAGE, `--out ${fsProblem(at, err)}`);
  }
  io.out(`${priv}  private: stays with the operator (kiosk fleet cmd --key)\n${pub}  public: copy to each kiosk, fleet.operatorKeys (several keys may be concatenated)\n`);
  return EXIT.OK;
}
