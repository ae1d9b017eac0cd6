// The offline drills' invariants: the crash harness's money checks (test/crash/harness.ts), plus what an
// outage must never do.
import { checkInvariants } from '../crash/harness.js';
import type { World } from './world.js';

export interface OfflineVerdict {
  problems: string[];
  byState: Record<string, number>;
}

const REVERSING_CALLS = new Set(['cancelOrder', 'closeOrder', 'refund', 'refundQuery']);

export function offlineInvariants(w: World, codeValidityMs: number): OfflineVerdict {
  w.journal.db.pragma('wal_checkpoint(PASSIVE)');
  const base = checkInvariants(w.journal.file, w.sandbox.ledger(), w.device);
  const problems = [...base.problems];
  const orders = w.journal.list();
  const sends = w.sent.filter((s) => !s.probe);
  for (const o of orders) {
    const mine = sends.filter((s) => s.orderNo === o.orderNo || s.orderNo === `${o.orderNo}R1`);
    const micropays = mine.filter((s) => s.call === 'micropay');
    // No order sent after its code's validity window.
    for (const m of micropays) if (m.at > o.scannedAt + codeValidityMs) problems.push(`${o.orderNo}: micropay sent ${m.at - o.scannedAt} ms after the scan (validity ${codeValidityMs} ms)`);
    // The same order every time (one orderNo per scan is given by construction; the orderTime is checked by the
    // sandbox: different fields → 16).
    const provablyUnsent = micropays.length > 0 && micropays.every((m) => m.delivery === 'not-sent');
    const events = w.journal.events(o.orderNo).map((e) => e.to);
    if (provablyUnsent) {
      if (o.state !== 'failed-not-sent') problems.push(`${o.orderNo}: every send provably never left, but the order is ${o.state}`);
      if (mine.some((s) => REVERSING_CALLS.has(s.call))) problems.push(`${o.orderNo}: provably unsent, yet ${mine.find((s) => REVERSING_CALLS.has(s.call))!.call} was sent`);
      if (events.includes('reversing') || events.includes('refunding')) problems.push(`${o.orderNo}: provably unsent, yet the journal went ${events.join(' → ')}`);
    }
    if (o.state === 'failed-not-sent' && !provablyUnsent) problems.push(`${o.orderNo}: failed-not-sent although a send may have arrived`);
    if (o.state === 'attention') problems.push(`${o.orderNo}: in attention after the outage`);
  }
  problems.push(...w.disagreements);
  // Link changes chain (each from = the previous to) and never repeat a state.
  for (let i = 1; i < w.changes.length; i++) {
    if (w.changes[i]!.from !== w.changes[i - 1]!.to) problems.push(`link change ${i} starts from ${w.changes[i]!.from}, previous ended ${w.changes[i - 1]!.to}`);
  }
  for (const c of w.changes) if (c.from === c.to) problems.push(`link "change" ${c.from} → ${c.to}`);
  return { problems, byState: base.byState };
}
