// The `fleet` config section (MQTT telemetry and remote commands, docs/fleet.md): a zod schema of its own,
// composed into the config's validation. No `fleet` section: telemetry is off and nothing is written
// for it. Its defaults are FLEET_DEFAULTS (defaults.ts, with every other default).
import * as z from 'zod';
import { doc, PARSE_ONCE, section } from './fields.js';
import { defineSection } from './rules.js';
import { FLEET_DEFAULTS } from './defaults.js';

export { FLEET_DEFAULTS };

const int = (min: number, max: number, unit: string) =>
  z
    .number({ error: (i) => `must be a whole number (${unit}), got ${i.input === null ? 'null' : Array.isArray(i.input) ? 'an array' : `a ${typeof i.input}`}` })
    .int({ error: `must be a whole number (${unit}), got a fraction` })
    .min(min, { error: `must be between ${min} and ${max} ${unit}` })
    .max(max, { error: `must be between ${min} and ${max} ${unit}` });

const str = (what: string) =>
  z.string({ error: (i) => (i.input === undefined ? 'missing (required)' : `must be a string (${what}), got ${i.input === null ? 'null' : `a ${typeof i.input}`}`) }).min(1, { error: 'must not be empty' });

export const fleetSchema = section({
    url: doc(str('the broker, e.g. mqtts://broker.example.com:8883').refine(
      (v) => {
        try {
          const u = new URL(v);
          return (u.protocol === 'mqtt:' || u.protocol === 'mqtts:') && !!u.hostname && !u.username && !u.password;
        } catch {
          return false;
        }
      },
      { error: 'must be mqtt://HOST[:PORT] or mqtts://HOST[:PORT], without a user or password in it (use username and passwordFile)' },
    ), 'The broker: `mqtt://HOST[:PORT]` or `mqtts://HOST[:PORT]`; no user or password inside.', { required: 'R in a `fleet` section' }),
    prefix: doc(str('topic prefix')
      .regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, { error: 'must be letters, digits, "-", "_" with "/" between levels (no "+", "#", leading or trailing "/")' })
      .max(64)
      .default(FLEET_DEFAULTS.prefix), 'First topic level(s).'),
    protocolVersion: doc(z.union([z.literal(4), z.literal(5)], { error: 'must be 5 (MQTT 5, the default) or 4 (MQTT 3.1.1: replies go to the topic the command names)' }).default(FLEET_DEFAULTS.protocolVersion), '`4` = MQTT 3.1.1 (then a command names its reply topic itself).', { allowed: '`5`, `4`' }),
    username: doc(str('broker user').optional(), 'Broker login user.'),
    /** File holding the broker password (kept out of the config, which technicians paste into tickets). */
    passwordFile: doc(str('path of a file holding the broker password').optional(), 'File holding the broker password, mode 0600 (kept out of the config, which technicians paste into tickets).'),
    ca: doc(str('path of the CA certificate (PEM) for mqtts://').optional(), 'TLS (mqtts only): the broker\'s CA certificate (PEM).'),
    cert: doc(str('path of the client certificate (PEM)').optional(), 'TLS (mqtts only): client certificate (PEM), with `key`.'),
    key: doc(str('path of the client private key (PEM, mode 0600)').optional(), 'TLS (mqtts only): client private key (PEM, mode 0600).'),
    keepaliveS: doc(int(5, 3600, 's').default(FLEET_DEFAULTS.keepaliveS), 'MQTT keep-alive.', { allowed: '5–3600 s' }),
    reconnectMs: doc(int(500, 600_000, 'ms').default(FLEET_DEFAULTS.reconnectMs), 'Pause between reconnect attempts.', { allowed: '500–600000 ms' }),
    statusIntervalMs: doc(int(5_000, 3_600_000, 'ms').default(FLEET_DEFAULTS.statusIntervalMs), 'Status refresh (it is also published on every change).', { allowed: '5000–3600000 ms' }),
    metricsIntervalMs: doc(int(10_000, 86_400_000, 'ms').default(FLEET_DEFAULTS.metricsIntervalMs), 'Metrics period.', { allowed: '10000–86400000 ms' }),
    outboxMaxEvents: doc(int(100, 10_000_000, 'events').default(FLEET_DEFAULTS.outboxMaxEvents), 'Offline cap: beyond it the oldest events are dropped and counted.', { allowed: '100–10000000' }),
    outboxMaxAgeDays: doc(int(1, 365, 'days').default(FLEET_DEFAULTS.outboxMaxAgeDays), 'Offline cap by age: days of the daemon running (monotonic clock) since the event was written, never the wall clock.', { allowed: '1–365 days' }),
    /** Ed25519 public keys (PEM, one or more) of the operators whose signed commands the kiosk obeys. */
    operatorKeys: doc(str('path of the operators\' Ed25519 public keys (PEM)').optional(), 'Ed25519 public keys (PEM, several may be concatenated) whose signed commands are obeyed; without it every command is refused.'),
    commandWindowS: doc(int(10, 3600, 's').default(FLEET_DEFAULTS.commandWindowS), 'A command\'s timestamp must be within ± this of the kiosk\'s clock.', { allowed: '10–3600 s' }),
  })
  .superRefine((f, ctx) => {
    if ((f.cert === undefined) !== (f.key === undefined)) ctx.addIssue({ code: 'custom', path: [f.cert === undefined ? 'cert' : 'key'], message: 'cert and key go together (a client certificate needs its key)' });
    if (f.passwordFile !== undefined && f.username === undefined) ctx.addIssue({ code: 'custom', path: ['username'], message: 'missing: passwordFile needs a username' });
    const tls = f.url.startsWith('mqtts:');
    for (const k of ['ca', 'cert', 'key'] as const) {
      if (f[k] !== undefined && !tls) ctx.addIssue({ code: 'custom', path: [k], message: `only used with mqtts:// (url is ${f.url.split(':')[0]}://)` });
    }
  });

export type FleetConfig = z.output<typeof fleetSchema>;

/** The section as the config composes it: absent means telemetry off. */
export const fleet = defineSection(fleetSchema.optional());

/** The path-valued fields, resolved against the config's folder by the caller. */
export const FLEET_PATHS = ['passwordFile', 'ca', 'cert', 'key', 'operatorKeys'] as const;

export interface FleetIssue {
  /** Dotted, e.g. `fleet.url`. */
  field: string;
  value: unknown;
  problem: string;
}

/** Validates the raw `fleet` section; every problem with its field, the value found (never file contents). */
export function parseFleet(raw: unknown): { fleet?: FleetConfig; issues: FleetIssue[] } {
  const r = fleetSchema.safeParse(raw, PARSE_ONCE);
  if (r.success) return { fleet: r.data, issues: [] };
  const issues = r.error.issues.map((i) => {
    let value: unknown = raw;
    for (const k of i.path) value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[k] : undefined;
    if (i.code === 'unrecognized_keys') {
      return { field: ['fleet', ...i.path.map(String), i.keys.join(', ')].join('.'), value: undefined, problem: `unknown key; known keys here: ${Object.keys(fleetSchema.shape).join(', ')}` };
    }
    const missing = value === undefined && i.code === 'invalid_type';
    return { field: ['fleet', ...i.path.map(String)].join('.'), value, problem: missing ? 'missing (required)' : i.message };
  });
  return { issues };
}
