// Crash injection for the crash harness (test/crash/): KIOSK_CRASH_AT=<step> or <step>:<n> (the n-th time
// that step is reached) makes the process SIGKILL itself there, as a power cut would. Unset in production.
export const CRASH_STEPS = [
  'after-journal-before-send',
  'after-send-before-answer-recorded',
  'between-answer-and-approve',
  'after-approve-before-delivered',
  'after-vend-sensed',
  'after-vend-approved',
  'mid-reversal',
  'mid-refund',
  'mid-refund-query',
] as const;
export type CrashStep = (typeof CRASH_STEPS)[number];

let parsed: { step: string; nth: number } | null | undefined;
const hits = new Map<string, number>();

export function crashPoint(step: CrashStep): void {
  if (parsed === undefined) {
    const spec = process.env.KIOSK_CRASH_AT;
    if (!spec) parsed = null;
    else {
      const [s, n] = spec.split(':');
      parsed = { step: s!, nth: n ? Math.max(1, Number(n) || 1) : 1 };
    }
  }
  if (!parsed || parsed.step !== step) return;
  const count = (hits.get(step) ?? 0) + 1;
  hits.set(step, count);
  if (count === parsed.nth) process.kill(process.pid, 'SIGKILL');
}
