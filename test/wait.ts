// Waiting in tests: bounded polling, for conditions nothing signals (a file appearing, a port accepting, a
// state in another process's database or in pm2's list; where an event exists, wait for the event instead),
// and the helper processes a test starts (socat, mosquitto): failing at once when one dies, stopping them.
import type { ChildProcess } from 'node:child_process';

/**
 * How much slower than this machine the tests run: 1 here; `npm run test:pi` sets KIOSK_TEST_SLOWDOWN for the
 * emulated CPU (about 15×, more under load). Hang bounds and test timeouts are multiplied by it, never the
 * durations a test checks.
 */
export const SLOWDOWN = Math.max(1, Number(process.env.KIOSK_TEST_SLOWDOWN) || 1);
export const bound = (ms: number): number => ms * SLOWDOWN;

export interface UntilOptions {
  /** Fail after this long (default 20 s). */
  deadlineMs?: number;
  /** Pause between checks (default 50 ms). */
  everyMs?: number;
  /** Rejects when waiting is pointless (the process that should get there has exited): fails at once. */
  abort?: Promise<unknown>;
  /** Added to the timeout error (e.g. the process's stderr). */
  detail?: () => string;
}

/** Calls `check` until it returns a value other than undefined (false counts as a value), and returns it. */
export async function until<T>(what: string, check: () => T | undefined | Promise<T | undefined>, o: UntilOptions = {}): Promise<T> {
  const deadlineMs = bound(o.deadlineMs ?? 20_000);
  const end = Date.now() + deadlineMs;
  const abort = o.abort?.then(() => {
    throw new Error(`gave up waiting for ${what}${o.detail ? `: ${o.detail()}` : ''}`);
  });
  abort?.catch(() => {}); // rejected only ever matters while racing below
  for (;;) {
    const v = await (abort ? Promise.race([check(), abort]) : check());
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}${o.detail ? `: ${o.detail()}` : ''}`);
    const pause = new Promise((r) => setTimeout(r, o.everyMs ?? 50));
    await (abort ? Promise.race([pause, abort]) : pause);
  }
}

/** Rejects when `proc` exits: pass it as `until`'s abort, so a helper process that died fails the wait at once. */
export function exitOf(proc: ChildProcess, what: string, detail: () => string = () => ''): Promise<never> {
  return new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`${what} exited (${code})${detail() ? `: ${detail()}` : ''}`))));
}

/** SIGTERM, resolved once it has exited; nothing to do when it is not running. */
export async function terminate(proc: ChildProcess | null): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await gone;
}
