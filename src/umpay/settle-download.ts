// The settlement file's download (`GET /pay/downloadSettleFile`): signed like a call, streamed to a new file of
// ours on disk, giving way to a customer's payment while it runs. HttpGateway.downloadSettleFile (client.ts) calls it.
import http from 'node:http';
import https from 'node:https';
import { randomBytes, type KeyObject } from 'node:crypto';
import { closeSync, existsSync, fsync, lstatSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import fetch from 'node-fetch';
import { wireText, type WireValue } from './canonical.js';
import { parseWireJson } from './json.js';
import { signRequest, verifyResponse } from './signature.js';
import { CharsetSniffer, type SettlementCharset } from './settle-charset.js';
import { makeDirs } from '../dirs.js';

/** What `downloadSettleFile` got. */
export type SettleDownload =
  /** The file, on disk at `path` (mode 0600), with its charset as the bytes show it. */
  | { kind: 'file'; path: string; bytes: number; charset: SettlementCharset; httpStatus: number; plaintext: string; elapsedMs: number }
  /**
   * A JSON answer instead of a file (e.g. no file for that day, a refused signature): reported as the platform said it.
   */
  | { kind: 'answer'; respCode: string; respMsg: string; signatureValid: boolean; raw: string; httpStatus: number; plaintext: string; elapsedMs: number }
  /** No file and no answer: transport error, HTTP error page, too large, cut short. */
  | { kind: 'failed'; cause: string; httpStatus?: number; raw?: string; plaintext: string; elapsedMs: number };

export interface SettleDownloadOptions {
  /** Default 64 MiB. */
  maxBytes?: number;
  /** Default the gateway's timeoutMs, at least 60 s. */
  timeoutMs?: number;
  /** Awaited before each chunk is written (the daemon: until no customer is paying). */
  pause?: () => Promise<void>;
}

/** What the download needs of the gateway's settings. */
export interface SettleGateway {
  /** The gateway's base URL, without a trailing slash. */
  base: string;
  acqSpId: string;
  privateKey: KeyObject;
  platformKey: KeyObject;
  timeoutMs: number;
  /** https: the gateway's CA (PEM), as HttpGateway's. */
  ca?: string | Buffer;
}

class TooLarge extends Error {}

/** A partial download's name as downloadSettleFile makes it: `.<acqSpId>_<yyyyMMdd>.<pid>.<8 hex>.part`. */
const PART = /^\.[A-Za-z0-9]+_[0-9]{8}\.([0-9]+)\.[0-9a-f]{8}\.part$/;

/** A download never runs longer than this (its time limit is minutes): an older partial file is nobody's. */
const PART_MAX_AGE_MS = 24 * 3600_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes the partial downloads a killed process left in `dir` (kill -9 or a power cut mid-download: up to the size
 * cap each, on the journal's filesystem). Only files named as downloadSettleFile names them, regular files (never a
 * link), whose process is gone, or older than a day (a process id used again), or of this process's id but older
 * than this process (an earlier boot's). Returns the names removed.
 */
export function removeStaleParts(dir: string, now = Date.now()): string[] {
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = PART.exec(name);
    // Stryker disable next-line ConditionalExpression: equivalent, m[1] below throws into the catch: left alone
    if (!m) continue;
    const file = join(dir, name);
    try {
      const st = lstatSync(file);
      if (!st.isFile()) continue;
      const pid = Number(m[1]);
      // This process's since it started (a download running now), or a live process's (kiosk settle --fetch
      // beside the daemon): kept. The same pid before this process started is an earlier boot's.
      // Stryker disable next-line EqualityOperator: equivalent, the very millisecond is not observable
      const mine = pid === process.pid && st.mtimeMs >= now - process.uptime() * 1000 - 1000;
      if (mine || (pid !== process.pid && alive(pid) && now - st.mtimeMs < PART_MAX_AGE_MS)) continue;
      unlinkSync(file);
      removed.push(name);
    } catch {
      // gone meanwhile, or not ours to remove: left alone
    }
  }
  return removed;
}

/**
 * `GET /pay/downloadSettleFile` for `stlDate` (yyyyMMdd), signed like any request (acqSpId, stlDate), streamed to
 * a new file in `dir` named as the platform names it (`<acqSpId>_<yyyyMMdd>.csv`; `.1.csv`, `.2.csv`… when that
 * name is taken: a file we did not write is never replaced). At most `maxBytes` (default 64 MiB) are kept: past
 * it the partial file is removed and the download fails. Partial files a killed download left are removed first
 * (removeStaleParts). Uses its own connection, never one a payment waits for.
 * Never throws for the network or the answer.
 */
export async function downloadSettleFile(gw: SettleGateway, stlDate: string, dir: string, opts: SettleDownloadOptions = {}): Promise<SettleDownload> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  if (!/^[0-9]{8}$/.test(stlDate)) throw new RangeError(`stlDate ${JSON.stringify(stlDate)}: must be yyyyMMdd`);
  removeStaleParts(dir);
  const fields = { acqSpId: gw.acqSpId, stlDate };
  const { plaintext, signature } = signRequest(fields, gw.privateKey);
  const url = `${gw.base}/pay/downloadSettleFile?acqSpId=${encodeURIComponent(fields.acqSpId)}&stlDate=${stlDate}&signature=${encodeURIComponent(signature)}`;
  const maxBytes = opts.maxBytes ?? 64 * 1024 * 1024;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs ?? Math.max(60_000, gw.timeoutMs));
  // One request, then destroyed (finally below): whether it keeps the connection alive changes nothing.
  // Stryker disable next-line BooleanLiteral,ObjectLiteral: equivalent (above)
  const agent = new URL(gw.base).protocol === 'https:' ? new https.Agent({ keepAlive: false, ...(gw.ca ? { ca: gw.ca } : {}) }) : new http.Agent({ keepAlive: false });
  let part: string | undefined;
  let status: number | undefined;
  try {
    // Stryker disable next-line StringLiteral: fetch's default method is GET (the redirect mode is tested)
    const res = await fetch(url, { method: 'GET', agent, signal: controller.signal, compress: false, redirect: 'manual', headers: { Accept: 'text/csv, application/json' } });
    status = res.status;
    const body = res.body as unknown as AsyncIterable<Buffer> & { destroy?: () => void };
    const typeHeader = res.headers.get('content-type');
    // Stryker disable next-line StringLiteral: no type and a type without "json" in it are the same (not JSON)
    const type = typeHeader ?? '';
    const iterator = body[Symbol.asyncIterator]();
    const first = await iterator.next();
    const head: Buffer = first.done ? Buffer.alloc(0) : (first.value);
    const looksJson = /json/i.test(type) || head.toString('latin1').trimStart().startsWith('{');
    // fetch answers a final status, never 1xx: `status < 200` never holds (kept for the reader).
    // Stryker disable next-line ConditionalExpression: equivalent (above)
    if (status < 200 || status > 299 || looksJson) {
      // The first 64 KiB of it, exactly (a page that never ends too).
      const chunks = [head];
      let size = head.length;
      // Stryker disable next-line EqualityOperator: equivalent, one chunk more is read, then cut off below
      while (size < 65536) {
        const n = await iterator.next();
        if (n.done) break;
        chunks.push(n.value);
        size += n.value.length;
      }
      // Stryker disable next-line OptionalChaining: equivalent, fetch's body is a stream: it has destroy
      body.destroy?.();
      const raw = Buffer.concat(chunks).subarray(0, 65536).toString('utf8');
      // Stryker disable next-line ConditionalExpression: equivalent, never 1xx (above)
      if (status < 200 || status > 299) return { kind: 'failed', cause: `HTTP ${status}: ${raw.slice(0, 80).replace(/\s+/g, ' ')}`, httpStatus: status, raw, plaintext, elapsedMs: elapsed() };
      let answer: Record<string, WireValue> | undefined;
      try {
        const v = parseWireJson(raw);
        if (v && typeof v === 'object' && !Array.isArray(v)) answer = v as Record<string, WireValue>;
      } catch {
        // not JSON: answer stays undefined
      }
      if (!answer) return { kind: 'failed', cause: `answer is neither a file nor a JSON object: ${raw.slice(0, 80)}`, httpStatus: status, raw, plaintext, elapsedMs: elapsed() };
      const signatureValid = verifyResponse(answer, gw.platformKey).valid;
      return { kind: 'answer', respCode: wireText(answer.respCode ?? ''), respMsg: wireText(answer.respMsg ?? ''), signatureValid, raw, httpStatus: status, plaintext, elapsedMs: elapsed() };
    }
    makeDirs(dir, 0o700);
    part = join(dir, `.${gw.acqSpId}_${stlDate}.${process.pid}.${randomBytes(4).toString('hex')}.part`);
    const fd = openSync(part, 'wx', 0o600);
    let bytes = 0;
    // The charset a chunk at a time: the whole file (tens of megabytes) is never in one step on the event loop.
    const sniffer = new CharsetSniffer();
    try {
      for (let n: IteratorResult<Buffer> = { done: false, value: head }; !n.done; n = await iterator.next()) {
        const chunk = n.value;
        bytes += chunk.length;
        if (bytes > maxBytes) {
          // Stryker disable next-line OptionalChaining: equivalent, fetch's body is a stream: it has destroy
          body.destroy?.();
          throw new TooLarge(`settlement file larger than ${maxBytes} bytes`);
        }
        // Someone else goes first (the daemon: a customer's payment): no disk write meanwhile, and the body is not
        // read, so TCP holds the sender back and the link is the payment's. The time limit still runs.
        if (opts.pause) await opts.pause();
        writeSync(fd, chunk);
        sniffer.push(chunk);
      }
      if (opts.pause) await opts.pause();
      // Off the event loop: a file of megabytes takes a while to reach an SD card.
      await new Promise<void>((resolve, reject) => fsync(fd, (err) => (err ? reject(err) : resolve())));
    } finally {
      closeSync(fd);
    }
    const declared = Number(res.headers.get('content-length') ?? NaN);
    // Node's HTTP parser already fails a body shorter than its length ('a file cut short'), and never reads past it.
    // Stryker disable next-line ConditionalExpression,StringLiteral: equivalent, a second guard (above)
    if (Number.isFinite(declared) && declared !== bytes) throw new Error(`cut short: ${bytes} of ${declared} bytes`);
    const { charset } = sniffer;
    let path = join(dir, `${gw.acqSpId}_${stlDate}.csv`);
    for (let i = 1; existsSync(path); i++) path = join(dir, `${gw.acqSpId}_${stlDate}.${i}.csv`);
    renameSync(part, path);
    part = undefined;
    return { kind: 'file', path, bytes, charset, httpStatus: status, plaintext, elapsedMs: elapsed() };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Stryker disable next-line StringLiteral: equivalent, fetch's, fs's and makeDirs' errors all have a code
    const cause = controller.signal.aborted ? 'no complete file within the time limit' : err instanceof TooLarge ? err.message : `${e.code ?? 'ERR'}: ${e.message}`;
    const out: SettleDownload = { kind: 'failed', cause, plaintext, elapsedMs: elapsed() };
    if (status !== undefined) out.httpStatus = status;
    return out;
  } finally {
    clearTimeout(timer);
    agent.destroy();
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, part exists here (made with 'wx' above)
    if (part) rmSync(part, { force: true }); // ours: created above with 'wx'
  }
}
