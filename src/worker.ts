// One answer from a worker thread: for synchronous work (SQLite checks that read a whole file, parsing a settlement
// file) that must not hold the daemon's event loop while a customer pays. The worker posts exactly one message and
// ends (inWorker), or parts first and then its answer (inWorkerParts: each part is handled as its own event, so a
// large answer never arrives as one long deserialization on the daemon's loop).
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

/** What a worker run by inWorkerParts posts: any number of parts, then one answer. */
export type WorkerMessage<P, T> = { part: P } | { answer: T };

export function inWorkerParts<P, T>(file: URL, workerData: unknown, onPart: (part: P) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let answered = false;
    const w = new Worker(file, { workerData });
    w.on('message', (m: WorkerMessage<P, T>) => {
      if ('part' in m) {
        try {
          onPart(m.part);
        } catch (err) {
          answered = true;
          void w.terminate();
          reject(err instanceof Error ? err : new Error(String(err)));
        }
        return;
      }
      answered = true;
      resolve(m.answer);
    });
    w.once('error', (err) => {
      answered = true;
      reject(err);
    });
    w.once('exit', (code) => {
      if (!answered) reject(new Error(`worker ${file.pathname.split('/').pop() ?? ''} ended (exit ${code}) without an answer`));
    });
  });
}
