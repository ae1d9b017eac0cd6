// HD44780 character LCD behind a PCF8574 I2C backpack, driven by johnny-five's LCD component (controller
// PCF8574: P0=RS P1=RW P2=E P3=backlight P4–P7=D4–D7, the common backpack wiring) over our IO plugin's I2C
// (OnoffIO + i2c-bus), or over any IO plugin with I2C that is handed in (a Firmata board, a test's fake).
// Only the characters that changed are written: a countdown costs two characters, not a screen.
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { BaseDisplay, lcdCode, type DisplayGeometry } from '../display.js';
import type { I2cOpener } from './i2c.js';
import { OnoffIO } from './onoff-io.js';

/** config `display` with driver 'lcd'. */
export interface LcdDisplayOptions {
  cols: number;
  rows: number;
  /** 7-bit I2C address of the backpack: 0x27 (PCF8574T) or 0x3F (PCF8574AT) typically. */
  address: number;
  /** /dev/i2c-<n>; 1 on every Pi since the B (GPIO 2 = SDA, GPIO 3 = SCL). */
  i2cBus: number;
  /** Tests: opens a fake bus. */
  openI2c?: I2cOpener;
  /** A ready IO plugin instance with I2C (tests, or a Firmata board); overrides i2cBus. */
  ioInstance?: unknown;
  log?: Logger;
}

interface J5Lcd {
  setCursor(col: number, row: number): J5Lcd;
  write(code: number): J5Lcd;
  clear(): J5Lcd;
  noBacklight(): void;
  off(): J5Lcd;
}
interface J5 {
  Board: new (o: object) => { once(e: string, f: (...a: unknown[]) => void): void };
  LCD: new (o: object) => J5Lcd;
}

export class LcdDisplay extends BaseDisplay {
  private lcd: J5Lcd | null = null;
  private io: unknown = null;
  private makeLcd: (() => J5Lcd) | null = null;
  /**
   * A write failed: the controller may be half-way through a byte (4-bit mode), so it is reset before the next screen.
   */
  private resync = false;
  private readonly log: Logger;

  constructor(private readonly options: LcdDisplayOptions) {
    super({ cols: options.cols, rows: options.rows } satisfies DisplayGeometry);
    this.log = options.log ?? silentLogger;
  }

  async open(): Promise<void> {
    const name = 'johnny-five'; // loaded only when an LCD is configured: heavy, and the daemon's cold start matters
    const five = ((await import(name)) as { default: J5 }).default;
    const io = this.options.ioInstance ?? (await new OnoffIO({ gpio: false, i2cBus: this.options.i2cBus, openI2c: this.options.openI2c }).init());
    this.io = io;
    const board = new five.Board({ io, repl: false, debug: false, sigint: false, timeout: 1e9 });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`display I2C did not become ready within 10 s (${this.where()})`)), 10_000);
      board.once('ready', () => (clearTimeout(timer), resolve()));
      board.once('error', (err) => (clearTimeout(timer), reject(err instanceof Error ? err : new Error(String(err)))));
    });
    // Initialises the HD44780 (4-bit reset sequence, 2 lines, display on, cleared, backlight on).
    this.makeLcd = () => new five.LCD({ controller: 'PCF8574', address: this.options.address, rows: this.options.rows, cols: this.options.cols, board });
    try {
      this.lcd = this.makeLcd();
    } catch (err) {
      throw new Error(`no answer from the display at I2C address 0x${this.options.address.toString(16)} (${this.where()}): ${(err as Error).message}; i2cdetect -y ${this.options.i2cBus} lists the addresses present`, { cause: err });
    }
    this.log.info({ display: 'open', io: this.where(), address: `0x${this.options.address.toString(16)}` }, 'display ready');
  }

  protected draw(next: readonly string[], previous: readonly string[]): void {
    if (!this.lcd || !this.makeLcd) return;
    try {
      if (this.resync) {
        this.lcd = this.makeLcd(); // the reset sequence brings a controller back from any nibble phase
        this.resync = false;
        previous = [];
      }
      this.write(this.lcd, next, previous);
    } catch (err) {
      this.resync = true;
      throw err;
    }
  }

  private write(lcd: J5Lcd, next: readonly string[], previous: readonly string[]): void {
    next.forEach((line, row) => {
      const chars = Array.from(line);
      const old = previous[row] === undefined ? null : Array.from(previous[row]);
      let col = 0;
      while (col < chars.length) {
        if (old && old[col] === chars[col]) {
          col++;
          continue;
        }
        // One run of changed characters: position once, then write (the HD44780 moves the cursor itself).
        lcd.setCursor(col, row);
        while (col < chars.length && !(old && old[col] === chars[col])) lcd.write(lcdCode(chars[col++]!));
      }
    });
  }

  protected async release(): Promise<void> {
    try {
      if (this.lcd) {
        this.lcd.clear();
        this.lcd.noBacklight();
      }
    } catch {
      // the display may be gone already
    }
    this.lcd = null;
    if (this.io instanceof OnoffIO) this.io.close();
    this.io = null;
  }

  private where(): string {
    return this.options.ioInstance ? 'injected IO' : `/dev/i2c-${this.options.i2cBus}`;
  }
}
