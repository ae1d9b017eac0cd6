// A settlement file on disk, read and parsed off the daemon's event loop (settle-parse-worker.ts, a worker thread):
// no step of it holds a customer's payment for longer than receiving one batch of rows takes.
import { inWorkerParts } from '../worker.js';
import type { ParsedSettlement, SettlementCharset, SettlementProblem, SettlementRow } from './settlement.js';

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
