// A fake I2C bus with a PCF8574 backpack and an HD44780 behind it, decoded from the bytes alone: what a customer
// would read on the glass. Backpack wiring (the common one): P0=RS P1=RW P2=E P3=backlight P4–P7=D4–D7.
// The controller latches a nibble on E's falling edge; it powers up in 8-bit mode, where the D4–D7 nibble is the
// high half of an instruction (D0–D3 are not wired, so read as 0) until a function set selects 4-bit mode.
import { lcdGlyph } from '../../src/hardware/display.js';
import type { I2cBusLike } from '../../src/hardware/pi/i2c.js';

const RS = 0x01;
const RW = 0x02;
const E = 0x04;
const BL = 0x08;

export class Hd44780 {
  /** DDRAM: 0x00–0x27 (line 1) and 0x40–0x67 (line 2); a 20×4 shows rows 3/4 from 0x14 and 0x54. */
  readonly ddram = new Uint8Array(0x80).fill(0x20);
  addr = 0;
  increment = true;
  displayOn = false;
  backlight = false;
  fourBit = false;
  twoLines = false;
  /** Instructions and data bytes in order, for tests that look at the protocol. */
  readonly log: { rs: 0 | 1; byte: number }[] = [];
  /** Bytes with RW high: this driver never reads the busy flag. */
  reads = 0;
  private last = 0;
  private high: number | null = null;
  private cgram = false;

  constructor(readonly cols: number, readonly rows: number) {}

  /** One byte written to the PCF8574's port. */
  port(byte: number): void {
    this.backlight = (byte & BL) !== 0;
    if (this.last & E && !(byte & E)) this.latch(this.last);
    this.last = byte;
  }

  private latch(byte: number): void {
    const nibble = byte >> 4;
    const rs = (byte & RS) as 0 | 1;
    if (byte & RW) return void this.reads++;
    if (!this.fourBit) {
      // 8-bit mode: a whole instruction per strobe, low half 0.
      this.exec(0, nibble << 4);
      return;
    }
    if (this.high === null) this.high = nibble;
    else {
      const b = (this.high << 4) | nibble;
      this.high = null;
      this.exec(rs, b);
    }
  }

  private exec(rs: 0 | 1, b: number): void {
    this.log.push({ rs, byte: b });
    if (rs) {
      if (!this.cgram) this.ddram[this.addr] = b;
      this.step();
      return;
    }
    if (b & 0x80) {
      this.addr = b & 0x7f;
      this.cgram = false;
    } else if (b & 0x40) this.cgram = true;
    else if (b & 0x20) {
      this.fourBit = (b & 0x10) === 0;
      this.twoLines = (b & 0x08) !== 0;
      this.high = null;
    } else if (b & 0x10) {
      // cursor/display shift: the driver never shifts
    } else if (b & 0x08) this.displayOn = (b & 0x04) !== 0;
    else if (b & 0x04) this.increment = (b & 0x02) !== 0;
    else if (b & 0x02) this.addr = 0;
    else if (b & 0x01) {
      this.ddram.fill(0x20);
      this.addr = 0;
      this.increment = true;
    }
  }

  private step(): void {
    // DDRAM wraps within a line pair's halves: 0x27 → 0x40, 0x67 → 0x00.
    if (this.increment) this.addr = this.addr === 0x27 ? 0x40 : this.addr === 0x67 ? 0x00 : this.addr + 1;
    else this.addr = this.addr === 0x40 ? 0x27 : this.addr === 0x00 ? 0x67 : this.addr - 1;
  }

  /** What the glass shows: rows of cols glyphs; blank rows when the display is off. */
  text(): string[] {
    const offsets = [0x00, 0x40, 0x14, 0x54];
    return Array.from({ length: this.rows }, (_, r) => {
      if (!this.displayOn) return ' '.repeat(this.cols);
      let s = '';
      for (let c = 0; c < this.cols; c++) s += lcdGlyph(this.ddram[offsets[r]! + c]!);
      return s;
    });
  }
}

/** A fake /dev/i2c-N with one PCF8574 backpack at `address`; other addresses do not acknowledge. */
export class FakeI2cBus implements I2cBusLike {
  readonly lcd: Hd44780;
  writes = 0;
  closed = false;
  /** Make the next writes fail as a loose wire does (EREMOTEIO). */
  unplugged = false;

  constructor(readonly address: number, cols = 16, rows = 2) {
    this.lcd = new Hd44780(cols, rows);
  }

  i2cWriteSync(address: number, length: number, buffer: Buffer): number {
    if (this.closed) throw new Error('bus closed');
    if (address !== this.address || this.unplugged) throw Object.assign(new Error('Remote I/O error, write'), { code: 'EREMOTEIO', errno: 121 });
    this.writes++;
    for (let i = 0; i < length; i++) this.lcd.port(buffer[i]!);
    return length;
  }

  i2cReadSync(address: number, length: number, buffer: Buffer): number {
    if (address !== this.address || this.unplugged) throw Object.assign(new Error('Remote I/O error, read'), { code: 'EREMOTEIO', errno: 121 });
    buffer.fill(0xff, 0, length);
    return length;
  }

  closeSync(): void {
    this.closed = true;
  }
}
