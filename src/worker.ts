// One answer from a worker thread: for synchronous work (SQLite checks that read a whole file) that must not hold
// the daemon's event loop while a customer pays. The worker posts exactly one message and ends.
import { Worker } from 'node:worker_threads';

export function inWorker<T>(file: URL, workerData: unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    const w = new Worker(file, { workerData });
    w.once('message', (m: T) => {
      answered = true;
      resolve(m);
    });
    w.once('error', reject);
    w.once('exit', (code) => {
      if (!answered) reject(new Error(`worker ${file.pathname.split('/').pop() ?? ''} ended (exit ${code}) without an answer`));
    });
  });
}
