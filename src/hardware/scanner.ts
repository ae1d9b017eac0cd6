// The scanner device: bytes from a barcode/QR scanner in, clean digit strings out.
// A line that is not a digit string (noise, text, overlong) becomes a 'bad' event with a masked sample, never a
// 'code'. Whether a digit string is a payment code, and whose, the kiosk decides (src/kiosk/interaction.ts):
// the driver knows nothing of payments.
import { EventEmitter } from 'node:events';
import { DEFAULTS } from '../config/defaults.js';
import type { ModuleStatus, SetupReport } from './modules/session.js';

export type Terminator = 'CR' | 'LF' | 'CRLF';

/** config `scanner` (the fields every driver shares). */
export interface ScannerParseOptions {
  /** Line end the scanner sends. Default 'CR' (most scanners' factory setting). */
  terminator?: Terminator;
  /** Stripped from the start of a line when present. */
  prefix?: string;
  /** Stripped from the end of a line when present. */
  suffix?: string;
  /** Longer lines are dropped without being buffered whole. Default 64. */
  maxLineLength?: number;
}

export interface BadScan {
  reason: string;
  /** Never the code itself: wallet or "code", last 4 digits at most, or a byte count. */
  sample: string;
}

export interface ScannerFault {
  reason: string;
  path: string;
}

/**
 * Events: 'code' (a digit string: not yet known to be a payment code), 'bad' (BadScan), 'fault' (ScannerFault),
 * 'connected' ({path}),
 * 'module' (ModuleStatus, drivers with a command protocol: after each identification/setup).
 * open() never rejects for a missing device: it reports 'fault' and keeps trying.
 */
export interface Scanner extends EventEmitter {
  open(): Promise<void>;
  close(): Promise<void>;
  readonly connected: boolean;
  /** The kiosk can take a payment now (true) or not: command-trigger modules read only while armed. */
  arm?(ready: boolean): void;
  /** The module's identification and setup, for status/doctor; undefined for a plain scanner. */
  readonly moduleStatus?: ModuleStatus;
  /**
   * Runs the module's setup now (ModuleSession.setupNow): drivers with a command protocol. Rejects with the
   * reason when this scanner has none, is not connected, or is busy with the module.
   */
  setupModule?(mode: 'apply' | 'dry-run', timeoutMs: number): Promise<SetupReport>;
}

const CR = 0x0d;
const LF = 0x0a;

/**
 * Splits a byte stream into lines and keeps those that are digit strings. Memory is bounded by maxLineLength:
 * once a line is over the limit, bytes are discarded until the next terminator and one 'bad' is reported.
 */
export class ScanParser {
  private readonly endByte: number;
  private readonly max: number;
  private readonly prefix: Buffer;
  private readonly suffix: Buffer;
  private pending: Buffer = Buffer.alloc(0);
  private overlong = false;
  private overlongBytes = 0;

  constructor(
    options: ScannerParseOptions,
    private readonly onCode: (code: string) => void,
    private readonly onBad: (bad: BadScan) => void,
  ) {
    // CRLF lines end at LF; the CR before it is stripped like any stray line-end byte.
    this.endByte = (options.terminator ?? DEFAULTS.scanner.terminator) === 'CR' ? CR : LF;
    this.max = options.maxLineLength ?? DEFAULTS.scanner.maxLineLength;
    this.prefix = Buffer.from(options.prefix ?? DEFAULTS.scanner.prefix, 'latin1');
    this.suffix = Buffer.from(options.suffix ?? DEFAULTS.scanner.suffix, 'latin1');
  }

  /** Bytes currently held (for memory tests): never more than maxLineLength + prefix + suffix. */
  get buffered(): number {
    return this.pending.length;
  }

  push(chunk: Buffer | string): void {
    let data = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    while (data.length > 0) {
      const end = data.indexOf(this.endByte);
      const part = end === -1 ? data : data.subarray(0, end);
      if (this.overlong) {
        this.overlongBytes += part.length;
      } else if (this.pending.length + part.length > this.limit()) {
        this.overlong = true;
        this.overlongBytes = this.pending.length + part.length;
        this.pending = Buffer.alloc(0);
      } else {
        this.pending = this.pending.length === 0 ? Buffer.from(part) : Buffer.concat([this.pending, part]);
      }
      if (end === -1) return;
      this.endLine();
      data = data.subarray(end + 1);
    }
  }

  /** Drops a partial line (port closed mid-line): half a code must never join the next one. */
  reset(): void {
    this.pending = Buffer.alloc(0);
    this.overlong = false;
  }

  private limit(): number {
    return this.max + this.prefix.length + this.suffix.length + 2; // + stray CR/LF
  }

  private endLine(): void {
    if (this.overlong) {
      this.overlong = false;
      this.onBad({ reason: `line too long (${this.overlongBytes} bytes, at most ${this.max})`, sample: `${this.overlongBytes} bytes` });
      return;
    }
    const line = this.pending;
    this.pending = Buffer.alloc(0);
    this.classify(line);
  }

  private classify(raw: Buffer): void {
    let line = stripLineEnds(raw);
    if (line.length === 0) return; // blank line (e.g. the LF of a CRLF pair with terminator CR)
    if (this.prefix.length && startsWith(line, this.prefix)) line = line.subarray(this.prefix.length);
    if (this.suffix.length && endsWith(line, this.suffix)) line = line.subarray(0, line.length - this.suffix.length);
    for (const b of line) {
      if (b < 0x20 || b > 0x7e) {
        this.onBad({ reason: 'binary noise (non-printable bytes)', sample: `${line.length} bytes` });
        return;
      }
    }
    const text = line.toString('latin1').trim();
    if (text.length > this.max) {
      this.onBad({ reason: `line too long (${text.length} characters, at most ${this.max})`, sample: `${text.length} bytes` });
      return;
    }
    if (text.length === 0) this.onBad({ reason: 'empty code', sample: '-' });
    // Only the length: a line may be a payment code, a bearer token (src/umpay/authcode.ts maskAuthCode).
    else if (!/^[0-9]+$/.test(text)) this.onBad({ reason: 'not all digits', sample: `code…(${text.length} chars)` });
    else this.onCode(text);
  }
}

function stripLineEnds(b: Buffer): Buffer {
  let start = 0;
  let end = b.length;
  while (start < end && (b[start] === CR || b[start] === LF)) start++;
  while (end > start && (b[end - 1] === CR || b[end - 1] === LF)) end--;
  return b.subarray(start, end);
}

function startsWith(b: Buffer, p: Buffer): boolean {
  return b.length >= p.length && b.subarray(0, p.length).equals(p);
}

function endsWith(b: Buffer, s: Buffer): boolean {
  return b.length >= s.length && b.subarray(b.length - s.length).equals(s);
}
