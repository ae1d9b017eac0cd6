// The config fields a module-aware scanner driver takes, and the session they make.
import type { Logger } from '../../log.js';
import type { Clock } from '../../clock.js';
import { MODULE_DRIVERS } from './index.js';
import { ModuleSession } from './session.js';
import type { ModuleStateStore } from './state.js';
import { kioskProfile, type ModuleFamily, type SetupMode, type TriggerMode } from './types.js';

/** config `scanner` fields for the module's command protocol (docs/scanners.md). */
export interface ModuleOptions {
  /** Default 'plain': no command is ever sent. */
  module?: ModuleFamily;
  /** The model printed on the module (GM family: the protocol cannot tell it). */
  model?: string;
  /** Default 'apply'. */
  setup?: SetupMode;
  /** Default 'continuous'. */
  trigger?: TriggerMode;
  /** Module read window in command mode, ms (default 5000). */
  readWindowMs?: number;
  /** Same-code re-read delay, ms (default 3000). */
  reReadDelayMs?: number;
  /** The module's own beep (default off: the kiosk's buzzer speaks). */
  moduleBeep?: boolean;
  /** Where the flash-save count is kept (the daemon: a file next to the journal). */
  moduleState?: ModuleStateStore;
  /** How long a command waits for its answer, ms (default 500; tests use less). Not a config field. */
  answerTimeoutMs?: number;
  /** Margin after the read window before re-arming, ms (default 200). Not a config field. */
  rearmMarginMs?: number;
}

export function moduleSessionFor(
  o: ModuleOptions & { terminator?: 'CR' | 'LF' | 'CRLF'; baudRate?: number },
  io: { path: string; baudRate: number; write(b: Buffer): Promise<void>; onData(b: Buffer): void; onAnswer(): void; onConversationEnd(): void; timers: Clock; log: Logger },
): ModuleSession | null {
  const family = o.module ?? 'plain';
  if (family === 'plain') return null;
  const driver = MODULE_DRIVERS[family];
  if (!driver) throw Object.assign(new Error(`scanner.module ${family} is not built into this version`), { code: 'HARDWARE_CONFIG' });
  const trigger = o.trigger ?? 'continuous';
  return new ModuleSession({
    driver,
    model: o.model || undefined,
    setup: o.setup ?? 'apply',
    trigger,
    profile: kioskProfile({ terminator: o.terminator ?? 'CR', trigger, baudRate: io.baudRate, beep: o.moduleBeep, reReadDelayMs: o.reReadDelayMs, readWindowMs: o.readWindowMs }),
    state: o.moduleState,
    answerTimeoutMs: o.answerTimeoutMs,
    rearmMarginMs: o.rearmMarginMs,
    ...io,
  });
}
