// PRAGMA quick_check on a read-only connection of its own, in a worker thread (reader.ts quickCheckOffThread): it
// reads the whole journal, which on the daemon's event loop would hold a customer's payment meanwhile. The check
// itself is reader.ts quickCheckFile (tested in-process).
import { parentPort, workerData } from 'node:worker_threads';
import { quickCheckFile } from './reader.js';

const { path } = workerData as { path: string };
parentPort!.postMessage(quickCheckFile(path));
