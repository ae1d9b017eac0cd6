// A downloaded settlement file read, decoded and parsed in a worker thread (parseSettlementFile in settle-parse.ts):
// a provider's file is tens of megabytes, and on the daemon's event loop its reading held a paying customer for up
// to a second. Rows go to the daemon in batches (each its own event there), then the rest of the result. With
// `keep`, only the rows it names go: the rest (other terminals' rows, nearly all of a provider's file) are counted
// here and never reach the daemon, whose loop then neither receives nor holds them.
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { csvRecordIter, decodeSettlementFile, SettlementParser, type SettlementRow } from './settlement.js';
import type { WorkerMessage } from '../worker.js';
import { keptBy, type KeepRows, type ParsedFileRest } from './settle-parse.js';

const { path, fileName, batch, keepProblems, keep } = workerData as { path: string; fileName?: string; batch: number; keepProblems: number; keep?: KeepRows };
const post = (m: WorkerMessage<SettlementRow[], ParsedFileRest>): void => parentPort!.postMessage(m);
try {
  const { text, charset } = decodeSettlementFile(readFileSync(path));
  const p = new SettlementParser(fileName);
  const wanted = keptBy(keep);
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
    if (p.rowsHeld >= batch) send(p.take());
  }
  const r = p.result();
  send(r.rows);
  const { rows: _rows, problems, ...rest } = r;
  post({ answer: { ...rest, charset, rowCount, setAside, problems: problems.slice(0, keepProblems), problemCount: problems.length, sample: text.slice(0, 120) } });
} catch (err) {
  post({ answer: { error: `${(err as NodeJS.ErrnoException).code ?? 'ERR'}: ${(err as Error).message}` } });
}
