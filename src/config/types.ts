// The config's types, all inferred from the one schema (schema.ts); device/CONFIG.md is generated from it.
import type { Config } from './schema.js';

export type { Config };
export type { ConfigProblem } from './problem.js';
export { APPROVE_DRIVERS } from './sections/approve.js';
export { BUZZER_KINDS, INDICATOR_DRIVERS, INDICATOR_IOS } from './sections/indicator.js';
export { KEY_LABELS, KEYPAD_DRIVERS, KEYPAD_LAYOUTS } from './sections/keypad.js';
export { LOG_LEVELS } from './sections/log.js';
export { PRICING_MODES } from './sections/pricing.js';
export { MDB_DRIVERS, MDB_MODES, type MdbConfig } from './sections/mdb.js';
export { MODULE_FAMILIES, SCANNER_DRIVERS, SETUP_MODES, TERMINATORS, TRIGGER_MODES } from './sections/scanner.js';

export type MerchantConfig = Config['merchant'];
export type GatewayConfig = Config['gateway'];
export type PaymentConfig = Config['payment'];
export type JournalConfig = Config['journal'];
export type ScannerConfig = Config['scanner'];
export type KeypadConfig = Config['keypad'];
export type IndicatorConfig = Config['indicator'];
export type IndicatorPins = IndicatorConfig['pins'];
export type ApproveConfig = Config['approve'];
export type PricingConfig = Config['pricing'];
export type MenuItem = PricingConfig['items'][string];
export type DaemonConfig = Config['daemon'];
export type LogConfig = Config['log'];
export type ScannerDriver = ScannerConfig['driver'];
export type Terminator = ScannerConfig['terminator'];
export type KeypadDriver = KeypadConfig['driver'];
export type KeypadLayout = KeypadConfig['layout'];
export type IndicatorDriver = IndicatorConfig['driver'];
export type IndicatorIo = IndicatorConfig['io'];
export type BuzzerKind = IndicatorConfig['buzzer'];
export type ApproveDriver = ApproveConfig['driver'];
export type PricingMode = PricingConfig['mode'];
export type LogLevel = LogConfig['level'];

/** Every default, from the zod-free module the schema takes them from (defaults.ts). */
export { DEFAULTS } from './defaults.js';
