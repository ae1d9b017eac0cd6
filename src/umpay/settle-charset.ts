// The settlement file's charset, decided from its bytes (the docs do not say): ASCII, UTF-8, else GBK (the platform's
// Chinese merchant names), else unknown. Whole (decodeSettlementFile) or a chunk at a time as the download writes
// them (CharsetSniffer: no step looks at more than one chunk, the event loop is never held for the whole file).
import { isAscii } from 'node:buffer';

/** Decodes the file: UTF-8 (BOM dropped) or, when that fails, GBK (the platform's Chinese merchant names). */
export function decodeSettlement(data: Buffer): string {
  return decodeSettlementFile(data).text;
}

/**
 * The charset as the bytes show it (the docs do not say): `ascii` when every byte is below 0x80 (both read the
 * same), `utf-8` when the bytes are valid UTF-8, else `gbk` when they decode as GBK without a replacement
 * character, else `unknown` (decoded as GBK with replacements: the money columns are ASCII either way).
 */
export type SettlementCharset = 'ascii' | 'utf-8' | 'gbk' | 'unknown';

/** GBK (CP936) byte structure: ASCII, 0x80 (€), or a lead byte 0x81–0xFE with a trail byte 0x40–0x7E/0x80–0xFE. */
function isGbk(data: Buffer): boolean {
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x80) continue;
    if (b === 0xff) return false;
    const t = data[++i];
    if (t === undefined || t < 0x40 || t === 0x7f || t === 0xff) return false;
  }
  return true;
}

export function decodeSettlementFile(data: Buffer): { text: string; charset: SettlementCharset } {
  let text: string;
  let charset: SettlementCharset;
  if (isAscii(data)) {
    text = data.toString('latin1');
    charset = 'ascii';
  } else {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(data);
      charset = 'utf-8';
    } catch {
      // Node's GBK decoder drops some invalid bytes even with `fatal`: the structure is checked here.
      text = new TextDecoder('gbk').decode(data);
      charset = isGbk(data) ? 'gbk' : 'unknown';
    }
  }
  return { text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, charset };
}

/** The charset decodeSettlementFile would find, from the bytes a chunk at a time. */
export class CharsetSniffer {
  private ascii = true;
  private utf8: TextDecoder | null = new TextDecoder('utf-8', { fatal: true });
  private gbk = true;
  /** A GBK lead byte ended the last chunk: the next byte must be its trail byte. */
  private trail = false;

  push(chunk: Buffer): void {
    if (this.ascii && isAscii(chunk)) return;
    this.ascii = false;
    // Stryker disable next-line ConditionalExpression: equivalent, a null decoder throws into the same catch
    if (this.utf8) {
      try {
        this.utf8.decode(chunk, { stream: true });
      } catch {
        this.utf8 = null;
      }
    }
    // Stryker disable next-line ConditionalExpression: equivalent, the loop below stops on !this.gbk anyway
    if (!this.gbk) return;
    let i = 0;
    if (this.trail) {
      const t = chunk[0];
      if (t === undefined) return;
      if (t < 0x40 || t === 0x7f || t === 0xff) this.gbk = false;
      this.trail = false;
      i = 1;
    }
    for (; i < chunk.length && this.gbk; i++) {
      const b = chunk[i]!;
      if (b <= 0x80) continue;
      if (b === 0xff) this.gbk = false;
      else if (i + 1 >= chunk.length) this.trail = true;
      else {
        const t = chunk[++i]!;
        if (t < 0x40 || t === 0x7f || t === 0xff) this.gbk = false;
      }
    }
  }

  get charset(): SettlementCharset {
    if (this.ascii) return 'ascii';
    // Stryker disable next-line ConditionalExpression: equivalent, a null decoder throws into the same catch
    if (this.utf8) {
      try {
        this.utf8.decode();
        return 'utf-8';
      } catch {
        this.utf8 = null;
      }
    }
    return this.gbk && !this.trail ? 'gbk' : 'unknown';
  }
}
