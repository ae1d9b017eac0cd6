// The kiosk's JSON config as the rest of the program sees it: every field present, defaults filled in,
// file paths absolute. device/CONFIG.md explains each field for operators; keep the two in step.
import type { FleetConfig } from './fleet.js';

export type { FleetConfig };

export const SCANNER_DRIVERS = ['serial', 'sim', 'hid'] as const;
export { MODULE_FAMILIES, SETUP_MODES, TRIGGER_MODES } from '../hardware/modules/types.js';
import type { ModuleFamily, SetupMode, TriggerMode } from '../hardware/modules/types.js';
export const TERMINATORS = ['CR', 'LF', 'CRLF'] as const;
export const KEYPAD_DRIVERS = ['gpio', 'sim', 'none'] as const;
export const KEYPAD_LAYOUTS = ['matrix', 'direct'] as const;
export const INDICATOR_DRIVERS = ['johnny-five', 'sim', 'log'] as const;
export const INDICATOR_IOS = ['gpio', 'firmata'] as const;
export const BUZZER_KINDS = ['piezo', 'active'] as const;
export const APPROVE_DRIVERS = ['gpio', 'sim', 'none'] as const;
export const PRICING_MODES = ['fixed', 'menu', 'keyed'] as const;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** The labels a keypad can produce (issue 4: keys 0–9, `*`, `#`). */
export const KEY_LABELS = '0123456789*#';

export type ScannerDriver = (typeof SCANNER_DRIVERS)[number];
export type Terminator = (typeof TERMINATORS)[number];
export type KeypadDriver = (typeof KEYPAD_DRIVERS)[number];
export type KeypadLayout = (typeof KEYPAD_LAYOUTS)[number];
export type IndicatorDriver = (typeof INDICATOR_DRIVERS)[number];
export type IndicatorIo = (typeof INDICATOR_IOS)[number];
export type BuzzerKind = (typeof BUZZER_KINDS)[number];
export type ApproveDriver = (typeof APPROVE_DRIVERS)[number];
export type PricingMode = (typeof PRICING_MODES)[number];
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface MerchantConfig {
  acqSpId: string;
  acqMerId: string;
  /** Absolute path of the merchant private key file. */
  privateKey: string;
  goodsId: string;
  goodsInfo: string;
}

export interface GatewayConfig {
  baseUrl: string;
  /** Absolute path of the platform certificate (or public key) file. */
  platformCert: string;
  connectTimeoutMs: number;
  timeoutMs: number;
}

export interface PaymentConfig {
  /** How long a customer waits at most before an unclear payment is given up and reversed. */
  customerWindowMs: number;
  queryIntervalMs: number;
  /** How long a scanned payment code is assumed to stay usable. */
  codeValidityMs: number;
  recoveryConcurrency: number;
  /** Ceiling for any single payment, whatever the pricing says. */
  maxAmountFen: number;
}

export interface JournalConfig {
  /** Absolute path of the SQLite journal file. */
  path: string;
}

export interface ScannerConfig {
  driver: ScannerDriver;
  /** Absolute device path; '' for the sim driver. */
  path: string;
  baudRate: number;
  terminator: Terminator;
  prefix: string;
  suffix: string;
  maxLineLength: number;
  reopenMinMs: number;
  reopenMaxMs: number;
  /** The module's command protocol (docs/scanners.md); 'plain' sends nothing. */
  module: ModuleFamily;
  /** The model printed on the module (GM family); '' = not given. */
  model: string;
  setup: SetupMode;
  trigger: TriggerMode;
  readWindowMs: number;
  reReadDelayMs: number;
  moduleBeep: boolean;
}

export interface KeypadConfig {
  driver: KeypadDriver;
  layout: KeypadLayout;
  /** Matrix row pins, BCM numbers. */
  rows: number[];
  /** Matrix column pins, BCM numbers. */
  cols: number[];
  /** Matrix key labels, row-major, one character per key: length rows × cols. */
  keys: string;
  /** Direct layout: key label → BCM pin. */
  pins: Record<string, number>;
  debounceMs: number;
  activeLow: boolean;
  /** Overrides the gpiochip base read from sysfs (BCM n = sysfs gpio base + n). */
  gpioChipBase?: number;
}

export interface IndicatorPins {
  green: number;
  red: number;
  amber: number;
  buzzer: number;
}

export interface IndicatorConfig {
  driver: IndicatorDriver;
  io: IndicatorIo;
  /** Absolute device path of the Firmata board; '' unless io is firmata. */
  firmataPort: string;
  /** BCM numbers with io gpio, the board's pin numbers with io firmata. */
  pins: IndicatorPins;
  buzzer: BuzzerKind;
}

export interface ApproveConfig {
  driver: ApproveDriver;
  /** BCM pin of the vend relay output. */
  pin: number;
  pulseMs: number;
  activeLow: boolean;
  /** The vend sensor; absent: delivered when the pulse ends. */
  confirm?: ApproveConfirmConfig;
}

export interface MenuItem {
  amountFen: number;
  /** Falls back to merchant.goodsInfo. */
  goodsInfo?: string;
  /** Falls back to merchant.goodsId. */
  goodsId?: string;
}

export interface PricingConfig {
  mode: PricingMode;
  /** Price in fixed mode; undefined otherwise. */
  amountFen?: number;
  /** Menu mode: item number as typed on the keypad → item. Empty otherwise. */
  items: Record<string, MenuItem>;
  /** Keyed mode: the largest amount a customer may type (≤ payment.maxAmountFen). */
  maxAmountFen: number;
  entryTimeoutMs: number;
}

export interface DaemonConfig {
  graceMs: number;
  /** Absolute path of the daemon's control socket (kiosk reconcile/status talk to it). */
  controlSocket: string;
  /** Absolute path of the single-instance lock file. */
  lockFile: string;
  /**
   * Local time of day ("HH:MM") the daemon fetches and reconciles the previous day's settlement file, or "off".
   * The platform publishes it at 08:00.
   */
  settleAt: string;
  /** Absolute path of the folder the settlement files are kept in. */
  settleDir: string;
}

export interface LogConfig {
  level: LogLevel;
}

export type { DisplayConfig } from './display.js';
import type { DisplayConfig } from './display.js';
import type { ApproveConfirmConfig } from './approve-confirm.js';

export interface Config {
  deviceId: string;
  merchant: MerchantConfig;
  gateway: GatewayConfig;
  payment: PaymentConfig;
  journal: JournalConfig;
  scanner: ScannerConfig;
  keypad: KeypadConfig;
  indicator: IndicatorConfig;
  approve: ApproveConfig;
  display: DisplayConfig;
  pricing: PricingConfig;
  daemon: DaemonConfig;
  log: LogConfig;
  /** MQTT telemetry and remote commands (docs/fleet.md); absent: off. */
  fleet?: FleetConfig;
}

/** One thing wrong with a config, for an operator: where, what was there, what is wrong. */
export interface ConfigProblem {
  file: string;
  /** Dotted path, e.g. `scanner.baudRate`, `keypad.rows[2]`; '' for the file as a whole. */
  field: string;
  /** The offending value as found (undefined when missing). Never key material: only paths and settings. */
  value: unknown;
  problem: string;
}

/** Defaults for every optional field (paths that depend on others are derived in validate.ts). */
export const DEFAULTS = {
  gateway: { connectTimeoutMs: 3000, timeoutMs: 10000 },
  payment: { customerWindowMs: 60000, queryIntervalMs: 3000, codeValidityMs: 45000, recoveryConcurrency: 4, maxAmountFen: 100000 },
  scanner: {
    baudRate: 9600,
    terminator: 'CR',
    prefix: '',
    suffix: '',
    maxLineLength: 64,
    reopenMinMs: 500,
    reopenMaxMs: 30000,
    module: 'plain',
    model: '',
    setup: 'apply',
    trigger: 'continuous',
    readWindowMs: 5000,
    reReadDelayMs: 3000,
    moduleBeep: false,
  },
  // Pins match device/WIRING.md.
  keypad: { driver: 'none', layout: 'matrix', rows: [5, 6, 13, 19], cols: [12, 16, 20], keys: '123456789*0#', debounceMs: 30, activeLow: true },
  indicator: { driver: 'log', io: 'gpio', pins: { green: 17, red: 27, amber: 22, buzzer: 18 }, buzzer: 'active' },
  approve: { driver: 'none', pin: 23, pulseMs: 500, activeLow: false },
  pricing: { entryTimeoutMs: 20000 },
  daemon: { graceMs: 5000, controlSocketName: 'kiosk.sock', lockFileName: 'kiosk.lock', settleAt: '09:30', settleDirName: 'settlement' },
  log: { level: 'info' },
} as const;
