// A settlement file on disk, read and parsed off the daemon's event loop (settle-parse-worker.ts, a worker thread):
// no step of it holds a customer's payment for longer than receiving one batch of rows takes.
import { readFileSync } from 'node:fs';
import { inWorkerParts, type WorkerMessage } from '../worker.js';
import { csvRecordIter, decodeSettlementFile, SettlementParser, type ParsedSettlement, type SettlementCharset, type SettlementProblem, type SettlementRow } from './settlement.js';

/** What the worker sends after the rows: the rest of ParsedSettlement, the charset, the first problems. */
export type ParsedFileRest =
  | (Omit<ParsedSettlement, 'rows'> & { charset: SettlementCharset; problemCount: number; sample: string; error?: undefined })
  | { error: string };

export type ParsedFile = ParsedSettlement & { charset: SettlementCharset; problemCount: number; sample: string };

/** Rows per message from the worker: a few milliseconds to receive on a Pi. */
const BATCH = 500;
/** Problems sent back in full (a damaged file may have one per line; the count is kept). */
const KEEP_PROBLEMS = 20;

/**
 * Reads, decodes and parses `path` in a worker thread. Rejects with the file's error (missing, unreadable) or the
 * worker's; `problems` holds the first few, `problemCount` all of them.
 */
export async function parseSettlementFile(path: string, fileName?: string): Promise<ParsedFile> {
  const rows: SettlementRow[] = [];
  const url = new URL('./settle-parse-worker.js', import.meta.url);
  const rest = await inWorkerParts<SettlementRow[], ParsedFileRest>(url, { path, fileName, batch: BATCH, keepProblems: KEEP_PROBLEMS }, (part) => {
    for (const r of part) rows.push(r);
  });
  if (rest.error !== undefined) throw new Error(rest.error);
  const problems: SettlementProblem[] = rest.problems;
  return { ...rest, rows, problems };
}

/**
 * What the worker does (settle-parse-worker.ts), here so that it runs in-process in the tests too: reads, decodes and
 * parses `path`, posting the rows `batch` at a time and then the rest of the result with the first `keepProblems`
 * problems; a file that cannot be read is an answer with its error, never a throw.
 */
export function parseSettlementParts(
  o: { path: string; fileName?: string; batch: number; keepProblems: number },
  post: (m: WorkerMessage<SettlementRow[], ParsedFileRest>) => void,
): void {
  try {
    const { text, charset } = decodeSettlementFile(readFileSync(o.path));
    const p = new SettlementParser(o.fileName);
    for (const rec of csvRecordIter(text)) {
      p.add(rec);
      if (p.rowsHeld >= o.batch) post({ part: p.take() });
    }
    const r = p.result();
    if (r.rows.length) post({ part: r.rows });
    const { rows: _rows, problems, ...rest } = r;
    post({ answer: { ...rest, charset, problems: problems.slice(0, o.keepProblems), problemCount: problems.length, sample: text.slice(0, 120) } });
  } catch (err) {
    post({ answer: { error: `${(err as NodeJS.ErrnoException).code ?? 'ERR'}: ${(err as Error).message}` } });
  }
}
