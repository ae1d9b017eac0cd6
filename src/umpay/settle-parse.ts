// A settlement file on disk, read and parsed off the daemon's event loop (settle-parse-worker.ts, a worker thread):
// no step of it holds a customer's payment for longer than receiving one batch of rows takes. With `keep` the
// worker sends only the rows the caller may want (this kiosk's), and counts the others.
import { readFileSync } from 'node:fs';
import { inWorkerParts, type WorkerMessage } from '../worker.js';
import { csvRecordIter, decodeSettlementFile, SettlementParser, type ParsedSettlement, type SettlementCharset, type SettlementProblem, type SettlementRow } from './settlement.js';

/** What the worker sends after the rows: the rest of ParsedSettlement, the charset, the first problems. */
export type ParsedFileRest =
  | (Omit<ParsedSettlement, 'rows'> & { charset: SettlementCharset; rowCount: number; setAside: number; problemCount: number; sample: string; error?: undefined })
  | { error: string };

export type ParsedFile = ParsedSettlement & {
  charset: SettlementCharset;
  /** Rows the file has (`rows` holds only the kept ones when `keep` was given). */
  rowCount: number;
  /** Rows the worker did not send (not kept): rowCount - rows.length. */
  setAside: number;
  problemCount: number;
  sample: string;
};

/**
 * Which rows the worker sends: those whose order number starts with `prefix` or is one of `orderNos` (one string,
 * '\n'-joined: copied to the worker as one string, not one object per number). Absent: every row.
 */
export interface KeepRows {
  prefix?: string;
  orderNos?: string;
}

/** The test KeepRows stands for (used by the worker; here so that it can be tested in-process). */
export function keptBy(keep: KeepRows | undefined): (row: SettlementRow) => boolean {
  if (!keep) return () => true;
  // No orderNos: an empty set (an empty string names only '', which no row has: its order number is required).
  const named = new Set(keep.orderNos?.split('\n'));
  const prefix = keep.prefix;
  return (row) => (prefix !== undefined && prefix !== '' && row.orderNo.startsWith(prefix)) || named.has(row.orderNo);
}

/** Rows per message from the worker: a few milliseconds to receive on a Pi. */
const BATCH = 500;
/** Problems sent back in full (a damaged file may have one per line; the count is kept). */
const KEEP_PROBLEMS = 20;

/**
 * Reads, decodes and parses `path` in a worker thread. Rejects with the file's error (missing, unreadable) or the
 * worker's; `problems` holds the first few, `problemCount` all of them.
 */
export async function parseSettlementFile(path: string, fileName?: string, keep?: KeepRows): Promise<ParsedFile> {
  const rows: SettlementRow[] = [];
  const url = new URL('./settle-parse-worker.js', import.meta.url);
  const rest = await inWorkerParts<SettlementRow[], ParsedFileRest>(url, { path, fileName, batch: BATCH, keepProblems: KEEP_PROBLEMS, keep }, (part) => {
    for (const r of part) rows.push(r);
  });
  if (rest.error !== undefined) throw new Error(rest.error);
  const problems: SettlementProblem[] = rest.problems;
  return { ...rest, rows, problems };
}

/**
 * What the worker does (settle-parse-worker.ts), here so that it runs in-process in the tests too: reads, decodes and
 * parses `path`, posting the kept rows `batch` at a time (the others only counted) and then the rest of the result
 * with the first `keepProblems` problems; a file that cannot be read is an answer with its error, never a throw.
 */
export function parseSettlementParts(
  o: { path: string; fileName?: string; batch: number; keepProblems: number; keep?: KeepRows },
  post: (m: WorkerMessage<SettlementRow[], ParsedFileRest>) => void,
): void {
  try {
    const { text, charset } = decodeSettlementFile(readFileSync(o.path));
    const p = new SettlementParser(o.fileName);
    const wanted = keptBy(o.keep);
    let rowCount = 0;
    let setAside = 0;
    const send = (rows: SettlementRow[]): void => {
      rowCount += rows.length;
      const kept = rows.filter(wanted);
      setAside += rows.length - kept.length;
      if (kept.length) post({ part: kept });
    };
    for (const rec of csvRecordIter(text)) {
      p.add(rec);
      if (p.rowsHeld >= o.batch) send(p.take());
    }
    const r = p.result();
    send(r.rows);
    const { rows: _rows, problems, ...rest } = r;
    post({ answer: { ...rest, charset, rowCount, setAside, problems: problems.slice(0, o.keepProblems), problemCount: problems.length, sample: text.slice(0, 120) } });
  } catch (err) {
    // What throws here is the file's reading: Node's fs errors all have a code, 'ERR' is only a fallback.
    // Stryker disable StringLiteral: equivalent (above)
    post({ answer: { error: `${(err as NodeJS.ErrnoException).code ?? 'ERR'}: ${(err as Error).message}` } });
    // Stryker restore StringLiteral
  }
}
