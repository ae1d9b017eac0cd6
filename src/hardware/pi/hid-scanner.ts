// USB keyboard-mode (HID) scanner read from its Linux input device (/dev/input/by-id/…-event-kbd), grabbed
// exclusively (EVIOCGRAB) so a code is never also typed into a console or a login prompt. Unplug: the read fails
// (ENODEV) → 'fault', reopen with backoff, 'connected' when it is back. Lines go through the same ScanParser as a
// serial scanner, so a code is judged the same way whichever scanner read it.
//
// The read is a blocking read(2) on libuv's thread pool (an input device cannot be polled from Node's event loop
// without a native addon); it holds one of the pool's threads while the device is open. close() revokes the
// device (EVIOCREVOKE) so the blocked read returns at once.
import { EventEmitter } from 'node:events';
import { close as fsClose, open as fsOpen, read as fsRead } from 'node:fs';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { EVIOCGRAB, EVIOCREVOKE, HidDecoder, type RecordSize } from '../hid.js';
import { ScanParser, type Scanner, type ScannerParseOptions } from '../scanner.js';
import { realTimers, type TimerHandle, type Timers } from '../timers.js';

/** Sets or releases the exclusive grab on an open input device; throws with the reason. */
export type GrabFn = (fd: number, request: 'grab' | 'release' | 'revoke') => void;

export interface HidScannerOptions extends Pick<ScannerParseOptions, 'maxLineLength'> {
  path: string;
  /** Record size; default: detected from the data, else the process's word size. */
  recordSize?: RecordSize;
  reopenMinMs?: number;
  reopenMaxMs?: number;
  /** Default: ioctl(2) through koffi. Tests pass a fake (a FIFO cannot be grabbed). */
  grab?: GrabFn;
  timers?: Timers;
  log?: Logger;
}

let ioctlGrab: GrabFn | undefined;

/** ioctl(fd, EVIOCGRAB, 1|0) / ioctl(fd, EVIOCREVOKE, 0) through koffi (loaded only when a HID scanner is used). */
async function nativeGrab(): Promise<GrabFn> {
  if (ioctlGrab) return ioctlGrab;
  const koffi = (await import('koffi')).default;
  const libc = koffi.load('libc.so.6');
  const ioctl = libc.func('int ioctl(int fd, unsigned long request, ...)');
  ioctlGrab = (fd, request) => {
    const [req, arg] = request === 'revoke' ? [EVIOCREVOKE, 0] : [EVIOCGRAB, request === 'grab' ? 1 : 0];
    if (ioctl(fd, req, 'int', arg) !== 0) {
      const errno = koffi.errno();
      const name = Object.entries(koffi.os.errno).find(([, v]) => v === errno)?.[0] ?? `errno ${errno}`;
      throw Object.assign(new Error(`ioctl ${request === 'revoke' ? 'EVIOCREVOKE' : 'EVIOCGRAB'} failed: ${name}${name === 'EBUSY' ? ' (another program holds the scanner)' : name === 'ENOTTY' || name === 'EINVAL' ? ' (not an input device)' : ''}`), { code: name });
    }
  };
  return ioctlGrab;
}

export class HidScanner extends EventEmitter implements Scanner {
  readonly parser: ScanParser;
  readonly decoder: HidDecoder;
  private fd: number | null = null;
  private grab: GrabFn | undefined;
  private stopped = true;
  private faulted = false;
  private isConnected = false;
  private attempt = 0;
  private retry: TimerHandle | null = null;
  private readonly timers: Timers;
  private readonly log: Logger;

  constructor(private readonly options: HidScannerOptions) {
    super();
    this.timers = options.timers ?? realTimers;
    this.log = options.log ?? silentLogger;
    this.grab = options.grab;
    this.parser = new ScanParser({ terminator: 'CR', maxLineLength: options.maxLineLength }, (code) => this.emit('code', code), (bad) => this.emit('bad', bad));
    this.decoder = new HidDecoder({
      recordSize: options.recordSize,
      maxLineLength: options.maxLineLength,
      onLine: (text) => this.parser.push(text + '\r'),
      onOverlong: (chars) => this.emit('bad', { reason: `line too long (${chars} keys, at most ${options.maxLineLength ?? 64})`, sample: `${chars} bytes` }),
    });
  }

  get connected(): boolean {
    return this.isConnected;
  }

  open(): Promise<void> {
    this.stopped = false;
    return new Promise((resolve) => void this.tryOpen(resolve));
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.retry !== null) this.timers.clearTimeout(this.retry);
    this.retry = null;
    const fd = this.fd;
    this.fd = null;
    this.isConnected = false;
    this.decoder.reset();
    this.parser.reset();
    if (fd !== null) {
      for (const r of ['release', 'revoke'] as const) {
        try {
          this.grab?.(fd, r);
        } catch {
          // already gone
        }
      }
      await new Promise<void>((resolve) => fsClose(fd, () => resolve()));
    }
  }

  private async tryOpen(done?: () => void): Promise<void> {
    this.retry = null;
    if (this.stopped) return done?.();
    try {
      this.grab ??= await nativeGrab();
    } catch (err) {
      this.fail(new Error(`cannot load the EVIOCGRAB call (koffi): ${(err as Error).message}`));
      return done?.();
    }
    fsOpen(this.options.path, 'r', (err, fd) => {
      if (err) {
        this.fail(err);
        return done?.();
      }
      if (this.stopped) {
        fsClose(fd, () => {});
        return done?.();
      }
      try {
        this.grab!(fd, 'grab');
      } catch (e) {
        fsClose(fd, () => {});
        // Never read without the grab: every code would also be typed into the console.
        this.fail(new Error(`${this.options.path}: cannot take the scanner exclusively: ${(e as Error).message}`));
        return done?.();
      }
      this.fd = fd;
      this.attempt = 0;
      this.faulted = false;
      this.isConnected = true;
      this.log.info({ scanner: 'connected', path: this.options.path }, 'scanner connected');
      this.emit('connected', { path: this.options.path });
      this.readLoop(fd);
      done?.();
    });
  }

  private readLoop(fd: number): void {
    // 64 records per read: a whole 20-digit code (about 200 events) in a few reads.
    const buf = Buffer.alloc(24 * 64);
    const next = () => {
      if (this.fd !== fd || this.stopped) return;
      fsRead(fd, buf, 0, buf.length, null, (err, n) => {
        if (this.fd !== fd || this.stopped) return;
        if (err) return this.lost(fd, err);
        if (n === 0) return this.lost(fd, new Error('device closed (end of file)'));
        this.decoder.push(Buffer.from(buf.subarray(0, n)));
        next();
      });
    };
    next();
  }

  private lost(fd: number, err: Error): void {
    if (this.fd !== fd) return;
    this.fd = null;
    this.isConnected = false;
    fsClose(fd, () => {});
    this.fail(err);
  }

  private fail(err: unknown): void {
    this.isConnected = false;
    this.decoder.reset();
    this.parser.reset();
    const e = err as NodeJS.ErrnoException;
    const reason = e?.code && !e.message.includes(e.code) ? `${e.message} (${e.code})` : (e?.message ?? String(err));
    if (!this.faulted) {
      this.faulted = true;
      this.log.warn({ scanner: 'fault', path: this.options.path, reason }, 'scanner lost');
      this.emit('fault', { reason, path: this.options.path });
    } else this.log.debug({ scanner: 'retry', path: this.options.path, reason }, 'scanner still missing');
    if (this.stopped) return;
    const min = this.options.reopenMinMs ?? 500;
    const max = this.options.reopenMaxMs ?? 10_000;
    const delay = Math.min(max, min * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    this.retry = this.timers.setTimeout(() => void this.tryOpen(), delay);
  }
}
