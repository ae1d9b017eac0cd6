// The config's types, all inferred from the one schema (schema.ts); device/CONFIG.md is generated from it.
import type { z } from 'zod';
import { ConfigSchema, SECTIONS, type Config } from './schema.js';

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


type Def = { type: string; innerType?: z.core.$ZodType; shape?: Record<string, z.core.$ZodType>; defaultValue?: unknown };

function defaultsOf(schema: z.core.$ZodType): unknown {
  let s = schema;
  for (;;) {
    const def = s._zod.def as Def;
    if (def.type === 'default') return def.defaultValue;
    if ((def.type === 'prefault' || def.type === 'optional') && def.innerType) s = def.innerType;
    else if (def.type === 'object' && def.shape) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(def.shape)) {
        const d = defaultsOf(v);
        if (d !== undefined) out[k] = d;
      }
      return out;
    } else return undefined;
  }
}

/**
 * Every field's default, read from the schema. Typed as the full sections so that drivers and timing tables can
 * take the config's default directly (one definition); a field the schema gives no default (a path, a merchant
 * id) is absent at run time, and nothing reads such a field from here.
 */
export const DEFAULTS = defaultsOf(ConfigSchema.in) as {
  [K in Exclude<keyof typeof SECTIONS, 'deviceId'>]: Config[K];
} & { daemon: { graceMs: number } };
