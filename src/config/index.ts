// Loading the kiosk config: read, parse (syntax errors with line and column), validate, and refuse with
// every problem listed at once. The daemon and every `kiosk` command go through loadConfig.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Config } from './types.js';
import type { ConfigProblem } from './problem.js';
import { validateConfig, type ValidateOptions, type ValidateResult } from './validate.js';

export * from './types.js';
export { validateConfig, type ValidateOptions, type ValidateResult };

export const DEFAULT_CONFIG_PATH = '/etc/kiosk/config.json';

/**
 * Exit code for "the config is invalid" (sysexits EX_CONFIG). pm2 (stop_exit_codes) and systemd
 * (RestartPreventExitStatus) do not restart on it: a restart cannot fix a config.
 */
export const EXIT_CONFIG = 78;

/** The config file to use: the --config flag, else $KIOSK_CONFIG, else /etc/kiosk/config.json. */
export function resolveConfigPath(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.KIOSK_CONFIG) return resolve(env.KIOSK_CONFIG);
  return DEFAULT_CONFIG_PATH;
}

const MAX_VALUE_SHOWN = 80;

function showValue(value: unknown): string {
  if (value === undefined) return '';
  let text: string;
  // Only what JSON cannot show (a function, a BigInt) reaches String().
  try {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    text = JSON.stringify(value) ?? String(value);
  } catch {
    // eslint-disable-next-line @typescript-eslint/no-base-to-string -- see above
    text = String(value);
  }
  return text.length > MAX_VALUE_SHOWN ? `${text.slice(0, MAX_VALUE_SHOWN - 1)}…` : text;
}

/** One line per problem: `FILE: field: what is wrong (got VALUE)`. */
export function formatProblem(p: ConfigProblem): string {
  const shown = showValue(p.value);
  return `${p.file}: ${p.field ? `${p.field}: ` : ''}${p.problem}${shown ? ` (got ${shown})` : ''}`;
}

export class ConfigError extends Error {
  readonly code = 'E_CONFIG';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
  ) {
    super(`${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the config:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** See ValidateOptions.checkFiles (default true). */
  checkFiles?: boolean;
}

/** Reads and validates a config file; throws ConfigError listing every problem. */
export function loadConfig(file: string, options: LoadOptions = {}): Config {
  const { config, problems } = readConfig(file, options);
  if (problems.length > 0 || !config) throw new ConfigError(file, problems);
  return config;
}

/** Like loadConfig but never throws for bad input: for `kiosk doctor`, which reports rather than refuses. */
export function readConfig(file: string, options: LoadOptions = {}): { config?: Config; problems: ConfigProblem[] } {
  const abs = resolve(file);
  let text: string;
  try {
    // A device (/dev/zero) would be read until memory runs out.
    const st = statSync(abs);
    if (!st.isFile() && !st.isDirectory()) return { problems: [{ file, field: '', value: undefined, problem: 'not a regular file' }] };
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file (give --config FILE or set KIOSK_CONFIG; see device/config.example.json)'
        : e.code === 'EACCES'
          ? 'permission denied (run as the kiosk user, or with sudo)'
          : e.code === 'EISDIR'
            ? 'is a folder, not a config file'
            : e.message;
    return { problems: [{ file, field: '', value: undefined, problem: why }] };
  }
  const parsed = parseJson(text);
  if (!parsed.ok) return { problems: [{ file, field: '', value: undefined, problem: parsed.problem }] };
  return validateConfig(parsed.value, { file, baseDir: dirname(abs), configPath: abs, checkFiles: options.checkFiles });
}

/** JSON.parse with a line and column for the operator when it fails (V8 gives an offset, or nothing). */
export function parseJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // editors on Windows add a BOM
  try {
    return { ok: true, value: JSON.parse(body) };
  } catch (err) {
    const at = findSyntaxError(body);
    const where = lineColumn(body, at.offset);
    return { ok: false, problem: `invalid JSON at line ${where.line}, column ${where.column}: ${at.what} (JSON allows no comments and no trailing commas)` };
  }
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/**
 * Finds the first JSON syntax error: V8's messages do not always carry a position, so a small scanner
 * walks the text. Only called after JSON.parse has failed.
 */
function findSyntaxError(s: string): { offset: number; what: string } {
  let i = 0;
  class Stop extends Error {
    constructor(
      readonly offset: number,
      readonly what: string,
    ) {
      super(what);
    }
  }
  const ws = () => {
    while (i < s.length && ' \t\r\n'.includes(s[i]!)) i++;
  };
  const found = () => (i >= s.length ? 'the end of the file' : JSON.stringify(s[i]));
  const fail = (expected: string): never => {
    throw new Stop(i, `expected ${expected}, found ${found()}`);
  };
  const str = () => {
    if (s[i] !== '"') fail('a double-quoted string');
    i++;
    while (i < s.length && s[i] !== '"') {
      const c = s.charCodeAt(i);
      if (c < 0x20) throw new Stop(i, 'a line break or control character inside a string (close the quote, or write \\n)');
      if (s[i] === '\\') {
        i++;
        if (s[i] === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(s.slice(i + 1, i + 5))) throw new Stop(i, 'a bad \\u escape');
          i += 4;
        } else if (!'"\\/bfnrt'.includes(s[i] ?? '')) throw new Stop(i, `a bad escape \\${s[i] ?? ''} (write \\\\ for a backslash)`);
      }
      i++;
    }
    if (i >= s.length) throw new Stop(i, 'a string that is never closed');
    i++;
  };
  const value = (): void => {
    ws();
    const c = s[i];
    if (c === '{') {
      i++;
      ws();
      if (s[i] === '}') return void i++;
      for (;;) {
        ws();
        if (s[i] !== '"') fail(s[i] === '}' ? 'another key (a trailing comma is not allowed)' : 'a double-quoted key');
        str();
        ws();
        if (s[i] !== ':') fail('":" after the key');
        i++;
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === '}') return void i++;
        fail('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (s[i] === ']') return void i++;
      for (;;) {
        ws();
        if (s[i] === ']') fail('another value (a trailing comma is not allowed)');
        value();
        ws();
        if (s[i] === ',') {
          i++;
          continue;
        }
        if (s[i] === ']') return void i++;
        fail('"," or "]"');
      }
    }
    if (c === '"') return str();
    const num = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(s.slice(i, i + 400));
    if (num && num[0] !== '-' && num[0] !== '') return void (i += num[0].length);
    for (const lit of ['true', 'false', 'null']) if (s.startsWith(lit, i)) return void (i += lit.length);
    fail('a value (string, number, true, false, null, object or array)');
  };
  try {
    value();
    ws();
    if (i < s.length) fail('the end of the file after the top-level value');
    return { offset: i, what: 'unreadable JSON' };
  } catch (err) {
    if (err instanceof Stop) return { offset: err.offset, what: err.what };
    throw err;
  }
}
