// The vending machine's cashless port: MDB through a Qibixx MDB Pi HAT / MDB-USB, which handles the 9-bit bus and
// speaks a line protocol on a serial port (docs/mdb.md). Host → HAT in capitals, HAT → host in lower case:
//   C,1 / C,0                  enable / disable the cashless peripheral
//   C,VEND,<amount>            approve the VMC's vend request;  C,STOP  deny it / end the session
//   C,START,<amount>           open a session with that credit (VMCs without always-idle)
//   c,STATUS,<word>[,…]        INACTIVE | DISABLED | ENABLED | IDLE | VEND,<amount>,<product>
//   c,VEND,SUCCESS             the product came out;  c,ERR,VEND 3 (or any c,ERR,VEND…)  it did not
// This module is the protocol as data: parsing a line, the amounts (money in fen inside, decimal text on the wire,
// never a float), and the device interface the drivers (pi/mdb-hat.ts, sim/mdb-sim.ts) implement.
import type { EventEmitter } from 'node:events';

export type MdbStatus = 'INACTIVE' | 'DISABLED' | 'ENABLED' | 'IDLE';
export const MDB_STATUSES: readonly MdbStatus[] = ['INACTIVE', 'DISABLED', 'ENABLED', 'IDLE'];

/** One line from the HAT, as the kiosk needs it. */
export type MdbMessage =
  | { kind: 'status'; status: MdbStatus }
  | { kind: 'vend-request'; amount: string; productId: string }
  | { kind: 'vend-success' }
  | { kind: 'vend-failure'; detail: string }
  /** Lines of the protocol the kiosk does not act on (r,ACK, x,…, d,…, other c,STATUS words, c,ERR,…). */
  | { kind: 'other'; line: string }
  | { kind: 'garbage'; line: string; reason: string };

/** The longest line taken from the HAT; more is garbage (a wrong baud rate, noise). */
export const MDB_MAX_LINE = 120;
const AMOUNT = /^[0-9]{1,9}(\.[0-9]{1,6})?$/;
const PRODUCT = /^[0-9A-Za-z_-]{1,16}$/;

/** Parses one line (without its line end). Never throws. */
export function parseMdbLine(raw: string): MdbMessage {
  const line = raw.trim();
  if (line.length === 0) return { kind: 'garbage', line, reason: 'empty line' };
  if (line.length > MDB_MAX_LINE) return { kind: 'garbage', line: line.slice(0, 40), reason: `longer than ${MDB_MAX_LINE} characters` };
  if (/[^\x20-\x7e]/.test(line)) return { kind: 'garbage', line: printable(line), reason: 'not printable text (wrong baud rate?)' };
  const f = line.split(',');
  if (f[0] !== 'c') return /^[a-zA-Z]$/.test(f[0] ?? '') && f.length > 1 ? { kind: 'other', line } : { kind: 'garbage', line, reason: 'not a line of the HAT protocol' };
  if (f[1] === 'STATUS') {
    if (f[2] === 'VEND') {
      if (f.length !== 5) return { kind: 'garbage', line, reason: 'c,STATUS,VEND needs <amount>,<product>' };
      if (!AMOUNT.test(f[3]!)) return { kind: 'garbage', line, reason: `vend amount ${JSON.stringify(f[3])} is not a decimal amount` };
      if (!PRODUCT.test(f[4]!)) return { kind: 'garbage', line, reason: `product ${JSON.stringify(f[4])} is not a product number` };
      return { kind: 'vend-request', amount: f[3]!, productId: f[4]! };
    }
    if (f.length === 3 && (MDB_STATUSES as readonly string[]).includes(f[2]!)) return { kind: 'status', status: f[2] as MdbStatus };
    return { kind: 'other', line };
  }
  if (f[1] === 'VEND' && f[2] === 'SUCCESS' && f.length === 3) return { kind: 'vend-success' };
  if (f[1] === 'ERR' && /^VEND\b/.test(f[2] ?? '')) return { kind: 'vend-failure', detail: f.slice(2).join(',') };
  return { kind: 'other', line };
}

function printable(s: string): string {
  return [...s.slice(0, 40)].map((c) => (c >= ' ' && c <= '~' ? c : '?')).join('');
}

/**
 * The VMC's decimal text in fen: `decimals` is how many decimal places the machine uses (its scale factor,
 * 2 for ¥1.00). null when the text is not an amount, not whole fen, or has more places than `decimals`.
 */
export function amountToFen(text: string, decimals: number): number | null {
  if (!AMOUNT.test(text)) return null;
  const [int, frac = ''] = text.split('.') as [string, string?];
  // Places beyond the machine's, or beyond whole fen, must be zeros.
  if (/[1-9]/.test(frac.slice(Math.min(decimals, 2)))) return null;
  const fen = Number(int) * 100 + Number(frac.padEnd(2, '0').slice(0, 2));
  return Number.isSafeInteger(fen) ? fen : null;
}

/** Fen as the VMC's decimal text with `decimals` places (2: 150 → "1.50"; 0: 200 → "2"); null when not exact. */
export function fenToAmount(fen: number, decimals: number): string | null {
  if (!Number.isSafeInteger(fen) || fen < 0) return null;
  const yuan = Math.floor(fen / 100);
  const cents = String(fen % 100).padStart(2, '0');
  if (decimals >= 2) return `${yuan}.${cents}${'0'.repeat(decimals - 2)}`;
  if (!cents.slice(decimals).split('').every((c) => c === '0')) return null;
  return decimals === 0 ? String(yuan) : `${yuan}.${cents.slice(0, decimals)}`;
}

/**
 * Bytes into lines (CR, LF or CRLF end one; empty lines dropped). A run longer than MDB_MAX_LINE without a line end
 * (noise, a wrong baud rate) comes out as one line, to be taken as garbage.
 */
export class LineSplitter {
  private buf = '';

  push(chunk: Buffer): string[] {
    this.buf += chunk.toString('latin1');
    const parts = this.buf.split(/\r\n|\r|\n/);
    this.buf = parts.pop() ?? '';
    const out = parts.filter((l) => l.length > 0);
    if (this.buf.length > MDB_MAX_LINE) {
      out.push(this.buf);
      this.buf = '';
    }
    return out;
  }

  reset(): void {
    this.buf = '';
  }
}

/** A line the host may send. */
export type MdbCommand = 'C,1' | 'C,0' | 'C,STOP' | `C,VEND,${string}` | `C,START,${string}`;

/**
 * The HAT as a device. Events: 'message' (MdbMessage) for every line read, 'line' ({dir: 'in' | 'out', line})
 * for the technician's view, 'connected' / 'fault' ({reason}) as the port comes and goes (the driver reopens
 * with backoff and sends `C,1` on every open).
 */
export interface MdbDevice extends EventEmitter {
  readonly connected: boolean;
  readonly path: string;
  open(): Promise<void>;
  /** Writes one command line; false when the port is not open (nothing was sent). */
  send(command: MdbCommand): boolean;
  close(): Promise<void>;
}
