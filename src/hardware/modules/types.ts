// What every scanner-module protocol driver provides, and the kiosk's declarative profile of a module.
// One definition per fact: the config's allowed values (MODULE_FAMILIES, SETUP_MODES, TRIGGER_MODES) live here.

export const MODULE_FAMILIES = ['plain', 'gm', 'newland', 'honeywell'] as const;
export type ModuleFamily = (typeof MODULE_FAMILIES)[number];
export const SETUP_MODES = ['apply', 'verify', 'off'] as const;
export type SetupMode = (typeof SETUP_MODES)[number];
export const TRIGGER_MODES = ['continuous', 'command'] as const;
export type TriggerMode = (typeof TRIGGER_MODES)[number];
/** Bauds `kiosk scanner detect` tries, most common first. */
export const DETECT_BAUDS = [9600, 115200, 57600, 38400, 19200] as const;

/**
 * The settings the kiosk has an opinion on, as protocol-neutral strings (so every protocol compares alike).
 * mode: 'manual' | 'command' | 'continuous' | 'sensing'; tail: 'CR' | 'LF' | 'CRLF' | 'TAB' | 'none';
 * beep/prefix/suffix: 'on' | 'off'; illumination/aimer: 'off' | 'normal' (on while reading) | 'on';
 * baudRate, reReadDelayMs, readWindowMs: decimal numbers.
 */
export const SETTING_NAMES = ['mode', 'tail', 'baudRate', 'beep', 'illumination', 'aimer', 'reReadDelayMs', 'readWindowMs', 'prefix', 'suffix'] as const;
export type SettingName = (typeof SETTING_NAMES)[number];
export type Settings = Partial<Record<SettingName, string>>;

/** What identification found. `known` false: the family answered but no register map is known for it. */
export interface Identity {
  family: Exclude<ModuleFamily, 'plain'>;
  model: string;
  known: boolean;
  firmware?: string;
  hardware?: string;
  /** Free text from the module (Honeywell REVINF), trimmed. */
  detail?: string;
}

/** One piece of the UART stream: a command answer, scan data for the line parser, or dropped noise. */
export type FramerOut = { kind: 'answer'; frame: Buffer } | { kind: 'data'; bytes: Buffer } | { kind: 'noise'; bytes: number; reason: string };

/**
 * Separates command answers from scan data on the one UART. Bounded: holds at most one answer's worth of
 * bytes; what cannot be an answer is handed on as data (the line parser drops non-printable bytes as noise).
 */
export interface AnswerFramer {
  push(chunk: Buffer): FramerOut[];
  /** Releases whatever is held (a command timed out): as data or noise, never as an answer. */
  flush(): FramerOut[];
  /** The command now waiting for its answer (protocols whose answer echoes the command need it). */
  expect(command: Buffer | null): void;
}

/** Sends one command and resolves with its answer frame; rejects with ModuleError (timeout, NAK, bad CRC). */
export interface CommandPort {
  request(command: Buffer, opts?: { timeoutMs?: number }): Promise<Buffer>;
  /** A command the protocol does not answer (Honeywell's SYN T CR). */
  send(command: Buffer): Promise<void>;
}

export class ModuleError extends Error {
  constructor(
    message: string,
    readonly code: 'TIMEOUT' | 'NAK' | 'UNSUPPORTED' | 'CLOSED' | 'BAD_ANSWER',
  ) {
    super(message);
  }
}

export interface ModuleDriver {
  readonly family: Exclude<ModuleFamily, 'plain'>;
  framer(): AnswerFramer;
  /**
   * Read-only: harmless queries only. null when nothing answered. `model` from config overrides what cannot be read.
   */
  identify(port: CommandPort, model?: string): Promise<Identity | null>;
  /** The settings this identity's register map covers (empty for an unknown model: nothing is written). */
  settingsFor(id: Identity): SettingName[];
  /** Can this model take this value at all (e.g. a tail it has no code for)? undefined = yes, else why not. */
  refuse?(id: Identity, name: SettingName, value: string): string | undefined;
  read(port: CommandPort, id: Identity): Promise<Settings>;
  /** Writes to the module's working (volatile) settings. */
  write(port: CommandPort, id: Identity, changes: Settings): Promise<void>;
  /** Makes the given (already written and verified) settings survive a power cycle: one flash write. */
  save(port: CommandPort, id: Identity, changed: Settings): Promise<void>;
  /** Starts one read window (command-trigger mode). */
  trigger(port: CommandPort, id: Identity): Promise<void>;
  /** Ends a read window early, where the protocol has it. */
  stopRead?(port: CommandPort, id: Identity): Promise<void>;
}

/** The kiosk's wishes for a module, from config: one place, used by setup, doctor and `kiosk scanner show`. */
export interface ProfileOptions {
  terminator: 'CR' | 'LF' | 'CRLF';
  trigger: TriggerMode;
  baudRate: number;
  /** The module's own beep; off by default because the kiosk's buzzer speaks. */
  beep?: boolean;
  reReadDelayMs?: number;
  readWindowMs?: number;
}

export const PROFILE_DEFAULTS = { beep: false, reReadDelayMs: 3000, readWindowMs: 5000 } as const;

export function kioskProfile(o: ProfileOptions): Settings {
  return {
    mode: o.trigger === 'command' ? 'command' : 'continuous',
    tail: o.terminator,
    baudRate: String(o.baudRate),
    beep: (o.beep ?? PROFILE_DEFAULTS.beep) ? 'on' : 'off',
    // Light only while reading: off when idle in command mode (the module switches it with the read window).
    illumination: 'normal',
    aimer: 'normal',
    reReadDelayMs: String(o.reReadDelayMs ?? PROFILE_DEFAULTS.reReadDelayMs),
    readWindowMs: String(o.readWindowMs ?? PROFILE_DEFAULTS.readWindowMs),
    prefix: 'off',
    suffix: 'off',
  };
}
