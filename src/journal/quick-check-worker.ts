// PRAGMA quick_check on a read-only connection of its own, in a worker thread (reader.ts quickCheckOffThread): it
// reads the whole journal, which on the daemon's event loop would hold a customer's payment meanwhile.
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { quickCheckOf } from './reader.js';

const { path } = workerData as { path: string };
let answer: string;
try {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    answer = quickCheckOf(db);
  } finally {
    db.close();
  }
} catch (err) {
  answer = `could not check: ${(err as Error).message}`;
}
parentPort!.postMessage(answer);
