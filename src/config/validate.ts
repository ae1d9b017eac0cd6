// Validation of the parsed config: every problem found in one pass (an operator on SSH fixes them all at
// once rather than one per restart), each with the dotted field, the value found and what is wrong.
// Plain TypeScript on purpose: no schema library, the rules read top to bottom like device/CONFIG.md.
import { statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { signingHazard } from '../umpay/canonical.js';
import { KeyError, loadPrivateKey, loadPublicKey } from '../umpay/keys.js';
import { parseDisplay } from './display.js';
import { parseApproveConfirm } from './approve-confirm.js';
import { FLEET_PATHS, parseFleet } from './fleet.js';
import { checkFleetFiles } from '../fleet/files.js';
import {
  APPROVE_DRIVERS,
  BUZZER_KINDS,
  DEFAULTS,
  INDICATOR_DRIVERS,
  INDICATOR_IOS,
  KEY_LABELS,
  KEYPAD_DRIVERS,
  KEYPAD_LAYOUTS,
  LOG_LEVELS,
  PRICING_MODES,
  MODULE_FAMILIES,
  SCANNER_DRIVERS,
  SETUP_MODES,
  TERMINATORS,
  TRIGGER_MODES,
  type Config,
  type ConfigProblem,
  type MenuItem,
} from './types.js';

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
  /**
   * The config with defaults filled in and paths resolved. Meaningful only when `problems` is empty;
   * otherwise a best effort (invalid values replaced by defaults or empty) for tools like `kiosk doctor`.
   */
  config: Config;
  problems: ConfigProblem[];
}

type Obj = Record<string, unknown>;

const MAX_FEN = 9_999_999_999_999; // txnAmt is at most 13 digits
const MAX_SOCKET_PATH = 107; // Linux sun_path is 108 bytes including the terminating NUL
const BAUD_RATES = [1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v}`;
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

interface StrRule {
  required?: boolean;
  def?: string;
  min?: number;
  max?: number;
  pattern?: RegExp;
  patternText?: string;
  oneOf?: readonly string[];
  /** Extra check: returns what is wrong, or undefined. */
  check?: (v: string) => string | undefined;
}

interface IntRule {
  required?: boolean;
  def?: number;
  min: number;
  max: number;
  unit?: string;
}

/** Reads typed fields out of untrusted JSON, recording a problem for each bad one. */
class Reader {
  readonly problems: ConfigProblem[] = [];
  /** Required sections found missing: their required fields are not listed one by one as well. */
  private readonly absent = new Set<string>();
  constructor(private readonly file: string) {}

  add(field: string, value: unknown, problem: string): void {
    const dot = field.lastIndexOf('.');
    if (value === undefined && dot > 0 && this.absent.has(field.slice(0, dot))) return;
    this.problems.push({ file: this.file, field, value, problem });
  }

  /** Flags keys not in `known`, suggesting the closest known one. */
  known(obj: Obj, path: string, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const near = known.map((k) => [k, distance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
      const hint = near && near[1] <= Math.max(2, Math.floor(key.length / 3)) ? `; did you mean "${near[0]}"?` : `; known keys here: ${known.join(', ')}`;
      this.add(path ? `${path}.${key}` : key, obj[key], `unknown key${hint}`);
    }
  }

  /** A nested section; an empty object when absent (and not required) or wrong. */
  section(parent: Obj, key: string, path: string, known: readonly string[], required = false): Obj {
    const field = path ? `${path}.${key}` : key;
    const v = parent[key];
    if (v === undefined) {
      if (required) this.add(field, undefined, 'missing (required section, see device/CONFIG.md)');
      this.absent.add(field);
      return {};
    }
    if (!isObj(v)) {
      this.add(field, v, `must be an object, got ${typeName(v)}`);
      this.absent.add(field);
      return {};
    }
    this.known(v, field, known);
    return v;
  }

  str(obj: Obj, key: string, path: string, rule: StrRule = {}): string | undefined {
    const field = path ? `${path}.${key}` : key;
    const v = obj[key];
    if (v === undefined) {
      if (rule.required) this.add(field, undefined, 'missing (required)');
      return rule.def;
    }
    if (typeof v !== 'string') {
      this.add(field, v, `must be a string, got ${typeName(v)}`);
      return rule.def;
    }
    if (rule.oneOf && !rule.oneOf.includes(v)) {
      this.add(field, v, `must be one of ${rule.oneOf.map((o) => JSON.stringify(o)).join(', ')}`);
      return rule.def;
    }
    const min = rule.min ?? (rule.required ? 1 : 0);
    if (v.length < min) {
      this.add(field, v, min === 1 ? 'must not be empty' : `must be at least ${min} characters`);
      return rule.def;
    }
    if (rule.max !== undefined && v.length > rule.max) {
      this.add(field, v, `must be at most ${rule.max} characters (has ${v.length})`);
      return rule.def;
    }
    if (rule.pattern && !rule.pattern.test(v)) {
      this.add(field, v, `must be ${rule.patternText ?? `like ${rule.pattern}`}`);
      return rule.def;
    }
    const wrong = rule.check?.(v);
    if (wrong) {
      this.add(field, v, wrong);
      return rule.def;
    }
    return v;
  }

  int(obj: Obj, key: string, path: string, rule: IntRule): number | undefined {
    return this.intValue(obj[key], path ? `${path}.${key}` : key, rule);
  }

  intValue(v: unknown, field: string, rule: IntRule): number | undefined {
    if (v === undefined) {
      if (rule.required) this.add(field, undefined, 'missing (required)');
      return rule.def;
    }
    if (typeof v !== 'number' || !Number.isInteger(v)) {
      const got = typeof v === 'number' ? 'a fraction' : typeName(v);
      this.add(field, v, `must be a whole number${rule.unit ? ` (${rule.unit})` : ''}, got ${got}`);
      return rule.def;
    }
    if (v < rule.min || v > rule.max) {
      this.add(field, v, `must be between ${rule.min} and ${rule.max}${rule.unit ? ` ${rule.unit}` : ''}`);
      return rule.def;
    }
    return v;
  }

  bool(obj: Obj, key: string, path: string, def: boolean): boolean {
    const v = obj[key];
    if (v === undefined) return def;
    if (typeof v !== 'boolean') {
      this.add(`${path}.${key}`, v, `must be true or false, got ${typeName(v)}`);
      return def;
    }
    return v;
  }

  intArray(obj: Obj, key: string, path: string, def: readonly number[], rule: IntRule): number[] {
    const field = `${path}.${key}`;
    const v = obj[key];
    if (v === undefined) return [...def];
    if (!Array.isArray(v)) {
      this.add(field, v, `must be an array of whole numbers, got ${typeName(v)}`);
      return [...def];
    }
    if (v.length === 0) this.add(field, v, 'must not be empty');
    const out: number[] = [];
    v.forEach((item, i) => {
      const n = this.intValue(item, `${field}[${i}]`, { ...rule, required: true });
      if (n !== undefined) out.push(n);
    });
    return out.length === v.length ? out : [...def];
  }

  /** Resolves a path against the config's folder (empty string stays empty). */
  path(obj: Obj, key: string, path: string, baseDir: string, rule: StrRule = {}): string {
    const v = this.str(obj, key, path, rule);
    return v ? resolve(baseDir, v) : '';
  }
}

const BCM: IntRule = { min: 0, max: 27, unit: '(BCM GPIO number)' };
const FIRMATA_PIN: IntRule = { min: 0, max: 127, unit: '(board pin number)' };
const ms = (min: number, max: number, def?: number, required = false): IntRule => ({ min, max, def, required, unit: 'ms' });
// Free text that is signed: it must give the same plaintext under both of the vendor's signing rules.
const GOODS_ID: StrRule = { max: 16, pattern: /^[\x21-\x7e]+$/, patternText: 'printable ASCII without spaces', check: signingHazard };
const GOODS_INFO: StrRule = { max: 128, check: signingHazard };

/** Validates a parsed config. Never throws for bad input: everything wrong comes back in `problems`. */
export function validateConfig(raw: unknown, options: ValidateOptions): ValidateResult {
  const r = new Reader(options.file);
  const base = options.baseDir;
  if (!isObj(raw)) {
    r.add('', raw, `the config must be a JSON object, got ${typeName(raw)}`);
    raw = {};
  }
  const root = raw as Obj;
  r.known(root, '', ['deviceId', 'merchant', 'gateway', 'payment', 'journal', 'scanner', 'keypad', 'indicator', 'approve', 'display', 'pricing', 'daemon', 'log', 'fleet']);

  const deviceId =
    r.str(root, 'deviceId', '', { required: true, max: 16, pattern: /^[A-Za-z0-9_-]+$/, patternText: 'letters, digits, "-" or "_" (it goes into every orderNo)' }) ?? '';

  const m = r.section(root, 'merchant', '', ['acqSpId', 'acqMerId', 'privateKey', 'goodsId', 'goodsInfo'], true);
  const merchant = {
    acqSpId: r.str(m, 'acqSpId', 'merchant', { required: true, pattern: /^[A-Za-z0-9]{10}$/, patternText: '10 letters or digits (the service provider id, e.g. Y471790403)' }) ?? '',
    acqMerId: r.str(m, 'acqMerId', 'merchant', { required: true, pattern: /^[A-Za-z0-9]{8}$/, patternText: '8 letters or digits (the merchant id, e.g. 41509208)' }) ?? '',
    privateKey: r.path(m, 'privateKey', 'merchant', base, { required: true }),
    // Optional in the platform's current docs: sent when configured, left out when absent or "".
    goodsId: r.str(m, 'goodsId', 'merchant', GOODS_ID) ?? '',
    goodsInfo: r.str(m, 'goodsInfo', 'merchant', GOODS_INFO) ?? '',
  };

  const g = r.section(root, 'gateway', '', ['baseUrl', 'platformCert', 'connectTimeoutMs', 'timeoutMs'], true);
  const baseUrl = r.str(g, 'baseUrl', 'gateway', { required: true }) ?? '';
  if (baseUrl) {
    let url: URL | undefined;
    try {
      url = new URL(baseUrl);
    } catch {
      r.add('gateway.baseUrl', baseUrl, 'is not a valid URL (e.g. http://provider.umfintech.com/entry-provider-plat-client)');
    }
    if (url && url.protocol !== 'http:' && url.protocol !== 'https:') r.add('gateway.baseUrl', baseUrl, 'must start with http:// or https://');
    else if (url && (url.search || url.hash)) r.add('gateway.baseUrl', baseUrl, 'must not contain a query or fragment (the call paths are appended to it)');
  }
  const gateway = {
    baseUrl: baseUrl.replace(/\/+$/, ''),
    platformCert: r.path(g, 'platformCert', 'gateway', base, { required: true }),
    connectTimeoutMs: r.int(g, 'connectTimeoutMs', 'gateway', ms(100, 60000, DEFAULTS.gateway.connectTimeoutMs))!,
    timeoutMs: r.int(g, 'timeoutMs', 'gateway', ms(500, 120000, DEFAULTS.gateway.timeoutMs))!,
  };
  if (gateway.connectTimeoutMs > gateway.timeoutMs) r.add('gateway.connectTimeoutMs', gateway.connectTimeoutMs, `must not exceed gateway.timeoutMs (${gateway.timeoutMs})`);

  const p = r.section(root, 'payment', '', ['customerWindowMs', 'queryIntervalMs', 'codeValidityMs', 'recoveryConcurrency', 'maxAmountFen']);
  const D = DEFAULTS.payment;
  const payment = {
    customerWindowMs: r.int(p, 'customerWindowMs', 'payment', ms(5000, 600000, D.customerWindowMs))!,
    queryIntervalMs: r.int(p, 'queryIntervalMs', 'payment', ms(500, 60000, D.queryIntervalMs))!,
    codeValidityMs: r.int(p, 'codeValidityMs', 'payment', ms(5000, 600000, D.codeValidityMs))!,
    recoveryConcurrency: r.int(p, 'recoveryConcurrency', 'payment', { min: 1, max: 32, def: D.recoveryConcurrency })!,
    maxAmountFen: r.int(p, 'maxAmountFen', 'payment', { min: 1, max: MAX_FEN, def: D.maxAmountFen, unit: 'fen' })!,
  };
  if (gateway.timeoutMs >= payment.customerWindowMs) {
    // A micropay answer may take the whole timeout: the customer must still be there to get the product.
    r.add('gateway.timeoutMs', gateway.timeoutMs, `must be shorter than payment.customerWindowMs (${payment.customerWindowMs}): a paid answer arriving after the customer left would release the product to nobody`);
  }
  if (payment.queryIntervalMs >= payment.customerWindowMs) {
    r.add('payment.queryIntervalMs', payment.queryIntervalMs, `must be shorter than payment.customerWindowMs (${payment.customerWindowMs}) so an unclear payment is queried at least once`);
  }

  const j = r.section(root, 'journal', '', ['path'], true);
  const journal = { path: r.path(j, 'path', 'journal', base, { required: true }) };
  const journalDir = journal.path ? dirname(journal.path) : base;

  const s = r.section(root, 'scanner', '', ['driver', 'path', 'baudRate', 'terminator', 'prefix', 'suffix', 'maxLineLength', 'reopenMinMs', 'reopenMaxMs', 'module', 'model', 'setup', 'trigger', 'readWindowMs', 'reReadDelayMs', 'moduleBeep'], true);
  const SD = DEFAULTS.scanner;
  const scannerDriver = r.str(s, 'driver', 'scanner', { required: true, oneOf: SCANNER_DRIVERS }) as Config['scanner']['driver'] | undefined;
  const scannerPath = r.str(s, 'path', 'scanner', { required: scannerDriver === 'serial' || scannerDriver === 'hid' }) ?? '';
  if (scannerPath && !isAbsolute(scannerPath)) r.add('scanner.path', scannerPath, scannerDriver === 'hid' ? 'must be an absolute input device path, e.g. /dev/input/by-id/usb-…-event-kbd' : 'must be an absolute device path, e.g. /dev/kiosk-scanner, /dev/serial0 or /dev/ttyACM0');
  const baudRate = r.int(s, 'baudRate', 'scanner', { min: 1, max: 4_000_000, def: SD.baudRate })!;
  if (s.baudRate !== undefined && baudRate === s.baudRate && !BAUD_RATES.includes(baudRate)) {
    r.add('scanner.baudRate', baudRate, `is not a standard rate (${BAUD_RATES.join(', ')}); most scanners use 9600 or 115200`);
  }
  const scanner = {
    driver: scannerDriver ?? 'sim',
    path: scannerPath,
    baudRate,
    terminator: (r.str(s, 'terminator', 'scanner', { oneOf: TERMINATORS, def: SD.terminator }) ?? SD.terminator) as Config['scanner']['terminator'],
    prefix: r.str(s, 'prefix', 'scanner', { max: 16, def: SD.prefix })!,
    suffix: r.str(s, 'suffix', 'scanner', { max: 16, def: SD.suffix })!,
    maxLineLength: r.int(s, 'maxLineLength', 'scanner', { min: 16, max: 1024, def: SD.maxLineLength })!,
    reopenMinMs: r.int(s, 'reopenMinMs', 'scanner', ms(50, 60000, SD.reopenMinMs))!,
    reopenMaxMs: r.int(s, 'reopenMaxMs', 'scanner', ms(100, 600000, SD.reopenMaxMs))!,
    module: (r.str(s, 'module', 'scanner', { oneOf: MODULE_FAMILIES, def: SD.module }) ?? SD.module) as Config['scanner']['module'],
    model: r.str(s, 'model', 'scanner', { max: 32, def: SD.model }) ?? SD.model,
    setup: (r.str(s, 'setup', 'scanner', { oneOf: SETUP_MODES, def: SD.setup }) ?? SD.setup) as Config['scanner']['setup'],
    trigger: (r.str(s, 'trigger', 'scanner', { oneOf: TRIGGER_MODES, def: SD.trigger }) ?? SD.trigger) as Config['scanner']['trigger'],
    // Module read windows go in 100 ms steps up to 25.5 s (GM); 0 would mean "until a read", never re-armed.
    readWindowMs: r.int(s, 'readWindowMs', 'scanner', { min: 500, max: 25500, def: SD.readWindowMs })!,
    reReadDelayMs: r.int(s, 'reReadDelayMs', 'scanner', { min: 0, max: 12700, def: SD.reReadDelayMs })!,
    moduleBeep: r.bool(s, 'moduleBeep', 'scanner', SD.moduleBeep),
  };
  if (scanner.module !== 'plain' && scanner.driver === 'hid') r.add('scanner.module', scanner.module, 'needs a serial scanner: a USB keyboard (hid) scanner takes no commands');
  if (scanner.trigger === 'command' && scanner.module === 'plain') r.add('scanner.trigger', scanner.trigger, 'needs scanner.module (gm, newland or honeywell): a plain scanner cannot be triggered');
  if (scanner.reopenMinMs > scanner.reopenMaxMs) r.add('scanner.reopenMinMs', scanner.reopenMinMs, `must not exceed scanner.reopenMaxMs (${scanner.reopenMaxMs})`);

  const k = r.section(root, 'keypad', '', ['driver', 'layout', 'rows', 'cols', 'keys', 'pins', 'debounceMs', 'activeLow', 'gpioChipBase']);
  const KD = DEFAULTS.keypad;
  const keypadDriver = (r.str(k, 'driver', 'keypad', { oneOf: KEYPAD_DRIVERS, def: KD.driver }) ?? KD.driver) as Config['keypad']['driver'];
  const layout = (r.str(k, 'layout', 'keypad', { oneOf: KEYPAD_LAYOUTS, def: KD.layout }) ?? KD.layout) as Config['keypad']['layout'];
  const rows = r.intArray(k, 'rows', 'keypad', KD.rows, BCM);
  const cols = r.intArray(k, 'cols', 'keypad', KD.cols, BCM);
  const keys = r.str(k, 'keys', 'keypad', { def: KD.keys }) ?? KD.keys;
  const pins: Record<string, number> = {};
  if (k.pins !== undefined) {
    if (!isObj(k.pins)) r.add('keypad.pins', k.pins, `must be an object of key label → BCM pin, got ${typeName(k.pins)}`);
    else
      for (const [label, pin] of Object.entries(k.pins)) {
        if (label.length !== 1 || !KEY_LABELS.includes(label)) r.add(`keypad.pins.${label}`, pin, `"${label}" is not a key: keys are 0-9, * and #`);
        const n = r.intValue(pin, `keypad.pins.${label}`, { ...BCM, required: true });
        if (n !== undefined) pins[label] = n;
      }
  }
  if (keypadDriver === 'gpio' && layout === 'matrix') {
    if (keys.length !== rows.length * cols.length) {
      r.add('keypad.keys', keys, `must have rows × cols = ${rows.length} × ${cols.length} = ${rows.length * cols.length} labels, one per key, row by row (has ${keys.length})`);
    }
    const bad = [...keys].filter((c) => !KEY_LABELS.includes(c));
    if (bad.length) r.add('keypad.keys', keys, `contains ${bad.map((c) => JSON.stringify(c)).join(', ')}: labels are 0-9, * and #`);
    const dup = [...keys].filter((c, i) => keys.indexOf(c) !== i);
    if (dup.length) r.add('keypad.keys', keys, `labels ${[...new Set(dup)].join(' ')} appear more than once`);
  }
  if (keypadDriver === 'gpio' && layout === 'direct' && Object.keys(pins).length === 0 && !r.problems.some((q) => q.field.startsWith('keypad.pins'))) {
    r.add('keypad.pins', k.pins, 'missing: layout "direct" needs one pin per key, e.g. {"1": 5, "2": 6, "#": 26}');
  }
  const keypad: Config['keypad'] = {
    driver: keypadDriver,
    layout,
    rows,
    cols,
    keys,
    pins,
    debounceMs: r.int(k, 'debounceMs', 'keypad', ms(1, 1000, KD.debounceMs))!,
    activeLow: r.bool(k, 'activeLow', 'keypad', KD.activeLow),
  };
  const chipBase = r.int(k, 'gpioChipBase', 'keypad', { min: 0, max: 4096 });
  if (chipBase !== undefined) keypad.gpioChipBase = chipBase;

  const i = r.section(root, 'indicator', '', ['driver', 'io', 'firmataPort', 'pins', 'buzzer']);
  const ID = DEFAULTS.indicator;
  const indicatorDriver = (r.str(i, 'driver', 'indicator', { oneOf: INDICATOR_DRIVERS, def: ID.driver }) ?? ID.driver) as Config['indicator']['driver'];
  const io = (r.str(i, 'io', 'indicator', { oneOf: INDICATOR_IOS, def: ID.io }) ?? ID.io) as Config['indicator']['io'];
  const firmataPort = r.str(i, 'firmataPort', 'indicator', { required: indicatorDriver === 'johnny-five' && io === 'firmata' }) ?? '';
  if (firmataPort && !isAbsolute(firmataPort)) r.add('indicator.firmataPort', firmataPort, 'must be an absolute device path, e.g. /dev/ttyACM0');
  const ip = r.section(i, 'pins', 'indicator', ['green', 'red', 'amber', 'buzzer']);
  const pinRule = io === 'firmata' ? FIRMATA_PIN : BCM;
  const indicator: Config['indicator'] = {
    driver: indicatorDriver,
    io,
    firmataPort,
    pins: {
      green: r.int(ip, 'green', 'indicator.pins', { ...pinRule, def: ID.pins.green })!,
      red: r.int(ip, 'red', 'indicator.pins', { ...pinRule, def: ID.pins.red })!,
      amber: r.int(ip, 'amber', 'indicator.pins', { ...pinRule, def: ID.pins.amber })!,
      buzzer: r.int(ip, 'buzzer', 'indicator.pins', { ...pinRule, def: ID.pins.buzzer })!,
    },
    buzzer: (r.str(i, 'buzzer', 'indicator', { oneOf: BUZZER_KINDS, def: ID.buzzer }) ?? ID.buzzer) as Config['indicator']['buzzer'],
  };

  const a = r.section(root, 'approve', '', ['driver', 'pin', 'pulseMs', 'activeLow', 'confirm']);
  const AD = DEFAULTS.approve;
  const approve: Config['approve'] = {
    driver: (r.str(a, 'driver', 'approve', { oneOf: APPROVE_DRIVERS, def: AD.driver }) ?? AD.driver) as Config['approve']['driver'],
    pin: r.int(a, 'pin', 'approve', { ...BCM, def: AD.pin })!,
    pulseMs: r.int(a, 'pulseMs', 'approve', ms(20, 10000, AD.pulseMs))!,
    activeLow: r.bool(a, 'activeLow', 'approve', AD.activeLow),
  };
  {
    const { confirm, problems } = parseApproveConfirm(a.confirm, options.file);
    r.problems.push(...problems);
    if (confirm) {
      if (approve.driver === 'none') r.add('approve.confirm', a.confirm, 'a vend sensor needs approve.driver "gpio" (or "sim"): with "none" nothing is released to sense');
      approve.confirm = confirm;
    }
  }

  // amountFen, items and maxAmountFen may all be present whatever the mode (each is checked), so that an
  // operator can switch modes by changing one word.
  const pr = r.section(root, 'pricing', '', ['mode', 'amountFen', 'items', 'maxAmountFen', 'entryTimeoutMs'], true);
  const mode = r.str(pr, 'mode', 'pricing', { required: true, oneOf: PRICING_MODES }) as Config['pricing']['mode'] | undefined;
  const fen = (max: number): IntRule => ({ min: 1, max, unit: 'fen' });
  const amountFen = r.int(pr, 'amountFen', 'pricing', { ...fen(payment.maxAmountFen), required: mode === 'fixed' });
  const items: Record<string, MenuItem> = {};
  if (pr.items === undefined) {
    if (mode === 'menu') r.add('pricing.items', undefined, 'missing: mode "menu" needs items, e.g. {"1": {"amountFen": 300, "goodsInfo": "Water"}}');
  } else if (!isObj(pr.items)) {
    r.add('pricing.items', pr.items, `must be an object of item number → {amountFen, goodsInfo?, goodsId?}, got ${typeName(pr.items)}`);
  } else {
    if (mode === 'menu' && Object.keys(pr.items).length === 0) r.add('pricing.items', pr.items, 'must list at least one item');
    for (const [num, item] of Object.entries(pr.items)) {
      const path = `pricing.items.${num}`;
      if (!/^[0-9]{1,3}$/.test(num)) r.add(path, item, 'item numbers are 1 to 3 digits, as typed on the keypad');
      if (!isObj(item)) {
        r.add(path, item, `must be an object {amountFen, goodsInfo?, goodsId?}, got ${typeName(item)}`);
        continue;
      }
      r.known(item, path, ['amountFen', 'goodsInfo', 'goodsId']);
      const it: MenuItem = { amountFen: r.int(item, 'amountFen', path, { ...fen(payment.maxAmountFen), required: true }) ?? 0 };
      const info = r.str(item, 'goodsInfo', path, { ...GOODS_INFO, min: 1 });
      const id = r.str(item, 'goodsId', path, GOODS_ID);
      if (info !== undefined) it.goodsInfo = info;
      if (id !== undefined) it.goodsId = id;
      items[num] = it;
    }
  }
  const pricing: Config['pricing'] = {
    mode: mode ?? 'fixed',
    items,
    maxAmountFen: r.int(pr, 'maxAmountFen', 'pricing', { ...fen(payment.maxAmountFen), def: payment.maxAmountFen })!,
    entryTimeoutMs: r.int(pr, 'entryTimeoutMs', 'pricing', ms(1000, 600000, DEFAULTS.pricing.entryTimeoutMs))!,
  };
  if (amountFen !== undefined) pricing.amountFen = amountFen;
  if ((mode === 'menu' || mode === 'keyed') && keypadDriver === 'none') {
    r.add('keypad.driver', keypadDriver, `pricing.mode "${mode}" needs a keypad: set keypad.driver to "gpio" (or "sim")`);
  }

  const d = r.section(root, 'daemon', '', ['graceMs', 'controlSocket', 'lockFile', 'settleAt', 'settleDir']);
  const daemon = {
    graceMs: r.int(d, 'graceMs', 'daemon', ms(100, 60000, DEFAULTS.daemon.graceMs))!,
    controlSocket: r.path(d, 'controlSocket', 'daemon', base) || join(journalDir, DEFAULTS.daemon.controlSocketName),
    lockFile: r.path(d, 'lockFile', 'daemon', base) || join(journalDir, DEFAULTS.daemon.lockFileName),
    settleAt: r.str(d, 'settleAt', 'daemon', { def: DEFAULTS.daemon.settleAt, pattern: /^(off|([01][0-9]|2[0-3]):[0-5][0-9])$/, patternText: '"HH:MM" (24 h, local time) or "off"' }) ?? DEFAULTS.daemon.settleAt,
    settleDir: r.path(d, 'settleDir', 'daemon', base) || join(journalDir, DEFAULTS.daemon.settleDirName),
  };
  checkDaemonPaths(r, daemon, { config: options.configPath ?? join(options.baseDir, options.file), journal: journal.path, privateKey: merchant.privateKey, platformCert: gateway.platformCert }, options.checkFiles !== false);
  if (Buffer.byteLength(daemon.controlSocket) > MAX_SOCKET_PATH) {
    r.add('daemon.controlSocket', daemon.controlSocket, `is longer than ${MAX_SOCKET_PATH} bytes, the limit for a Unix socket path: choose a shorter path`);
  }

  const l = r.section(root, 'log', '', ['level']);
  const log = { level: (r.str(l, 'level', 'log', { oneOf: LOG_LEVELS, def: DEFAULTS.log.level }) ?? DEFAULTS.log.level) as Config['log']['level'] };

  // Telemetry and remote commands (src/config/fleet.ts): off without the section.
  let fleet: Config['fleet'];
  if (root.fleet !== undefined) {
    const f = parseFleet(root.fleet);
    for (const issue of f.issues) r.add(issue.field, issue.value, issue.problem);
    if (f.fleet) {
      fleet = { ...f.fleet };
      for (const k of FLEET_PATHS) if (fleet[k] !== undefined) fleet[k] = resolve(base, fleet[k]);
      if (options.checkFiles !== false) for (const p of checkFleetFiles(fleet)) r.add(p.field, p.value, p.problem);
    }
  }

  const { display, problems: displayProblems } = parseDisplay(root.display, options.file);
  r.problems.push(...displayProblems);

  checkPins(r, keypad, indicator, approve, scanner, display);

  if (options.checkFiles !== false) {
    if (merchant.privateKey) checkKey(r, 'merchant.privateKey', merchant.privateKey, (f) => loadPrivateKey(f, { requirePrivateMode: true }));
    if (gateway.platformCert) checkKey(r, 'gateway.platformCert', gateway.platformCert, loadPublicKey);
    if (journal.path) checkJournalFolder(r, journal.path);
  }

  const config: Config = { deviceId, merchant, gateway, payment, journal, scanner, keypad, indicator, approve, display, pricing, daemon, log };
  if (fleet) config.fleet = fleet;
  return { config, problems: r.problems };
}

/**
 * daemon.lockFile and daemon.controlSocket are files the daemon writes (a pid; a socket it replaces): never the
 * journal or its -wal/-shm, the config, the key or the certificate, and only in a folder the daemon's user owns
 * (in /tmp anyone could plant a link or a file there first).
 */
function checkDaemonPaths(r: Reader, daemon: { lockFile: string; controlSocket: string }, others: Record<string, string>, checkFiles: boolean): void {
  const taken: Array<[string, string]> = [];
  if (others.journal) taken.push(['journal.path', others.journal], ['journal.path (its -wal)', others.journal + '-wal'], ['journal.path (its -shm)', others.journal + '-shm']);
  taken.push(['the config file', others.config!]);
  if (others.privateKey) taken.push(['merchant.privateKey', others.privateKey]);
  if (others.platformCert) taken.push(['gateway.platformCert', others.platformCert]);
  const same = (a: string, b: string): boolean => {
    if (a === b) return true;
    try {
      const x = statSync(a);
      const y = statSync(b);
      return x.dev === y.dev && x.ino === y.ino;
    } catch {
      return false;
    }
  };
  for (const [field, path] of [['daemon.lockFile', daemon.lockFile], ['daemon.controlSocket', daemon.controlSocket]] as const) {
    const clash = taken.find(([, other]) => other && same(path, other));
    if (clash) {
      r.add(field, path, `is ${clash[0]}: the daemon writes this file (${field === 'daemon.lockFile' ? 'a pid' : 'a socket, replacing what is there'}); give its own name, e.g. ${join(dirname(others.journal || path), field === 'daemon.lockFile' ? DEFAULTS.daemon.lockFileName : DEFAULTS.daemon.controlSocketName)}`);
      continue;
    }
    if (!checkFiles) continue;
    const dir = dirname(path);
    try {
      const st = statSync(dir);
      if (!st.isDirectory()) r.add(field, path, `${dir} is not a folder`);
      else if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
        r.add(field, path, `folder ${dir} belongs to uid ${st.uid}, not to the kiosk user (uid ${process.getuid()}): put it in a folder the daemon owns, e.g. beside the journal`);
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // The journal's folder is reported once, by journal.path.
      if (!(others.journal && dir === dirname(others.journal))) r.add(field, path, code === 'ENOENT' ? `folder ${dir} does not exist` : `folder ${dir}: ${(err as Error).message}`);
    }
  }
  if (daemon.lockFile === daemon.controlSocket) r.add('daemon.controlSocket', daemon.controlSocket, 'is the same file as daemon.lockFile: give each its own name');
}

/** Two devices on one GPIO line would fight each other; the UART lines belong to a UART scanner. */
function checkPins(r: Reader, keypad: Config['keypad'], indicator: Config['indicator'], approve: Config['approve'], scanner: Config['scanner'], display: Config['display']): void {
  const used: Array<[string, number]> = [];
  // /dev/i2c-1 is GPIO 2 (SDA) and GPIO 3 (SCL) on the header.
  if (display.driver === 'lcd' && display.i2cBus === 1) used.push(['display (I2C SDA)', 2], ['display (I2C SCL)', 3]);
  if (keypad.driver === 'gpio') {
    if (keypad.layout === 'matrix') {
      keypad.rows.forEach((p, n) => used.push([`keypad.rows[${n}]`, p]));
      keypad.cols.forEach((p, n) => used.push([`keypad.cols[${n}]`, p]));
    } else for (const [label, p] of Object.entries(keypad.pins)) used.push([`keypad.pins.${label}`, p]);
  }
  if (indicator.driver === 'johnny-five' && indicator.io === 'gpio') {
    for (const [name, p] of Object.entries(indicator.pins)) used.push([`indicator.pins.${name}`, p]);
  }
  if (approve.driver === 'gpio') used.push(['approve.pin', approve.pin]);
  if (approve.driver === 'gpio' && approve.confirm) used.push(['approve.confirm.pin', approve.confirm.pin]);
  const first = new Map<number, string>();
  for (const [field, pin] of used) {
    const other = first.get(pin);
    if (other) r.add(field, pin, `BCM ${pin} is already used by ${other}: each GPIO line can drive one thing`);
    else first.set(pin, field);
  }
  // /dev/serial0 and ttyAMA0/ttyS0 are the header UART on BCM 14 (TX) and 15 (RX).
  if (scanner.driver === 'serial' && /^\/dev\/(serial0|ttyAMA0|ttyS0)$/.test(scanner.path)) {
    for (const [field, pin] of used) {
      if (pin === 14 || pin === 15) r.add(field, pin, `BCM ${pin} is the UART (${pin === 14 ? 'TX' : 'RX'}) the scanner uses on ${scanner.path}`);
    }
  }
}

function checkKey(r: Reader, field: string, file: string, load: (file: string) => unknown): void {
  try {
    load(file);
  } catch (err) {
    if (!(err instanceof KeyError)) throw err;
    // KeyError's message starts with the file name; the problem already carries it as the value.
    const prefix = `${err.file}: `;
    r.add(field, file, err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message);
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function checkJournalFolder(r: Reader, journalPath: string): void {
  const dir = dirname(journalPath);
  try {
    if (!statSync(dir).isDirectory()) r.add('journal.path', journalPath, `${dir} is not a folder`);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // The daemon creates a missing journal folder (0700) when the folder above it exists.
    if (code === 'ENOENT' && isFolder(dirname(dir))) return;
    r.add('journal.path', journalPath, code === 'ENOENT' ? `folder ${dir} does not exist, nor does ${dirname(dir)} (device/install.sh creates /var/lib/kiosk)` : `folder ${dir}: ${(err as Error).message}`);
  }
  try {
    const st = statSync(journalPath);
    if (st.isDirectory()) r.add('journal.path', journalPath, 'is a folder: give the journal file name, e.g. /var/lib/kiosk/journal.sqlite');
    else if (!st.isFile()) r.add('journal.path', journalPath, 'not a regular file');
  } catch {
    // A missing journal file is fine: the daemon creates it.
  }
}
