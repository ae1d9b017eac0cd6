// Validation of the parsed config against the one schema (schema.ts), then what a schema cannot know:
// paths resolved against the config's folder, and the key, certificate and journal folder on disk.
// Every problem comes back at once (an operator on SSH fixes them all rather than one per restart).
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { KeyError, loadCaCertificates, loadPrivateKey, loadPublicKey } from '../umpay/keys.js';
import { checkFleetFiles } from '../fleet/files.js';
import { FLEET_PATHS, fleetSchema, type FleetConfig } from './fleet.js';
import { MAX_SOCKET_PATH } from './sections/daemon.js';
import { ConfigSchema, formatPath, RULE_ISSUE, type Config } from './schema.js';
import type { ConfigProblem } from './problem.js';
import { PARSE_ONCE } from './fields.js';
import { pseudoFolder } from '../dirs.js';

export interface ValidateOptions {
  /** The config file's name, reported in every problem. */
  file: string;
  /** Folder relative paths resolve against (the config file's folder). */
  baseDir: string;
  /** The config file's full path (to refuse a lockFile/controlSocket that is the config); default baseDir/file. */
  configPath?: string;
  /** Check that the key, certificate and journal folder exist and are usable (default true). */
  checkFiles?: boolean;
}

export interface ValidateResult {
  /** The config with defaults filled in and paths resolved; absent when anything in it is invalid. */
  config?: Config;
  problems: ConfigProblem[];
}

/** Edit distance, for "did you mean" on unknown keys. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length]!;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let v = root;
  for (const k of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v;
}

/** The object schema at `path` (through defaults, optionals and records), for the keys it knows. */
function knownKeys(path: ReadonlyArray<PropertyKey>): string[] {
  let s: z.core.$ZodType | undefined = ConfigSchema;
  const unwrap = () => {
    for (;;) {
      const def = s?._zod.def as { type: string; innerType?: z.core.$ZodType; in?: z.core.$ZodType } | undefined;
      if (def && (def.type === 'default' || def.type === 'prefault' || def.type === 'optional') && def.innerType) s = def.innerType;
      else if (def && def.type === 'pipe' && def.in) s = def.in;
      else return;
    }
  };
  unwrap();
  for (const k of path) {
    const def = s?._zod.def as { type: string; shape?: Record<string, z.core.$ZodType>; valueType?: z.core.$ZodType } | undefined;
    s = def?.type === 'object' ? def.shape?.[String(k)] : def?.type === 'record' ? def.valueType : undefined;
    unwrap();
  }
  const def = s?._zod.def as { type: string; shape?: Record<string, unknown> } | undefined;
  return def?.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function toProblems(issues: readonly z.core.$ZodIssue[], raw: unknown, file: string): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const fields = new Set<string>();
  for (const iss of issues) {
    if (iss.code === 'unrecognized_keys') {
      const known = knownKeys(iss.path);
      for (const key of iss.keys) {
        const near = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = near && near[1] <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${near[0]}"?` : `; known keys here: ${known.join(', ')}`;
        out.push({ file, field: formatPath([...iss.path, key] as Array<string | number>), value: valueAt(raw, [...iss.path, key]), problem: `unknown key${hint}` });
      }
      continue;
    }
    const field = formatPath(iss.path as Array<string | number>);
    const fromRule = iss.code === 'custom' && (iss.params as Record<string, unknown> | undefined)?.[RULE_ISSUE] === true;
    // A rule's finding about a field that is itself wrong would only repeat it.
    if (fromRule && fields.has(field)) continue;
    if (!fromRule) fields.add(field);
    out.push({ file, field, value: valueAt(raw, iss.path), problem: iss.message });
  }
  return out;
}

/** Validates a parsed config. Never throws for bad input: everything wrong comes back in `problems`. */
export function validateConfig(raw: unknown, options: ValidateOptions): ValidateResult {
  const { file, baseDir } = options;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    const what = raw === null ? 'null' : Array.isArray(raw) ? 'an array' : `a ${typeof raw}`;
    return { problems: [{ file, field: '', value: raw, problem: `the config must be a JSON object, got ${what}` }] };
  }
  const parsed = ConfigSchema.safeParse(raw, PARSE_ONCE);
  const problems = parsed.success ? [] : toProblems(parsed.error.issues, raw, file);
  const rawPath = (section: string, key: string): string => {
    const v = valueAt(raw, [section, key]);
    return typeof v === 'string' && v !== '' ? resolve(baseDir, v) : '';
  };
  const bad = (field: string) => problems.some((p) => p.field === field);

  if (options.checkFiles !== false) {
    const key = rawPath('merchant', 'privateKey');
    const cert = rawPath('gateway', 'platformCert');
    const journal = rawPath('journal', 'path');
    if (key && !bad('merchant.privateKey')) checkKey(problems, file, 'merchant.privateKey', key, (f) => loadPrivateKey(f, { requirePrivateMode: true }));
    if (cert && !bad('gateway.platformCert')) checkKey(problems, file, 'gateway.platformCert', cert, loadPublicKey);
    const ca = rawPath('gateway', 'ca');
    if (ca && !bad('gateway.ca')) checkKey(problems, file, 'gateway.ca', ca, loadCaCertificates);
    if (journal && !bad('journal.path')) checkJournalFolder(problems, file, journal);
  }
  // Telemetry (src/config/fleet.ts): its files are checked once the section itself is right.
  const rawFleet = valueAt(raw, ['fleet']);
  const fleetParsed = rawFleet === undefined ? undefined : fleetSchema.safeParse(rawFleet, PARSE_ONCE);
  const fleet = fleetParsed?.success ? resolveFleet(fleetParsed.data, baseDir) : undefined;
  if (fleet && options.checkFiles !== false) for (const p of checkFleetFiles(fleet)) problems.push({ file, ...p });

  if (!parsed.success) return { problems };
  const c = parsed.data;
  const journalDir = dirname(resolve(baseDir, c.journal.path));
  const config: Config = {
    ...c,
    merchant: { ...c.merchant, privateKey: resolve(baseDir, c.merchant.privateKey) },
    gateway: { ...c.gateway, platformCert: resolve(baseDir, c.gateway.platformCert), ...(c.gateway.ca ? { ca: resolve(baseDir, c.gateway.ca) } : {}) },
    journal: { path: resolve(baseDir, c.journal.path) },
    daemon: {
      ...c.daemon,
      controlSocket: c.daemon.controlSocket ? resolve(baseDir, c.daemon.controlSocket) : join(journalDir, 'kiosk.sock'),
      lockFile: c.daemon.lockFile ? resolve(baseDir, c.daemon.lockFile) : join(journalDir, 'kiosk.lock'),
      settleDir: c.daemon.settleDir ? resolve(baseDir, c.daemon.settleDir) : join(journalDir, 'settlement'),
    },
    fleet,
  };
  if (!fleet) delete config.fleet;
  const others = { config: options.configPath ?? join(baseDir, file), journal: config.journal.path, privateKey: config.merchant.privateKey, platformCert: config.gateway.platformCert };
  checkDaemonPaths(problems, file, config.daemon, others, options.checkFiles !== false);
  // Folders the daemon writes into: never a kernel pseudo filesystem (mkdir there fails for ever, e.g. /proc).
  const { settleDir, lockFile, controlSocket } = config.daemon;
  for (const [field, value, folder] of [['daemon.settleDir', settleDir, settleDir], ['daemon.lockFile', lockFile, dirname(lockFile)], ['daemon.controlSocket', controlSocket, dirname(controlSocket)]] as const) {
    const why = pseudoFolder(folder, { probe: options.checkFiles !== false });
    if (why) problems.push({ file, field, value, problem: why });
  }
  if (Buffer.byteLength(config.daemon.controlSocket) > MAX_SOCKET_PATH) {
    problems.push({
      file,
      field: 'daemon.controlSocket',
      value: config.daemon.controlSocket,
      problem: `is longer than ${MAX_SOCKET_PATH} bytes, the limit for a Unix socket path: choose a shorter path`,
    });
  }
  return problems.length ? { problems } : { config, problems };
}

/**
 * daemon.lockFile and daemon.controlSocket are files the daemon writes (a pid; a socket it replaces): never the
 * journal or its -wal/-shm, the config, the key or the certificate, and only in a folder the daemon's user owns
 * (in /tmp anyone could plant a link or a file there first).
 */
function checkDaemonPaths(problems: ConfigProblem[], file: string, daemon: { lockFile: string; controlSocket: string }, others: Record<string, string>, checkFiles: boolean): void {
  const add = (field: string, value: string, problem: string) => problems.push({ file, field, value, problem });
  const taken: Array<[string, string]> = [];
  if (others.journal) taken.push(['journal.path', others.journal], ['journal.path (its -wal)', others.journal + '-wal'], ['journal.path (its -shm)', others.journal + '-shm']);
  taken.push(['the config file', others.config!]);
  if (others.privateKey) taken.push(['merchant.privateKey', others.privateKey]);
  if (others.platformCert) taken.push(['gateway.platformCert', others.platformCert]);
  const same = (a: string, b: string): boolean => {
    if (a === b) return true;
    try {
      const x = statSync(a, { bigint: true }); // exact inode numbers (src/journal/files.ts, FileId)
      const y = statSync(b, { bigint: true });
      return x.dev === y.dev && x.ino === y.ino;
    } catch {
      return false;
    }
  };
  for (const [field, path] of [['daemon.lockFile', daemon.lockFile], ['daemon.controlSocket', daemon.controlSocket]] as const) {
    const clash = taken.find(([, other]) => other && same(path, other));
    if (clash) {
      add(field, path, `is ${clash[0]}: the daemon writes this file (${field === 'daemon.lockFile' ? 'a pid' : 'a socket, replacing what is there'}); give its own name, e.g. ${join(dirname(others.journal || path), field === 'daemon.lockFile' ? 'kiosk.lock' : 'kiosk.sock')}`);
      continue;
    }
    if (!checkFiles) continue;
    const dir = dirname(path);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) add(field, path, `${dir} is not a folder`);
      else if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        add(field, path, `folder ${dir} belongs to uid ${st.uid}, not to the kiosk user (uid ${process.getuid()}): put it in a folder the daemon owns, e.g. beside the journal`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The journal's folder is reported once, by journal.path.
      if (!(others.journal && dir === dirname(others.journal))) add(field, path, code === 'ENOENT' ? `folder ${dir} does not exist` : `folder ${dir}: ${(err as Error).message}`);
    }
  }
  if (daemon.lockFile === daemon.controlSocket) add('daemon.controlSocket', daemon.controlSocket, 'is the same file as daemon.lockFile: give each its own name');
}

function resolveFleet(f: FleetConfig, baseDir: string): FleetConfig {
  const out = { ...f };
  for (const k of FLEET_PATHS) if (out[k] !== undefined) out[k] = resolve(baseDir, out[k]);
  return out;
}

function checkKey(problems: ConfigProblem[], file: string, field: string, path: string, load: (file: string) => unknown): void {
  try {
    load(path);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    // KeyError's message starts with the file name; the problem already carries it as the value.
    const prefix = `${err.file}: `;
    problems.push({ file, field, value: path, problem: err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message });
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function checkJournalFolder(problems: ConfigProblem[], file: string, journalPath: string): void {
  const add = (problem: string) => problems.push({ file, field: 'journal.path', value: journalPath, problem });
  const dir = dirname(journalPath);
  try {
    if (!statSync(dir).isDirectory()) add(`${dir} is not a folder`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The daemon creates a missing journal folder (0700) when the folder above it exists.
    if (code === 'ENOENT' && isFolder(dirname(dir))) return;
    add(code === 'ENOENT' ? `folder ${dir} does not exist, nor does ${dirname(dir)} (device/install.sh creates /var/lib/kiosk)` : `folder ${dir}: ${(err as Error).message}`);
  }
  try {
    const st = statSync(journalPath);
    if (st.isDirectory()) add('is a folder: give the journal file name, e.g. /var/lib/kiosk/journal.sqlite');
    else if (!st.isFile()) add('not a regular file');
  } catch {
    // A missing journal file is fine: the daemon creates it.
  }
}
