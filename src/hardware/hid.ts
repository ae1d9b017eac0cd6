// USB keyboard-mode (HID) scanners as Linux input devices: `struct input_event` records in, typed lines out.
// Record layout (linux/input.h): a struct timeval (two longs), u16 type, u16 code, s32 value: 24 bytes where long is
// 64-bit, 16 bytes on 32-bit userland (armhf Raspberry Pi OS, also with 64-bit time_t: the kernel's input_event
// keeps __kernel_ulong_t seconds/microseconds there). The size is taken from the data when it can tell, else from the
// process's word size; never assumed from the board.
// Key codes (linux/input-event-codes.h): KEY_1..KEY_9 = 2..10, KEY_0 = 11, KEY_ENTER = 28, KEY_KPENTER = 96,
// KEY_KP7.. keypad digits, shifts 42/54. Only the US keymap's digits and Enter are read: a payment code is digits;
// any other key makes the line unusable (it is reported as bad, never guessed into a digit).

export const EV_SYN = 0;
export const EV_KEY = 1;
export const EV_MSC = 4;
/** _IOW('E', 0x90, int): exclusive grab; _IOW('E', 0x91, int): revoke (wakes a blocked read). */
export const EVIOCGRAB = 0x40044590;
export const EVIOCREVOKE = 0x40044591;

export type RecordSize = 16 | 24;

const KEY_ENTER = 28;
const KEY_KPENTER = 96;
const DIGITS: Record<number, string> = {
  2: '1', 3: '2', 4: '3', 5: '4', 6: '5', 7: '6', 8: '7', 9: '8', 10: '9', 11: '0',
  // keypad (NumLock on, as scanners send them in "keypad" emulation)
  79: '1', 80: '2', 81: '3', 75: '4', 76: '5', 77: '6', 71: '7', 72: '8', 73: '9', 82: '0',
};
const MODIFIERS = new Set([29, 97, 42, 54, 56, 100, 125, 126, 58, 69]); // ctrl, shift, alt, meta, caps, numlock

/** The record size of this process's userland (64-bit Node: 24). */
export function nativeRecordSize(arch: string = process.arch): RecordSize {
  return ['arm', 'ia32', 'mips', 'mipsel', 'ppc'].includes(arch) ? 16 : 24;
}

const KNOWN_TYPES = new Set([0, 1, 2, 3, 4, 5, 17, 18, 20, 21, 22]);

function plausible(buf: Buffer, size: RecordSize): boolean {
  if (buf.length === 0 || buf.length % size !== 0) return false;
  for (let off = 0; off < buf.length; off += size) {
    const usec = size === 24 ? buf.readBigUInt64LE(off + 8) : BigInt(buf.readUInt32LE(off + 4));
    if (usec >= 1_000_000n) return false;
    const type = buf.readUInt16LE(off + size - 8);
    if (!KNOWN_TYPES.has(type)) return false;
  }
  return true;
}

/**
 * The record size a chunk read from an input device was written in, when the data tell (an evdev read returns
 * whole records); undefined when both layouts fit (then the process's word size decides).
 */
export function detectRecordSize(chunk: Buffer): RecordSize | undefined {
  const p24 = plausible(chunk, 24);
  const p16 = plausible(chunk, 16);
  if (p24 && !p16) return 24;
  if (p16 && !p24) return 16;
  return undefined;
}

export interface KeyEvent {
  type: number;
  code: number;
  value: number;
}

export function decodeRecords(buf: Buffer, size: RecordSize): KeyEvent[] {
  const out: KeyEvent[] = [];
  for (let off = 0; off + size <= buf.length; off += size) {
    const base = off + size - 8;
    out.push({ type: buf.readUInt16LE(base), code: buf.readUInt16LE(base + 2), value: buf.readInt32LE(base + 4) });
  }
  return out;
}

/** Encodes events as the kernel would write them (tests and recorded streams). */
export function encodeRecords(events: KeyEvent[], size: RecordSize, startUsec = 0): Buffer {
  const buf = Buffer.alloc(events.length * size);
  events.forEach((e, i) => {
    const off = i * size;
    const t = startUsec + i * 1000;
    if (size === 24) {
      buf.writeBigUInt64LE(BigInt(Math.floor(t / 1e6)) + 1_700_000_000n, off);
      buf.writeBigUInt64LE(BigInt(t % 1e6), off + 8);
    } else {
      buf.writeUInt32LE(Math.floor(t / 1e6) + 1_700_000_000, off);
      buf.writeUInt32LE(t % 1e6, off + 4);
    }
    buf.writeUInt16LE(e.type, off + size - 8);
    buf.writeUInt16LE(e.code, off + size - 6);
    buf.writeInt32LE(e.value, off + size - 4);
  });
  return buf;
}

/** What a keyboard-mode scanner sends for one code: MSC scan, key down, SYN, key up, SYN per character, then Enter. */
export function typedEvents(text: string, enter: 'enter' | 'kpenter' | 'none' = 'enter'): KeyEvent[] {
  const codeOf: Record<string, number> = Object.fromEntries(Object.entries(DIGITS).slice(0, 10).map(([k, v]) => [v, Number(k)]));
  const letters = 'qwertyuiop'; // KEY_Q = 16 ...: enough to type a non-digit in tests
  const out: KeyEvent[] = [];
  const press = (code: number) => {
    out.push({ type: EV_MSC, code: 4, value: 0x70000 + code }, { type: EV_KEY, code, value: 1 }, { type: EV_SYN, code: 0, value: 0 });
    out.push({ type: EV_KEY, code, value: 0 }, { type: EV_SYN, code: 0, value: 0 });
  };
  for (const ch of text) press(codeOf[ch] ?? (letters.includes(ch) ? 16 + letters.indexOf(ch) : 57 /* space */));
  if (enter !== 'none') press(enter === 'enter' ? KEY_ENTER : KEY_KPENTER);
  return out;
}

/**
 * Turns key events into lines. Bounded: a line longer than maxLineLength is reported once and dropped.
 * Non-digit keys put '?' in the line so it can never pass as a payment code.
 */
export class HidDecoder {
  private size: RecordSize | undefined;
  private partial: Buffer = Buffer.alloc(0);
  private line = '';
  private overlong = 0;

  constructor(
    private readonly o: { recordSize?: RecordSize; maxLineLength?: number; onLine(text: string): void; onOverlong(chars: number): void },
  ) {
    this.size = o.recordSize;
  }

  get recordSize(): RecordSize | undefined {
    return this.size;
  }

  push(chunk: Buffer): void {
    let data = this.partial.length ? Buffer.concat([this.partial, chunk]) : chunk;
    if (this.size === undefined) {
      // Decide on at least 96 bytes (four 24-byte or six 16-byte records); a real evdev read is whole records, a
      // scanner sends dozens per code, so this holds back at most the first few events of the first code.
      if (data.length < 96) {
        this.partial = Buffer.from(data);
        return;
      }
      this.size = detectRecordSize(data.subarray(0, data.length - (data.length % 48))) ?? nativeRecordSize();
    }
    const whole = data.length - (data.length % this.size);
    this.partial = Buffer.from(data.subarray(whole));
    data = data.subarray(0, whole);
    for (const e of decodeRecords(data, this.size)) this.event(e);
  }

  /** Device gone: a half-typed code must never join the next one. */
  reset(): void {
    this.partial = Buffer.alloc(0);
    this.line = '';
    this.overlong = 0;
  }

  private event(e: KeyEvent): void {
    if (e.type !== EV_KEY || e.value !== 1) return; // presses only: releases, repeats, scan codes, syncs ignored
    if (e.code === KEY_ENTER || e.code === KEY_KPENTER) {
      const line = this.line;
      const over = this.overlong;
      this.line = '';
      this.overlong = 0;
      if (over) this.o.onOverlong(over);
      else if (line) this.o.onLine(line);
      return;
    }
    if (MODIFIERS.has(e.code)) return;
    const ch = DIGITS[e.code] ?? '?';
    if (this.overlong) {
      this.overlong++;
      return;
    }
    if (this.line.length >= (this.o.maxLineLength ?? 64)) {
      this.overlong = this.line.length + 1;
      this.line = '';
      return;
    }
    this.line += ch;
  }
}
