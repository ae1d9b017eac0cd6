// Scheduling of gateway calls: every call counted; background calls (recovery, reversals, refunds) through a FIFO
// semaphore (bounded concurrency), paced, and paused for everyone after a `37` (too frequent) with a backoff that
// doubles per 37 and halves per answer; backoff and jitter for retries. A call that throws is read as "may have
// been sent" and marked `threw`, so the journal records it as that call.
import type { Logger } from '../log.js';
import type { CallName, CallResult, OutcomeByCall } from '../umpay/types.js';
import { Halted, type Clock } from '../clock.js';
import type { EngineStats, Timing } from './types.js';

/** A call's result as the engine journals it: `threw` when the gateway threw instead of answering. */
export type Called<C extends CallName = CallName> = CallResult<C> & { threw?: true };

/** A FIFO counting semaphore; waiting is abortable. */
class Gate {
  private active = 0;
  private readonly waiters: Array<() => void> = [];
  constructor(private readonly size: number) {}
  async acquire(signal: AbortSignal): Promise<void> {
    if (this.active < this.size) {
      this.active++;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(go);
        // go() removes this listener, so i ≥ 0 here; and the engine's one signal aborts once, at its stop, after
        // which nothing waits for the gate (a waiter left in would only be refused as Halted).
        // Stryker disable next-line ConditionalExpression,EqualityOperator: not observable (above)
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Halted());
      };
      const go = (): void => {
        signal.removeEventListener('abort', onAbort);
        this.active++;
        resolve();
      };
      if (signal.aborted) return reject(new Halted());
      this.waiters.push(go);
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: a signal aborts once: the listener runs once either way
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }
  release(): void {
    this.active--;
    this.waiters.shift()?.();
  }
}

export class Scheduler {
  readonly stats: EngineStats = { requests: 0, inFlight: 0, maxInFlight: 0, rateLimited: 0 };
  private readonly gate: Gate;
  // Monotonic instants (clock.mono()).
  private pausedUntil = -Infinity;
  private penaltyMs = 0;
  private lastBackgroundStart = -Infinity;

  constructor(
    private readonly clock: Clock,
    private readonly timing: Timing,
    private readonly log: Logger,
    private readonly random: () => number,
    /** Aborted when the engine stops: a wait for the gate or the pace rejects with Halted. */
    private readonly signal: AbortSignal,
  ) {
    this.gate = new Gate(Math.max(1, timing.concurrency));
  }

  /**
   * Customer-path call: not gated (the customer must not wait behind recovery), but counted. A gateway
   * that throws (a bug) is read as "may have been sent" (the money-safe reading) and journaled as what it
   * was: this call, and that it threw.
   */
  async call<C extends CallName>(name: C, fn: () => Promise<CallResult<C>>): Promise<Called<C>> {
    this.stats.requests++;
    this.stats.inFlight++;
    this.stats.maxInFlight = Math.max(this.stats.maxInFlight, this.stats.inFlight);
    try {
      let res: Called<C>;
      try {
        res = await fn();
      } catch (err) {
        const cause = `gateway threw: ${(err as Error)?.message ?? String(err)}`;
        this.log.error({ event: 'gateway-threw', call: name, err }, `${name}: ${cause}`);
        // Every call's outcome union has this UNKNOWN member.
        const outcome = { kind: 'UNKNOWN', cause } as OutcomeByCall[C];
        res = { call: name, outcome, request: {}, plaintext: '', delivery: 'maybe-sent', cause, elapsedMs: 0, threw: true };
      }
      this.noteRateLimit(res);
      return res;
    } finally {
      this.stats.inFlight--;
    }
  }

  /** Background call: bounded concurrency, paced, and paused for everyone after a `37`. */
  async backgroundCall<C extends CallName>(name: C, fn: () => Promise<CallResult<C>>): Promise<Called<C>> {
    await this.gate.acquire(this.signal);
    try {
      for (;;) {
        const at = Math.max(this.pausedUntil, this.lastBackgroundStart + this.timing.minRequestIntervalMs);
        const now = this.clock.mono();
        if (at <= now) break;
        await this.clock.sleep(at - now, this.signal);
      }
      this.lastBackgroundStart = this.clock.mono();
      return await this.call(name, fn);
    } finally {
      this.gate.release();
    }
  }

  private noteRateLimit(res: CallResult): void {
    const out = res.outcome as { kind: string; rateLimited?: boolean };
    // Stryker disable next-line ConditionalExpression: only an UNKNOWN outcome has rateLimited
    if (out.kind === 'UNKNOWN' && out.rateLimited) {
      this.stats.rateLimited++;
      this.penaltyMs = Math.min(Math.max(this.penaltyMs * 2, this.timing.backoffBaseMs), this.timing.backoffMaxMs);
      this.pausedUntil = Math.max(this.pausedUntil, this.clock.mono() + this.jitter(this.penaltyMs));
    } else if (res.delivery === 'answered') {
      this.penaltyMs = Math.floor(this.penaltyMs / 2);
    }
  }

  /** base · 2^(n-1), capped, with ±50 % jitter so that kiosks (and orders) do not retry in step. */
  backoff(n: number, base: number, max: number): number {
    return this.jitter(Math.min(base * 2 ** Math.min(n - 1, 30), max));
  }

  jitter(ms: number): number {
    return Math.round(ms * (0.5 + this.random()));
  }
}
