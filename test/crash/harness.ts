// Crash harness: runs the engine in a child process against a sandbox, kills it (at a named step or at a
// random instant), restarts it until everything is final, then checks the money against the sandbox ledger.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { seededRandom, type Sandbox } from '../../src/sandbox/index.js';
import type { LedgerSnapshot } from '../../src/sandbox/ledger.js';

const DRIVER = join(dirname(fileURLToPath(import.meta.url)), 'driver.js');

/** Fast timings so a whole scenario takes milliseconds (the logic is the same as with seconds). */
export const CRASH_TIMING = {
  customerWindowMs: 300,
  queryIntervalMs: 40,
  codeValidityMs: 250,
  notSentRetryMs: 20,
  backoffBaseMs: 10,
  backoffMaxMs: 200,
  effortAttempts: 40,
  attentionRetryMs: 200,
  concurrency: 4,
  minRequestIntervalMs: 0,
};

export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface DriverOptions {
  db: string;
  device: string;
  codes?: string[];
  crashAt?: string;
  /** SIGKILL from outside this many ms after the engine said it is ready (a random instant). */
  killAfterMs?: number;
  deliverFails?: boolean;
  /** A vend sensor reports each drop (journaled as evidence). */
  deliverSensed?: boolean;
  /** MDB: the payment is for a product, and the vend approval is journaled during delivery. */
  deliverApproved?: boolean;
  /** Give up (and fail) after this long. */
  timeoutMs?: number;
  timing?: Record<string, number>;
}

export function runDriver(sandbox: Sandbox, merchantKey: string, o: DriverOptions): Promise<ChildRun> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [DRIVER], {
      env: {
        PATH: process.env.PATH,
        CRASH_DB: o.db,
        CRASH_BASE_URL: sandbox.baseUrl,
        CRASH_MERCHANT_KEY: merchantKey,
        CRASH_PLATFORM_CERT: sandbox.platformCertPath,
        CRASH_DEVICE: o.device,
        CRASH_CODES: (o.codes ?? []).join(','),
        CRASH_TIMING: JSON.stringify(o.timing ?? CRASH_TIMING),
        ...(o.crashAt ? { KIOSK_CRASH_AT: o.crashAt } : {}),
        ...(o.deliverFails ? { CRASH_DELIVER_FAIL: '1' } : {}),
        ...(o.deliverSensed ? { CRASH_DELIVER_SENSED: '1' } : {}),
        ...(o.deliverApproved ? { CRASH_DELIVER_APPROVED: '1' } : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (o.killAfterMs !== undefined && !killer && stdout.includes('ready\n')) killer = setTimeout(() => child.kill('SIGKILL'), o.killAfterMs);
    });
    child.stderr.on('data', (d) => (stderr += d));
    const guard = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`driver did not finish within ${o.timeoutMs ?? 20000} ms\n${stderr}`));
    }, o.timeoutMs ?? 20000);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Restarts the driver (no new codes) until it exits by itself with 0: recovery finished everything. */
export async function recoverFully(sandbox: Sandbox, merchantKey: string, db: string, device: string): Promise<ChildRun> {
  const r = await runDriver(sandbox, merchantKey, { db, device, timeoutMs: 30000 });
  if (r.code !== 0) throw new Error(`recovery run failed (code ${r.code}, signal ${r.signal}): ${r.stderr}`);
  return r;
}

export interface Verdict {
  problems: string[];
  orders: number;
  byState: Record<string, number>;
}

/**
 * The invariants: no order charged twice; every order charged in the ledger is delivered (money kept),
 * reversed or refunded (money returned) in the journal; nothing delivered that the ledger did not charge;
 * no journal order non-final; the journal passes integrity_check; no payment code left in it.
 */
export function checkInvariants(dbFile: string, ledger: LedgerSnapshot, device: string, opts: { outbox?: boolean } = {}): Verdict {
  const db = new Database(dbFile, { readonly: true });
  const problems: string[] = [];
  try {
    const integrity = (db.pragma('integrity_check') as { integrity_check: string }[]).map((r) => r.integrity_check).join(';');
    if (integrity !== 'ok') problems.push(`integrity_check: ${integrity}`);
    const rows = db.prepare('SELECT order_no AS orderNo, state, final, auth_code AS authCode, txn_amt AS txnAmt FROM orders').all() as { orderNo: string; state: string; final: number; authCode: string | null; txnAmt: string }[];
    const journal = new Map(rows.map((r) => [r.orderNo, r]));
    const byState: Record<string, number> = {};
    for (const r of rows) {
      byState[r.state] = (byState[r.state] ?? 0) + 1;
      if (!r.final) problems.push(`${r.orderNo}: left ${r.state}`);
      if (r.authCode !== null && r.final) problems.push(`${r.orderNo}: payment code kept after final`);
    }
    for (const l of ledger.orders.filter((x) => x.orderNo.startsWith(device))) {
      const j = journal.get(l.orderNo);
      if (l.charged > 1) problems.push(`${l.orderNo}: charged ${l.charged} times`);
      if (!j) {
        problems.push(`${l.orderNo}: in the ledger (${l.state}) but not in the journal`);
        continue;
      }
      if (l.charged === 1) {
        if (j.state === 'delivered') {
          if (l.netFen !== l.txnAmt) problems.push(`${l.orderNo}: delivered but ledger net ${l.netFen} of ${l.txnAmt}`);
        } else if (j.state === 'reversed' || j.state === 'refunded') {
          if (l.netFen !== 0) problems.push(`${l.orderNo}: ${j.state} in the journal but the customer is still out ${l.netFen} fen`);
        } else problems.push(`${l.orderNo}: charged, journal says ${j.state}`);
      } else if (j.state === 'delivered' || j.state === 'refunded') {
        problems.push(`${l.orderNo}: journal ${j.state} but never charged`);
      }
      if (j.state === 'failed-not-sent') problems.push(`${l.orderNo}: failed-not-sent but the platform received it`);
    }
    for (const r of rows) {
      if (r.state === 'delivered' && !ledger.orders.some((l) => l.orderNo === r.orderNo && l.charged === 1)) problems.push(`${r.orderNo}: delivered without a charge`);
    }
    if (opts.outbox) checkOutbox(db, journal, rows, problems);
    return { problems, orders: rows.length, byState };
  } finally {
    db.close();
  }
}

/**
 * The fleet outbox (the driver captures order events): exactly one `order` event per final order, with its
 * final state, and none for an order the journal does not hold in that state: nothing lost, nothing invented.
 */
function checkOutbox(db: Database.Database, journal: Map<string, { state: string }>, rows: { orderNo: string; state: string; final: number }[], problems: string[]): void {
  {
    const events = db.prepare(`SELECT id, data FROM outbox WHERE type = 'order' ORDER BY seq`).all() as { id: string; data: string }[];
    const seen = new Map<string, number>();
    for (const e of events) {
      const d = JSON.parse(e.data) as { orderNo: string; state: string };
      seen.set(d.orderNo, (seen.get(d.orderNo) ?? 0) + 1);
      const j = journal.get(d.orderNo);
      if (!j || j.state !== d.state) problems.push(`outbox: event says ${d.orderNo} ${d.state}, the journal says ${j?.state ?? 'no such order'}`);
    }
    for (const r of rows) if (r.final && seen.get(r.orderNo) !== 1) problems.push(`outbox: ${r.orderNo} (${r.state}) has ${seen.get(r.orderNo) ?? 0} order events`);
    if (new Set(events.map((e) => e.id)).size !== events.length) problems.push('outbox: an event id repeats');
  }
}

/** Deterministic, so a failing random run can be replayed with its seed. */
export const rng = seededRandom;

export interface RandomRunOptions {
  kills: number;
  seed: number;
  dir: string;
  /** Independent journals (devices) killed in parallel, to use both cores. */
  lanes?: number;
  /** Codes paid per child before it is killed. */
  codesPerChild?: number;
  maxKillMs?: number;
  onProgress?: (done: number) => void;
}

export interface RandomRunResult {
  kills: number;
  killedMidWork: number;
  children: number;
  ms: number;
  msPerCycle: number;
  verdicts: Verdict[];
}

/** Kills children at random instants while they pay and recover; then recovers each lane fully and checks it. */
export async function randomRun(sandbox: Sandbox, merchantKey: string, o: RandomRunOptions, makeCode: (r: () => number, nonce: number) => string): Promise<RandomRunResult> {
  const lanes = Math.max(1, o.lanes ?? 2);
  const started = Date.now();
  let done = 0;
  let killedMidWork = 0;
  let children = 0;
  let nonce = Math.floor(o.seed * 1000);
  const verdicts: Verdict[] = [];
  await Promise.all(
    Array.from({ length: lanes }, async (_, lane) => {
      const r = rng(o.seed * 31 + lane);
      const device = `R${o.seed}L${lane}`;
      const db = join(o.dir, `${device}.db`);
      const mine = Math.floor(o.kills / lanes) + (lane < o.kills % lanes ? 1 : 0);
      for (let k = 0; k < mine; k++) {
        const codes = Array.from({ length: o.codesPerChild ?? 2 }, () => makeCode(r, nonce++));
        const run = await runDriver(sandbox, merchantKey, { db, device, codes, killAfterMs: Math.floor(r() * (o.maxKillMs ?? 60)), timeoutMs: 30000 });
        children++;
        if (run.signal === 'SIGKILL') killedMidWork++;
        else if (run.code !== 0) throw new Error(`driver failed (code ${run.code}): ${run.stderr}`);
        done++;
        o.onProgress?.(done);
      }
      await recoverFully(sandbox, merchantKey, db, device);
      children++;
      verdicts.push(checkInvariants(db, sandbox.ledger(), device, { outbox: true }));
    }),
  );
  const ms = Date.now() - started;
  return { kills: done, killedMidWork, children, ms, msPerCycle: ms / Math.max(1, done), verdicts };
}
