// The platform's daily settlement file (PROTOCOL.md, "Settlement file"): CSV, one row per pay or refund,
// columns in a fixed order. Parsing is forgiving about the envelope (BOM, CRLF, quotes, a header row,
// GBK merchant names, Excel's ="…" text guard) and strict about the fields that carry money:
// a row that cannot be read is reported with its line number and never guessed at.

// One list of the columns, shared with the sandbox that writes the file (PROTOCOL.md order). Only the first 13
// (merchant order no … order type) are needed to compare with the journal.
export const SETTLEMENT_COLUMNS = [
  'merchantOrderNo',
  'payTime',
  'merchantId',
  'terminalId',
  'storeId',
  'operatorId',
  'merchantName',
  'platformOrderNo',
  'cardType',
  'state',
  'orderAmount',
  'refundAmount',
  'orderType',
  'scene',
  'fee',
  'feeRate',
  'settlementMode',
  'settlementAmount',
  'extraRate',
  'extraFee',
  'platformSerial',
  'thirdPartySerial',
  'orderKind',
  'splitOrderNo',
  'splitSerial',
  'splitMerchant',
  'splitRefundAccountType',
  'referenceNo',
] as const;

const REQUIRED_COLUMNS = 13;

export type SettlementState = 'SUCCESS' | 'REFUND' | 'FAILED';

export interface SettlementRow {
  /** 1-based line in the file where the record starts. */
  line: number;
  orderNo: string;
  payTime: string;
  merchantId: string;
  transactionId: string;
  state: SettlementState;
  orderAmountFen: number;
  refundAmountFen: number;
  orderType: string;
  /** Every column by its name, as read (trimmed). */
  fields: Record<string, string>;
}

export interface SettlementProblem {
  line: number;
  message: string;
}

export interface ParsedSettlement {
  rows: SettlementRow[];
  problems: SettlementProblem[];
  /** Whether the first record was a header row (skipped). */
  header: boolean;
  /** The settlement date from the file name `<acqSpId>_<yyyyMMdd>.csv`, when it has that form. */
  nameDate?: string;
  nameSpId?: string;
}

export { decodeSettlement, decodeSettlementFile, CharsetSniffer, type SettlementCharset } from './settle-charset.js';

export interface CsvRecord {
  line: number;
  fields: string[];
  error?: string;
}

/** RFC 4180 records with the line each starts on. Quoted fields may hold commas, quotes ("") and newlines. */
export function csvRecords(text: string): CsvRecord[] {
  return [...csvRecordIter(text)];
}

/**
 * A settlement record is well under a kilobyte (28 short columns): one longer than this is damage (an unclosed quote
 * swallowing the rest of the file), reported at its line, and reading goes on at the next line.
 */
export const MAX_RECORD_CHARS = 64 * 1024;

/**
 * csvRecords one record at a time (a whole provider's file is ~100,000 rows: the caller can pause between them).
 * Linear in the text whatever it holds: the next line feed, carriage return and quote are each searched for once
 * (natively) and remembered, so neither a file of lone \r line ends nor quotes make it go over the text again; no
 * record is read past MAX_RECORD_CHARS.
 */
export function* csvRecordIter(text: string): Generator<CsvRecord> {
  const n = text.length;
  const next = { '\n': -2, '\r': -2, '"': -2 };
  /** The next position of `ch` at or after `from` (n when none). */
  const find = (ch: '\n' | '\r' | '"', from: number): number => {
    let at = next[ch];
    // Not yet searched (-2) or behind `from` (a remembered n never is: `from` <= n). Speed only (timed: settle-parse).
    // Stryker disable next-line ConditionalExpression,EqualityOperator: speed only, a new search finds the same
    if (at < from) {
      at = text.indexOf(ch, from);
      if (at === -1) at = n;
      next[ch] = at;
    }
    return at;
  };
  let line = 1;
  let i = 0;
  // Stryker disable next-line EqualityOperator: equivalent, a pass at the end reads an empty line, yields nothing
  while (i < n) {
    const start = line;
    // Fast path: a record on one line without quotes or a lone \r (nearly every row) is split as it is.
    const eol = find('\n', i);
    const cr = find('\r', i);
    // Speed only: the path below reads these records the same (a lone \r last in the file too), whatever the boundary.
    // Stryker disable next-line EqualityOperator,ConditionalExpression,ArithmeticOperator: speed only (above)
    if (find('"', i) >= eol && (cr >= eol || cr === eol - 1)) {
      // Stryker disable next-line EqualityOperator: equivalent, cr and eol are equal only when both are n
      const body = text.slice(i, cr < eol ? cr : eol);
      i = eol + 1;
      line++;
      if (body.trim() !== '') yield { line: start, fields: body.split(',') };
      continue;
    }
    const recordStart = i;
    const limit = Math.min(n, recordStart + MAX_RECORD_CHARS);
    const fields: string[] = [];
    let field = '';
    let error: string | undefined;
    let atFieldStart = true;
    let endOfRecord = false;
    const tooLong = (): void => {
      error = `a record longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`;
      // Read on at the line after the record's first: the rest of the file is not one record.
      const lf = find('\n', recordStart);
      i = lf + 1;
      line = start + 1;
    };
    while (i < n && !endOfRecord) {
      // (Here limit < n: the cap is inside the text.) A record whose line end comes at or after the cap is damage.
      if (i >= limit) {
        tooLong();
        break;
      }
      const ch = text[i]!;
      if (atFieldStart && ch === '"') {
        // Quoted field: runs to the closing quote, "" is a literal quote.
        i++;
        let closed = false;
        // Stryker disable next-line EqualityOperator: equivalent, at the end find() gives n: the break at i >= n
        while (i < n) {
          const q = find('"', i);
          // Past the cap the record is damage anyway (the check above): this saves copying the rest of the file.
          // Stryker disable next-line ConditionalExpression,EqualityOperator: speed only, damage at the cap anyway
          if (q >= limit && limit < n) break;
          const part = text.slice(i, Math.min(q, n));
          for (let k = part.indexOf('\n'); k !== -1; k = part.indexOf('\n', k + 1)) line++;
          field += part;
          i = q;
          if (i >= n) break;
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          closed = true;
          break;
        }
        if (!closed) {
          // Unclosed with text left (i < n) only after the break at the cap: so limit < n says both.
          if (limit < n) {
            tooLong();
            break;
          }
          error = 'a quoted field is not closed before the end of the file';
        }
        // Anything between the closing quote and the next separator is kept (lenient), but noted (limit <= n: never
        // past the end).
        while (i < limit && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') {
          if (!/\s/.test(text[i]!)) error ??= 'text after a closing quote';
          field += text[i];
          i++;
        }
        // Stryker disable next-line BooleanLiteral: equivalent, the loop above stops at a separator, the cap or the end
        atFieldStart = false;
        continue;
      }
      if (ch === ',') {
        fields.push(field);
        field = '';
        atFieldStart = true;
        i++;
        continue;
      }
      if (ch === '\r' || ch === '\n') {
        if (ch === '\r' && text[i + 1] === '\n') i++;
        i++;
        line++;
        endOfRecord = true;
        continue;
      }
      field += ch;
      atFieldStart = false;
      i++;
    }
    fields.push(field);
    // Blank lines separate nothing; skip them.
    if (!(fields.length === 1 && fields[0]!.trim() === '' && !error)) yield error === undefined ? { line: start, fields } : { line: start, fields, error };
  }
}

/** Excel's text guards: ="0123", a leading tab or apostrophe; and surrounding blanks. */
function clean(v: string): string {
  let s = v.trim();
  const m = /^="(.*)"$/.exec(s);
  if (m) s = m[1]!;
  if (s.startsWith("'") || s.startsWith('\t')) s = s.slice(1);
  return s.trim();
}

const STATES = new Set<SettlementState>(['SUCCESS', 'REFUND', 'FAILED']);
const FEN = /^[0-9]{1,13}$/;

function looksLikeHeader(fields: readonly string[]): boolean {
  // Stryker disable StringLiteral: equivalent, a made-up text for a missing column is no state, no amount
  const state = clean(fields[9] ?? '').toUpperCase();
  const amount = clean(fields[10] ?? '');
  // Stryker restore StringLiteral
  return !STATES.has(state as SettlementState) && !FEN.test(amount);
}

/** Parses the text of a settlement file. `fileName` (basename) gives the date when named as the platform names it. */
export function parseSettlement(text: string, fileName?: string): ParsedSettlement {
  const p = new SettlementParser(fileName);
  for (const rec of csvRecordIter(text)) p.add(rec);
  return p.result();
}

/**
 * parseSettlement that gives the event loop back (setImmediate) after every `sliceMs` of work, so that a whole
 * provider's file (100,000 rows: over a second of parsing here, several on a Pi) never holds up a customer's
 * payment on the daemon's event loop.
 */
export async function parseSettlementPaced(text: string, fileName?: string, sliceMs = 5, pause?: () => Promise<void>): Promise<ParsedSettlement> {
  const p = new SettlementParser(fileName);
  let since = performance.now();
  let n = 0;
  for (const rec of csvRecordIter(text)) {
    p.add(rec);
    // Stryker disable next-line UpdateOperator,EqualityOperator: equivalent, -n % 64 is 0 as often; the clock has moved
    if (++n % 64 === 0 && performance.now() - since >= sliceMs) {
      await new Promise((r) => setImmediate(r));
      if (pause) await pause();
      since = performance.now();
    }
  }
  return p.result();
}

/** Records in, rows and problems out; `take()` hands over the rows read so far (the worker sends them in batches). */
export class SettlementParser {
  private rows: SettlementRow[] = [];
  private readonly problems: SettlementProblem[] = [];
  private header = false;
  private idx = 0;
  constructor(private readonly fileName?: string) {}

  add(rec: CsvRecord): void {
    // Stryker disable next-line UpdateOperator: equivalent, only the first record (0) may be a header
    parseRecord(rec, this.idx++, this.rows, this.problems, () => (this.header = true));
  }

  /** The rows read since the last take (result() then has only the later ones). */
  take(): SettlementRow[] {
    const r = this.rows;
    this.rows = [];
    return r;
  }

  get rowsHeld(): number {
    return this.rows.length;
  }

  result(): ParsedSettlement {
    const parsed: ParsedSettlement = { rows: this.rows, problems: this.problems, header: this.header };
    const m = this.fileName ? /^([A-Za-z0-9]+)_([0-9]{8})\.csv$/i.exec(this.fileName) : null;
    if (m) {
      parsed.nameSpId = m[1]!;
      parsed.nameDate = m[2]!;
    }
    return parsed;
  }
}

function parseRecord(rec: CsvRecord, idx: number, rows: SettlementRow[], problems: SettlementProblem[], sawHeader: () => void): void {
  {
    if (idx === 0 && !rec.error && looksLikeHeader(rec.fields)) {
      sawHeader();
      return;
    }
    if (rec.error) {
      problems.push({ line: rec.line, message: rec.error });
      return;
    }
    const f = rec.fields.map(clean);
    if (f.length < REQUIRED_COLUMNS) {
      problems.push({ line: rec.line, message: `${f.length} columns, expected at least ${REQUIRED_COLUMNS} (order no … order type) of the ${SETTLEMENT_COLUMNS.length} in PROTOCOL.md` });
      return;
    }
    const fields: Record<string, string> = {};
    SETTLEMENT_COLUMNS.forEach((name, i) => {
      if (i < f.length) fields[name] = f[i]!;
    });
    const bad: string[] = [];
    const orderNo = f[0]!;
    if (orderNo === '') bad.push('merchant order no (column 1) is empty');
    const payTime = f[1]!;
    if (!/^[0-9]{14}$/.test(payTime)) bad.push(`pay time (column 2) ${JSON.stringify(payTime)} is not YYYYMMDDHHMMSS`);
    const state = f[9]!.toUpperCase();
    if (!STATES.has(state as SettlementState)) bad.push(`state (column 10) ${JSON.stringify(f[9])} is not SUCCESS, REFUND or FAILED`);
    const orderAmount = f[10]!;
    if (!FEN.test(orderAmount)) bad.push(`order amount (column 11) ${JSON.stringify(orderAmount)} is not a whole number of fen`);
    const refundAmount = f[11]!;
    if (!FEN.test(refundAmount)) bad.push(`refund amount (column 12) ${JSON.stringify(refundAmount)} is not a whole number of fen`);
    if (bad.length === 0 && state === 'REFUND' && Number(refundAmount) === 0) bad.push('a REFUND row with refund amount 0');
    if (bad.length === 0 && state === 'SUCCESS' && Number(orderAmount) === 0) bad.push('a SUCCESS row with order amount 0');
    if (bad.length > 0) {
      problems.push({ line: rec.line, message: bad.join('; ') });
      return;
    }
    rows.push({
      line: rec.line,
      orderNo,
      payTime,
      merchantId: f[2]!,
      transactionId: f[7]!,
      state: state as SettlementState,
      orderAmountFen: Number(orderAmount),
      refundAmountFen: Number(refundAmount),
      orderType: f[12]!,
      fields,
    });
  }
}
