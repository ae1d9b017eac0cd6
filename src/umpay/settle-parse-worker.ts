// A downloaded settlement file read, decoded and parsed in a worker thread (parseSettlementFile in settle-parse.ts):
// a provider's file is tens of megabytes, and on the daemon's event loop its reading held a paying customer for up
// to a second. Rows go to the daemon in batches (each its own event there), then the rest of the result.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { csvRecordIter, decodeSettlementFile, SettlementParser, type SettlementRow } from './settlement.js';
import type { WorkerMessage } from '../worker.js';
import type { ParsedFileRest } from './settle-parse.js';

const { path, fileName, batch, keepProblems } = workerData as { path: string; fileName?: string; batch: number; keepProblems: number };
const post = (m: WorkerMessage<SettlementRow[], ParsedFileRest>): void => parentPort!.postMessage(m);
try {
  const { text, charset } = decodeSettlementFile(readFileSync(path));
  const p = new SettlementParser(fileName);
  for (const rec of csvRecordIter(text)) {
    p.add(rec);
    if (p.rowsHeld >= batch) post({ part: p.take() });
  }
  const r = p.result();
  if (r.rows.length) post({ part: r.rows });
  const { rows: _rows, problems, ...rest } = r;
  post({ answer: { ...rest, charset, problems: problems.slice(0, keepProblems), problemCount: problems.length, sample: text.slice(0, 120) } });
} catch (err) {
  post({ answer: { error: `${(err as NodeJS.ErrnoException).code ?? 'ERR'}: ${(err as Error).message}` } });
}
