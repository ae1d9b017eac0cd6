// Grow GM family (GM65, GM65S, GM805, GM812, GM861): binary zone-register commands with CRC-16/XMODEM.
// Sources (docs/scanners.md has the table):
//  [M] docs/SCANNER-MODULES.md (frame layout, three published commands with their CRCs, 0x0000/0x0002/0x002A);
//  [T] 3rdIteration/SerialBarcodeReaderTools serial-reader.py (GM65/GM805): hardware/software version at
//      0x00E1/0x00E2, 0x0000 bits 3-2 illumination, 5-4 aimer, bit 6 buzzer on, 0x0013 same-code delay
//      (bit 7 enable, 100 ms units), 0x002A baud codes (9600 = 39 01 ... 115200 = 1A 00);
//  [H] a GM-compatible engine's manual (Hamlet HBCS2D100W, "Command Trigger mode"): trigger = write 01 to
//      0x0002, answered 02 00 00 01 00 33 31, read window 0.1-25.5 s in 100 ms steps, default 5 s;
//  [S] a GM812-S/L manual summary (saadimalik211/cv-scanner serialdoc.md): 0x000E tail 0 CR 1 LF 2 CRLF 3 TAB 4 none,
//      0x0006 read timeout.
// NOT confirmed from a manual we could read: the GM65 tail encoding in 0x0060 (address from [M], bits below are our
// reading and marked so), the read-window address 0x0006 on GM65 (only [S] for GM812), symbology switches (left alone).
import { crc16Xmodem } from './crc.js';
import { ModuleError, type AnswerFramer, type CommandPort, type FramerOut, type Identity, type ModuleDriver, type SettingName, type Settings } from './types.js';

export const GM_MODELS = ['GM65', 'GM805', 'GM812', 'GM861'] as const;

const TYPE_READ = 0x07;
const TYPE_WRITE = 0x08;
const TYPE_SAVE = 0x09;

export function gmCommand(type: number, address: number, data: number[]): Buffer {
  // len counts the data bytes for a write; for a read, data is [count] and len is 1.
  const body = Buffer.from([type, data.length, (address >> 8) & 0xff, address & 0xff, ...data]);
  const crc = crc16Xmodem(body);
  return Buffer.concat([Buffer.from([0x7e, 0x00]), body, Buffer.from([crc >> 8, crc & 0xff])]);
}
export const gmRead = (address: number, count: number) => gmCommand(TYPE_READ, address, [count]);
export const gmWrite = (address: number, bytes: number[]) => gmCommand(TYPE_WRITE, address, bytes);
export const gmSave = () => gmCommand(TYPE_SAVE, 0x0000, [0x00]);

/** An answer frame `02 00 status len data CRC` as the module sends it (the simulator uses this). */
export function gmAnswer(status: number, data: number[]): Buffer {
  const body = Buffer.from([status, data.length, ...data]);
  const crc = crc16Xmodem(body);
  return Buffer.concat([Buffer.from([0x02, 0x00]), body, Buffer.from([crc >> 8, crc & 0xff])]);
}

/** Answers are taken only while a command waits for one; at any other time every byte is scan data. */
export class GmFramer implements AnswerFramer {
  private held: Buffer = Buffer.alloc(0);
  private waiting = false;

  expect(command: Buffer | null): void {
    this.waiting = command !== null;
  }

  push(chunk: Buffer): FramerOut[] {
    const out: FramerOut[] = [];
    let data = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = Buffer.alloc(0);
    while (data.length) {
      if (!this.waiting) {
        out.push({ kind: 'data', bytes: data });
        return out;
      }
      const start = data.indexOf(0x02);
      if (start === -1) {
        out.push({ kind: 'data', bytes: data });
        return out;
      }
      if (start > 0) out.push({ kind: 'data', bytes: data.subarray(0, start) });
      data = data.subarray(start);
      if (data.length < 4) {
        this.held = Buffer.from(data);
        return out;
      }
      if (data[1] !== 0x00) {
        // Not a frame header: the byte goes on as data (the line parser drops non-printable lines whole, so it can
        // never splice two halves of a line into a code).
        out.push({ kind: 'data', bytes: data.subarray(0, 1) });
        data = data.subarray(1);
        continue;
      }
      const total = 6 + data[3]!;
      if (data.length < total) {
        this.held = Buffer.from(data);
        return out;
      }
      const frame = data.subarray(0, total);
      const crc = crc16Xmodem(frame.subarray(2, total - 2));
      if (crc === frame.readUInt16BE(total - 2)) {
        out.push({ kind: 'answer', frame: Buffer.from(frame) });
        this.waiting = false;
      } else {
        out.push({ kind: 'data', bytes: data.subarray(0, 1) });
        out.push({ kind: 'noise', bytes: total, reason: 'answer frame with a bad CRC' });
        data = data.subarray(1);
        continue;
      }
      data = data.subarray(total);
    }
    return out;
  }

  flush(): FramerOut[] {
    const held = this.held;
    this.held = Buffer.alloc(0);
    this.waiting = false;
    return held.length ? [{ kind: 'data', bytes: held }] : [];
  }
}

/** One setting as bits of zone bytes. */
interface Field {
  address: number;
  /** How many consecutive bytes (baud rate: 2, little-endian). */
  size: number;
  decode(bytes: number[]): string;
  /** New bytes from the current ones (only the field's own bits change). undefined: this value has no encoding. */
  encode(value: string, current: number[]): number[] | undefined;
  source: string;
}

const bits = (address: number, shift: number, width: number, names: Record<number, string>, source: string): Field => {
  const mask = ((1 << width) - 1) << shift;
  return {
    address,
    size: 1,
    source,
    decode: ([b]) => names[((b ?? 0) & mask) >> shift] ?? `code ${((b ?? 0) & mask) >> shift}`,
    encode: (value, [b]) => {
      const hit = Object.entries(names).find(([, n]) => n === value);
      return hit ? [((b ?? 0) & ~mask) | (Number(hit[0]) << shift)] : undefined;
    },
  };
};

const BAUD_CODES: Record<number, number> = { 9600: 0x0139, 14400: 0x00d0, 19200: 0x009c, 38400: 0x004e, 57600: 0x0034, 115200: 0x001a };
const baud: Field = {
  address: 0x002a,
  size: 2,
  source: '[M] [T]',
  decode: ([lo, hi]) => {
    const code = (lo ?? 0) | ((hi ?? 0) << 8);
    const hit = Object.entries(BAUD_CODES).find(([, c]) => c === code);
    return hit ? hit[0] : `code 0x${code.toString(16)}`;
  },
  encode: (value) => {
    const code = BAUD_CODES[Number(value)];
    return code === undefined ? undefined : [code & 0xff, code >> 8];
  },
};

/** 100 ms units in a byte; `enableBit` (0x0013) marks the feature on. */
const tenths = (address: number, source: string, enableBit = false): Field => ({
  address,
  size: 1,
  source,
  decode: ([b]) => {
    const v = b ?? 0;
    if (enableBit) return v & 0x80 ? String((v & 0x7f) * 100) : '0';
    return String(v * 100);
  },
  encode: (value) => {
    const ms = Number(value);
    const max = enableBit ? 0x7f : 0xff;
    if (!Number.isInteger(ms) || ms < 0 || ms % 100 !== 0 || ms / 100 > max) return undefined;
    return [enableBit ? (ms === 0 ? 0 : 0x80 | (ms / 100)) : ms / 100];
  },
});

const COMMON: Partial<Record<SettingName, Field>> = {
  mode: bits(0x0000, 0, 2, { 0: 'manual', 1: 'command', 2: 'continuous', 3: 'sensing' }, '[M]'),
  illumination: bits(0x0000, 2, 2, { 0: 'off', 1: 'normal', 3: 'on' }, '[T]'),
  aimer: bits(0x0000, 4, 2, { 0: 'off', 1: 'normal', 3: 'on' }, '[T]'),
  beep: bits(0x0000, 6, 1, { 0: 'off', 1: 'on' }, '[T]'),
  reReadDelayMs: tenths(0x0013, '[T]', true),
  baudRate: baud,
};

/** Register maps per model: the tail sits at 0x0060 on GM65/GM805 and at 0x000E on GM812/GM861. */
export const GM_MAPS: Record<(typeof GM_MODELS)[number], Partial<Record<SettingName, Field>>> = {
  GM65: {
    ...COMMON,
    // UNCONFIRMED encoding: address from [M]; bits 6-5 as tail type (00 CR, 01 CRLF, 10 TAB) and bit 7 as "no tail"
    // are our reading of the GM65 manual's table, not checked against a copy we could open. LF has no code.
    tail: bits(0x0060, 5, 3, { 0: 'CR', 1: 'CRLF', 2: 'TAB', 4: 'none' }, '[M] encoding unconfirmed'),
    readWindowMs: tenths(0x0006, '[H] address unconfirmed on GM65'),
  },
  GM805: {
    ...COMMON,
    tail: bits(0x0060, 5, 3, { 0: 'CR', 1: 'CRLF', 2: 'TAB', 4: 'none' }, '[M] encoding unconfirmed'),
    readWindowMs: tenths(0x0006, '[H] address unconfirmed on GM805'),
  },
  GM812: { ...COMMON, tail: bits(0x000e, 0, 8, { 0: 'CR', 1: 'LF', 2: 'CRLF', 3: 'TAB', 4: 'none' }, '[S]'), readWindowMs: tenths(0x0006, '[S] [H]') },
  GM861: { ...COMMON, tail: bits(0x000e, 0, 8, { 0: 'CR', 1: 'LF', 2: 'CRLF', 3: 'TAB', 4: 'none' }, '[S] (GM812 map, same generation)'), readWindowMs: tenths(0x0006, '[S] [H]') },
};

function mapOf(id: Identity): Partial<Record<SettingName, Field>> {
  return id.known ? (GM_MAPS[id.model as keyof typeof GM_MAPS] ?? {}) : {};
}

/** The data bytes of a successful answer; a non-zero status is the module refusing the command. */
function answerData(frame: Buffer, what: string): number[] {
  const status = frame[2]!;
  if (status !== 0x00) throw new ModuleError(`the module refused ${what} (status 0x${status.toString(16).padStart(2, '0')})`, 'NAK');
  return [...frame.subarray(4, frame.length - 2)];
}

async function readBytes(port: CommandPort, address: number, count: number): Promise<number[]> {
  const what = `reading zone 0x${address.toString(16).padStart(4, '0')}`;
  const data = answerData(await port.request(gmRead(address, count)), what);
  if (data.length !== count) throw new ModuleError(`${what}: ${data.length} bytes answered, ${count} asked`, 'BAD_ANSWER');
  return data;
}

async function writeBytes(port: CommandPort, address: number, bytes: number[]): Promise<void> {
  answerData(await port.request(gmWrite(address, bytes)), `writing zone 0x${address.toString(16).padStart(4, '0')}`);
}

export const gmDriver: ModuleDriver = {
  family: 'gm',
  framer: () => new GmFramer(),

  async identify(port, model) {
    // Harmless reads only: the versions [T] and the working-mode byte. The zone map has no model register, so the
    // model comes from config (scanner.model, printed on the module); without it nothing is ever written.
    let hw: number[];
    try {
      hw = await readBytes(port, 0x00e1, 1);
    } catch (err) {
      if (err instanceof ModuleError && err.code === 'TIMEOUT') return null;
      throw err;
    }
    const sw = await readBytes(port, 0x00e2, 1).catch(() => undefined);
    const known = model !== undefined && (GM_MODELS as readonly string[]).includes(model);
    return {
      family: 'gm',
      model: known ? model : (model ?? 'unknown'),
      known,
      hardware: `0x${hw[0]!.toString(16).padStart(2, '0')}`,
      firmware: sw ? `0x${sw[0]!.toString(16).padStart(2, '0')}` : undefined,
    };
  },

  settingsFor: (id) => Object.keys(mapOf(id)) as SettingName[],

  refuse(id, name, value) {
    const f = mapOf(id)[name];
    if (!f) return undefined;
    const probe = f.encode(value, new Array<number>(f.size).fill(0));
    return probe === undefined ? `${value} is not a value ${id.model} has for ${name}` : undefined;
  },

  async read(port, id) {
    const map = mapOf(id);
    const cache = new Map<number, number[]>();
    const out: Settings = {};
    for (const [name, f] of Object.entries(map) as [SettingName, Field][]) {
      const key = f.address;
      let bytes = cache.get(key);
      if (!bytes || bytes.length < f.size) {
        bytes = await readBytes(port, f.address, f.size);
        cache.set(key, bytes);
      }
      out[name] = f.decode(bytes);
    }
    return out;
  },

  async write(port, id, changes) {
    const map = mapOf(id);
    // Group by address: several settings share 0x0000; read it once, change only their bits, write it once.
    const byAddress = new Map<number, { f: Field; value: string; name: SettingName }[]>();
    for (const [name, value] of Object.entries(changes) as [SettingName, string][]) {
      const f = map[name];
      if (!f) throw new ModuleError(`${id.model} has no known register for ${name}`, 'UNSUPPORTED');
      byAddress.set(f.address, [...(byAddress.get(f.address) ?? []), { f, value, name }]);
    }
    // The baud rate last: after it the module answers only at the new rate.
    const order = [...byAddress.keys()].sort((a, b) => (a === 0x002a ? 1 : b === 0x002a ? -1 : a - b));
    for (const address of order) {
      const group = byAddress.get(address)!;
      const size = Math.max(...group.map((g) => g.f.size));
      let bytes = await readBytes(port, address, size);
      for (const g of group) {
        const next = g.f.encode(g.value, bytes);
        if (!next) throw new ModuleError(`${g.value} is not a value ${id.model} has for ${g.name}`, 'UNSUPPORTED');
        bytes = next;
      }
      await writeBytes(port, address, bytes);
    }
  },

  async save(port) {
    answerData(await port.request(gmSave(), { timeoutMs: 1000 }), 'saving to flash');
  },

  async trigger(port) {
    await writeBytes(port, 0x0002, [0x01]);
  },
};
