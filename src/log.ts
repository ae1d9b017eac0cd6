// JSON-lines logging (pino) with secrets removed at the source: payment codes, keys and signatures
// never reach a log line in full, whatever a caller passes.
import { pino, type Logger, type DestinationStream } from 'pino';
import { classifyAuthCode, maskAuthCode } from './umpay/authcode.js';

export type { Logger };

// Fields that hold a secret by name. `code` is not one of them: it carries stable error codes (E_CONFIG...);
// a payment code under any name is still caught by maskText below.
const SECRET_KEYS = new Set(['authCode', 'authcode', 'privateKey', 'signature', 'payCode']);

/** Digit runs that are payment codes (classifyAuthCode accepts them), masked wherever they appear in text. */
export function maskText(text: string): string {
  return text.replace(/[0-9]{16,24}/g, (run) => (classifyAuthCode(run).ok ? maskAuthCode(run) : run));
}

/** Masks secrets anywhere in a value headed for a log line (a copy; cycles and deep nesting cut). */
export function scrub(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return maskText(value);
  if (value === null || typeof value !== 'object') return value;
  // Deeper than any line we write: cut rather than pass through unmasked (cycles end here too).
  if (depth > 6) return '[nested too deep]';
  if (value instanceof Error) return { type: value.name, message: maskText(value.message), code: (value as NodeJS.ErrnoException).code };
  if (Array.isArray(value)) return value.map((v) => scrub(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (SECRET_KEYS.has(k) && v != null) {
      // String(), not JSON: never a throw (a cycle, a BigInt) inside a log call; an object only masks as a length.
      // eslint-disable-next-line @typescript-eslint/no-base-to-string
      const text = typeof v === 'string' ? v : String(v);
      out[k] = k === 'signature' && typeof v === 'string' ? `${v.slice(0, 8)}…` : k === 'privateKey' ? '[redacted]' : maskAuthCode(text);
    } else {
      out[k] = scrub(v, depth + 1);
    }
  }
  return out;
}

export interface LogOptions {
  level?: string;
  name?: string;
  destination?: DestinationStream | NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  return pino(
    {
      name: options.name ?? 'kiosk',
      level: options.level ?? process.env.KIOSK_LOG_LEVEL ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { log: (obj) => scrub(obj) as Record<string, unknown> },
      // The message text is not part of the object the formatter sees: mask it too.
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((a) => (typeof a === 'string' ? maskText(a) : a)) as Parameters<typeof method>);
        },
      },
    },
    (options.destination) ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** A logger that drops everything: for tests and library callers that pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
