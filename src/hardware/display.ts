// The character display: a few lines of text the customer reads (HD44780 16×2 / 20×4 class). The kiosk
// decides the words (src/kiosk/screens.ts); a driver only puts lines on glass. Lines are plain strings; the
// only non-ASCII character the kiosk uses is '¥', which the HD44780's A00 ROM has in place of '\' (0x5C).
import { EventEmitter } from 'node:events';

export interface DisplayGeometry {
  cols: number;
  rows: number;
}

/** Sizes of the HD44780 modules sold with a PCF8574 backpack. */
export const DISPLAY_SIZES: readonly DisplayGeometry[] = [
  { cols: 16, rows: 2 },
  { cols: 20, rows: 4 },
];

/** show() never throws: a dead display must not stop a payment. Events: 'screen' (lines), 'warning' (Error). */
export interface Display extends EventEmitter {
  readonly geometry: DisplayGeometry;
  open(): Promise<void>;
  /** Exactly geometry.rows lines of geometry.cols characters are shown (cut or padded here). */
  show(lines: readonly string[]): void;
  /** What is on the glass now (padded lines), [] before the first show. */
  readonly lines: readonly string[];
  close(): Promise<void>;
}

/** Pads/cuts to the geometry: every row present, every row exactly cols characters. */
export function fitLines(lines: readonly string[], g: DisplayGeometry): string[] {
  return Array.from({ length: g.rows }, (_, i) => Array.from(lines[i] ?? '').slice(0, g.cols).join('').padEnd(g.cols, ' '));
}

/** HD44780 character ROM A00 (the common Japanese ROM): 0x5C is '¥', 0x7E and 0x7F are arrows. */
export function lcdCode(ch: string): number {
  if (ch === '¥') return 0x5c;
  const c = ch.codePointAt(0) ?? 0x3f;
  // '\' and '~' do not exist in ROM A00 (they show ¥ and →): shown as '?' rather than as something else.
  if (c < 0x20 || c > 0x7d || c === 0x5c) return 0x3f;
  return c;
}

/** The glyph ROM A00 shows for a code (the inverse of lcdCode for what the kiosk writes). */
export function lcdGlyph(code: number): string {
  if (code === 0x5c) return '¥';
  if (code === 0x7e) return '→';
  if (code === 0x7f) return '←';
  if (code >= 0x20 && code < 0x7e) return String.fromCharCode(code);
  return code < 8 ? '▒' : '?'; // CGRAM (custom) or a ROM glyph the kiosk never writes
}

/** Common part of the drivers: fit, skip unchanged screens, emit 'screen', never throw. */
export abstract class BaseDisplay extends EventEmitter implements Display {
  private shown: string[] = [];

  constructor(readonly geometry: DisplayGeometry) {
    super();
  }

  get lines(): readonly string[] {
    return this.shown;
  }

  abstract open(): Promise<void>;
  protected abstract draw(next: readonly string[], previous: readonly string[]): void;
  protected abstract release(): Promise<void>;

  show(lines: readonly string[]): void {
    const next = fitLines(lines, this.geometry);
    if (next.length === this.shown.length && next.every((l, i) => l === this.shown[i])) return;
    const previous = this.shown;
    this.shown = next;
    try {
      this.draw(next, previous);
    } catch (err) {
      // The glass is unknown now: the next screen is drawn whole.
      this.shown = [];
      this.emit('warning', err);
    }
    this.emit('screen', next);
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/** driver 'none': the kiosk has no display; screens are still computed (and testable) but go nowhere. */
export class NoDisplay extends BaseDisplay {
  constructor(geometry: DisplayGeometry = { cols: 16, rows: 2 }) {
    super(geometry);
  }
  async open(): Promise<void> {}
  protected draw(): void {}
  protected async release(): Promise<void> {}
}
