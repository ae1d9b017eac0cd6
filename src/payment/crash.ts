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

/**
 * A crash point reading `spec()` (KIOSK_CRASH_AT) once, at its first use, and calling `kill` the n-th time the
 * named step is reached (n from `<step>:<n>`, 1 when absent or not a whole number ≥ 1). Tests give their own kill.
 */
export function crashPoints(spec: () => string | undefined, kill: () => void): (step: CrashStep) => void {
  let parsed: { step: string; nth: number } | null | undefined;
  const hits = new Map<string, number>();
  return (step) => {
    if (parsed === undefined) {
      const s = spec();
      if (!s) parsed = null;
      else {
        const [name, n] = s.split(':');
        parsed = { step: name!, nth: n ? Math.max(1, Number(n) || 1) : 1 };
      }
    }
    if (!parsed || parsed.step !== step) return;
    const count = (hits.get(step) ?? 0) + 1;
    hits.set(step, count);
    if (count === parsed.nth) kill();
  };
}

// The names each step passes and the environment read below are seen only where KIOSK_CRASH_AT kills the process:
// test/crash, real daemons in child processes, outside the mutation run (in-process a kill would end the test
// run). The steps' table and crashPoints() are tested in-process (test/payment/crash-points).
export const crashPoint = crashPoints(
  // Stryker disable next-line ArrowFunction: see above
  () => process.env.KIOSK_CRASH_AT,
  // The kill itself is tested by test/crash on real daemons (a child process: not seen by the mutation run).
  // Stryker disable next-line StringLiteral,ArrowFunction: killing the test process is no test
  () => process.kill(process.pid, 'SIGKILL'),
);
