// The fleet's wire contract, shared by the kiosk (src/fleet/client.ts) and the operator's tools
// (kiosk fleet watch/cmd): topics, payload versions, and how a remote command is signed and checked.
// docs/fleet.md describes the same for people; a test keeps its topic list equal to TOPICS.
import { generateKeyPairSync, randomBytes, sign, verify, type KeyObject } from 'node:crypto';

/** Every payload carries `v`; a consumer refuses a `v` it does not know. */
export const PAYLOAD_VERSION = 1;

export const COMMAND_NAMES = ['status', 'doctor', 'reconcile', 'report', 'selftest', 'scanner-setup'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The arguments each command takes (their values are checked by the command); any other is refused by name. */
export const COMMAND_ARGS: Readonly<Record<CommandName, readonly string[]>> = {
  status: [],
  doctor: [],
  reconcile: [],
  report: ['day'],
  selftest: [],
  'scanner-setup': ['dryRun'],
};

/** Why a command's arguments are refused, or undefined when every one is known. */
export function unknownArgs(name: CommandName, args: Record<string, unknown>): string | undefined {
  const known = COMMAND_ARGS[name];
  const extra = Object.keys(args).filter((k) => !known.includes(k));
  if (extra.length === 0) return undefined;
  // Stryker disable next-line StringLiteral: no command takes two arguments (COMMAND_ARGS): the ', ' never shows
  const takes = known.length ? `takes only ${known.join(', ')}` : 'takes no arguments';
  return `unknown argument${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}: ${name} ${takes}`;
}

/** The topic tree under `<prefix>/<deviceId>/`. */
export const TOPICS = {
  status: 'status', // retained, QoS 1; the broker publishes the Last Will (online:false) here
  events: 'events', // QoS 1, from the journal's outbox, in order
  metrics: 'metrics', // QoS 0, every fleet.metricsIntervalMs
  cmd: 'cmd/<name>', // QoS 1, signed commands to the kiosk
  reply: 'reply', // default reply topic (MQTT 3.1.1, or a command without a response topic)
} as const;

export const topic = (prefix: string, deviceId: string, leaf: string): string => `${prefix}/${deviceId}/${leaf}`;

/** Largest command message a kiosk reads (a signed command is a few hundred bytes). */
export const MAX_COMMAND_BYTES = 16 * 1024;

export interface CommandBody {
  device: string;
  name: string;
  /** ms since the epoch, the operator's clock. */
  ts: number;
  /** Random, at least 16 characters: a replay is refused by it. */
  nonce: string;
  args: Record<string, unknown>;
  /** MQTT 3.1.1 only: where the answer goes (MQTT 5 uses the response topic property). */
  replyTo?: string;
}

/** On the wire: the command as exact JSON text and an Ed25519 signature of those bytes. */
export interface CommandEnvelope {
  v: number;
  cmd: string;
  sig: string;
}

export interface CommandReply {
  v: number;
  device: string;
  name: string;
  nonce: string | null;
  at: string;
  ok: boolean;
  result?: unknown;
  error?: string;
}

export function signCommand(body: CommandBody, key: KeyObject): CommandEnvelope {
  const cmd = JSON.stringify(body);
  // Stryker disable next-line StringLiteral: an encoding '' is utf8 too (Buffer's default); 'base64' is tested
  return { v: PAYLOAD_VERSION, cmd, sig: sign(null, Buffer.from(cmd, 'utf8'), key).toString('base64') };
}

export function newCommand(device: string, name: string, args: Record<string, unknown> = {}, now = Date.now(), replyTo?: string): CommandBody {
  return { device, name, ts: now, nonce: randomBytes(16).toString('hex'), args, ...(replyTo ? { replyTo } : {}) };
}

/** The largest |ms since the epoch| a Date can hold (ECMAScript: 100,000,000 days). */
export const MAX_DATE_MS = 8.64e15;

export type CheckResult = { ok: true; body: CommandBody } | { ok: false; reason: string };

/**
 * Authenticates a command message: size, envelope, signature by one of `keys`, then the body's shape,
 * device and name (a signed `status` cannot be replayed as `reconcile` or on another kiosk). The time
 * window and the nonce are the caller's (they need the kiosk's state).
 */
export function checkCommand(message: Buffer, keys: readonly KeyObject[], device: string, name: string): CheckResult {
  if (message.length > MAX_COMMAND_BYTES) return { ok: false, reason: `message of ${message.length} bytes (at most ${MAX_COMMAND_BYTES})` };
  let env: Partial<CommandEnvelope>;
  try {
    env = JSON.parse(message.toString('utf8')) as Partial<CommandEnvelope>;
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
  if (!env || typeof env !== 'object' || env.v !== PAYLOAD_VERSION) return { ok: false, reason: `unknown envelope version ${String(JSON.stringify((env as { v?: unknown })?.v)).slice(0, 40)}` };
  if (typeof env.cmd !== 'string' || typeof env.sig !== 'string') return { ok: false, reason: 'cmd and sig must be strings' };
  if (keys.length === 0) return { ok: false, reason: 'no operator keys configured (fleet.operatorKeys): remote commands are off' };
  const sig = Buffer.from(env.sig, 'base64');
  const data = Buffer.from(env.cmd, 'utf8');
  if (sig.length !== 64 || !keys.some((k) => verify(null, data, k, sig))) return { ok: false, reason: 'bad signature' };
  let body: Partial<CommandBody>;
  try {
    body = JSON.parse(env.cmd) as Partial<CommandBody>;
  } catch {
    return { ok: false, reason: 'signed cmd is not JSON' };
  }
  if (body.device !== device) return { ok: false, reason: `signed for device ${JSON.stringify(body.device)}, this is ${device}` };
  if (body.name !== name) return { ok: false, reason: `signed as ${JSON.stringify(body.name)}, sent to cmd/${name}` };
  if (typeof body.ts !== 'number' || !Number.isSafeInteger(body.ts)) return { ok: false, reason: 'ts must be ms since the epoch' };
  // A safe integer is not always a time: past ±8.64e15 ms a Date is invalid (and toISOString throws).
  if (Math.abs(body.ts) > MAX_DATE_MS) return { ok: false, reason: `ts ${body.ts} is not a time (ms since the epoch, at most ${MAX_DATE_MS} either way)` };
  if (typeof body.nonce !== 'string' || body.nonce.length < 16 || body.nonce.length > 128) return { ok: false, reason: 'nonce must be 16 to 128 characters' };
  if (body.args !== undefined && (typeof body.args !== 'object' || body.args === null || Array.isArray(body.args))) return { ok: false, reason: 'args must be an object' };
  if (body.replyTo !== undefined && (typeof body.replyTo !== 'string' || /[+#]/.test(body.replyTo) || !body.replyTo)) return { ok: false, reason: 'replyTo must be a topic name' };
  return { ok: true, body: { ...(body as CommandBody), args: body.args ?? {} } };
}

/** A new operator key pair (PEM): the private half stays with the operator, the public half goes to kiosks. */
export function operatorKeyPair(): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

/** What an update can come to, in the order the Mender module reports them (`update` events). */
export const UPDATE_OUTCOMES = ['installed', 'committed', 'rolled-back', 'failed'] as const;
export type UpdateOutcome = (typeof UPDATE_OUTCOMES)[number];

/** An `update` event's data. `running` is the release the kiosk's `current` link names when it is written. */
export interface UpdateEventData {
  outcome: UpdateOutcome;
  release: string;
  previous: string | null;
  running: string | null;
  why: string | null;
}

/** The retained status payload. */
export interface StatusPayload {
  v: number;
  device: string;
  online: boolean;
  /** Why offline: 'stopped' (clean stop) or 'lost' (the Last Will: the broker lost the connection). */
  reason?: string;
  at: string;
  version?: string;
  /** The release the daemon runs and the one before it (device/install.sh's current and previous links). */
  release?: { id: string; previous: string | null };
  startedAt?: string;
  uptimeS?: number;
  link?: string;
  scanner?: { connected: boolean; device?: string };
  interaction?: string;
  attention?: number;
  unfinished?: number;
  lastPaymentAt?: string | null;
  today?: { day: string; count: number; amountFen: number };
  outbox?: { count: number; dropped: number };
  /** The kiosk's clock against the payment platform's: ok, unknown or wrong (no new payments), offsetMs + fast. */
  clock?: { state: string; offsetMs?: number; detail: string };
}

/** An event as published on `events`. */
export interface EventPayload {
  v: number;
  id: string;
  seq: number;
  device: string;
  type: string;
  at: string;
  data: Record<string, unknown>;
}
