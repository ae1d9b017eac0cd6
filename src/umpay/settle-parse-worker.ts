// A downloaded settlement file read, decoded and parsed in a worker thread (parseSettlementFile in settle-parse.ts):
// a provider's file is tens of megabytes, and on the daemon's event loop its reading held a paying customer for up
// to a second. Rows go to the daemon in batches (each its own event there), then the rest of the result. What it
// does is parseSettlementParts (settle-parse.ts), which the tests also run in-process; with `keep`, only the rows it
// names go (other terminals' rows, nearly all of a provider's file, are counted there and never reach the daemon).
import { parentPort, workerData } from 'node:worker_threads';
import { parseSettlementParts } from './settle-parse.js';

// Stryker cannot switch mutants on in a worker thread; settle-parse-parts.test.ts checks what this posts.
// Stryker disable next-line ArrowFunction: runs only in a worker thread (above)
parseSettlementParts(workerData as Parameters<typeof parseSettlementParts>[0], (m) => parentPort!.postMessage(m));
