// Is the payment platform reachable? The link monitor keeps a liveness check of the gateway and folds in the
// results of real calls, so it only probes when nothing else has said anything lately. Most probes are a bare
// reachability check (`reach`: a TCP connect to the gateway's host and port, no request at all); a signed
// queryOrder (any answer whose signature verifies, even "no such order", proves the whole path works) is kept
// for the first probe, once per `signedProbeMs` (an hour) and the first probe after a real call failed, so an
// idle kiosk makes 24 trade calls a day, not 2,880 (docs/payments.md).
// States with hysteresis: one failure makes `online` → `degraded`, a few in a row → `offline`; coming back
// takes a few successes in a row. Each change is emitted (and logged) once, never once per probe.
// LinkGateway (link-gateway.ts) puts the monitor in front of the engine's gateway.
// A little over 350 lines: the states, the probe loop and the waits on them are one state machine.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { CallResult } from '../umpay/types.js';
import { Halted, systemClock, type Clock } from '../clock.js';

export type LinkState = 'online' | 'degraded' | 'offline';
export const LINK_STATES: readonly LinkState[] = ['online', 'degraded', 'offline'];

export interface LinkChange {
  from: LinkState;
  to: LinkState;
  /** Wall-clock ms since the epoch (for people; intervals are measured on the monotonic clock). */
  at: number;
  /** The evidence that tipped it (e.g. "probe: ECONNREFUSED", "cancelOrder answered"). */
  cause: string;
}

export interface LinkTiming {
  /** Probe pace while online and nothing else proved the link (real calls postpone the probe). */
  onlineProbeMs: number;
  /** Probe pace while degraded (deciding quickly which way it goes). */
  degradedProbeMs: number;
  /** Probe pace while offline. */
  offlineProbeMs: number;
  /** Consecutive failures (burst-coalesced) that make the link offline. */
  failuresToOffline: number;
  /** Consecutive successes (burst-coalesced) that make it online again. */
  successesToOnline: number;
  /** Evidence of the same kind within this time of the last counted one is one observation (a burst of
   *  four refused reversals is one fact, not four). */
  coalesceMs: number;
  /** When `reach` is given: at most this long between signed probes (the others only reach the gateway). */
  signedProbeMs: number;
}

export const DEFAULT_LINK_TIMING: LinkTiming = {
  onlineProbeMs: 30_000,
  degradedProbeMs: 5_000,
  offlineProbeMs: 5_000,
  failuresToOffline: 3,
  successesToOnline: 2,
  coalesceMs: 1_000,
  signedProbeMs: 3_600_000,
};

export interface LinkMonitorOptions {
  /** The signed liveness check: one call (the daemon: queryOrder of the last known order). */
  probe: () => Promise<CallResult>;
  /**
   * The cheap check that loads nothing at the platform (the daemon: a TCP connect to the gateway). Absent:
   * every probe is the signed one.
   */
  reach?: () => Promise<{ ok: boolean; cause: string }>;
  clock?: Clock;
  log?: Logger;
  timing?: Partial<LinkTiming>;
  /**
   * Assumed until the first evidence. Default 'online' (the kiosk is usable at once; the first probe runs at start).
   */
  initial?: LinkState;
}

export interface LinkSnapshot {
  state: LinkState;
  /** ISO time of the last change (or of start). */
  since: string;
  lastOkAt: string | null;
  lastFailureAt: string | null;
  lastFailure: string | null;
  probes: number;
  /** Of `probes`, how many were signed calls to the platform (the rest only reached it). */
  signedProbes: number;
  changes: number;
}

/**
 * Whether a call result proves the link. Proven: an answer whose signature verified (whatever it says,
 * a rate-limit `37` included). Against: no connection, no answer, an HTTP error page, a body that does
 * not parse or verify. A gateway that does not report signatures (a test double) counts an answered,
 * classified outcome as proof.
 */
export function linkEvidence(res: CallResult): { ok: boolean; cause: string } {
  const out = res.outcome as { kind: string; rateLimited?: boolean; cause?: string; code?: string };
  if (res.delivery === 'answered' && res.signatureValid === true) return { ok: true, cause: `${res.call} answered (signed)` };
  if (res.delivery === 'answered' && res.signatureValid === undefined && (out.kind !== 'UNKNOWN' || out.rateLimited)) return { ok: true, cause: `${res.call} answered` };
  const why = res.cause ?? out.cause ?? (res.httpStatus !== undefined ? `HTTP ${res.httpStatus}` : 'no verified answer');
  return { ok: false, cause: `${res.call}: ${res.signatureValid === false ? 'signature does not verify' : why} (${res.delivery})` };
}

/**
 * Events: 'change' (LinkChange) once per state change; 'evidence' ({ok, cause, source}) for every
 * observation (tests, the demo panel).
 */
export class LinkMonitor extends EventEmitter {
  readonly timing: LinkTiming;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly probeFn: () => Promise<CallResult>;
  private readonly reachFn: (() => Promise<{ ok: boolean; cause: string }>) | undefined;
  private lastSignedAt = -Infinity;
  /** A real call failed since the last signed probe: the next probe is signed. */
  // Stryker disable next-line BooleanLiteral: the first probe is signed anyway (lastSignedAt -Infinity) and clears it
  private signedDue = false;
  private signedProbes = 0;
  private st: LinkState;
  /** The last change: wall clock for people, monotonic for how long the state held. */
  private sinceMs: number;
  private sinceMono: number;
  private failures = 0;
  private successes = 0;
  private lastCountedFail = -Infinity;
  private lastCountedOk = -Infinity;
  // Monotonic instants (arithmetic); lastOkAt/lastFailureAt are wall clock (shown to people).
  // Stryker disable next-line UnaryOperator: read only after the first probe (the loop's `first`), which sets it
  private lastEvidenceAt = -Infinity;
  private lastOkAt: number | null = null;
  private lastFailureAt: number | null = null;
  private lastFailure: string | null = null;
  private probes = 0;
  private changes = 0;
  private running = false;
  private probing: Promise<void> | null = null;
  private nap: AbortController | null = null;
  private loopDone: Promise<void> | null = null;

  constructor(opts: LinkMonitorOptions) {
    super();
    this.timing = { ...DEFAULT_LINK_TIMING, ...opts.timing };
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.probeFn = opts.probe;
    this.reachFn = opts.reach;
    this.st = opts.initial ?? 'online';
    this.sinceMs = this.clock.wall();
    this.sinceMono = this.clock.mono();
  }

  get state(): LinkState {
    return this.st;
  }

  get offline(): boolean {
    return this.st === 'offline';
  }

  /** Wall-clock ms since the epoch of the last change. */
  get since(): number {
    return this.sinceMs;
  }

  snapshot(): LinkSnapshot {
    const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());
    return {
      state: this.st,
      since: new Date(this.sinceMs).toISOString(),
      lastOkAt: iso(this.lastOkAt),
      lastFailureAt: iso(this.lastFailureAt),
      lastFailure: this.lastFailure,
      probes: this.probes,
      signedProbes: this.signedProbes,
      changes: this.changes,
    };
  }

  /** Starts probing: the first probe at once, then at the pace of the state. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /**
   * Stops probing. Does not wait for a probe in flight (it can take the gateway's whole timeout when the
   * link is a black hole, and shutdown has a grace time); its result is still recorded when it comes.
   */
  async stop(): Promise<void> {
    this.running = false;
    this.nap?.abort();
    // The loop only sleeps or probes: its aborted sleep ends it at the next `while (this.running)` with nothing
    // done, so waiting for that changes nothing anyone sees.
    // Stryker disable next-line ConditionalExpression: waiting for the loop's end is not observable (above)
    if (!this.probing) await this.loopDone;
  }

  /** Passive evidence from a real call (LinkGateway feeds every result here). */
  record(res: CallResult, source = 'call'): void {
    const e = linkEvidence(res);
    if (!e.ok && source !== 'probe') this.signedDue = true;
    this.observe(e.ok, e.cause, source);
  }

  /** One observation: the link worked (`ok`) or did not, and why. */
  observe(ok: boolean, cause: string, source = 'call'): void {
    const now = this.clock.mono();
    this.lastEvidenceAt = now;
    if (ok) {
      this.lastOkAt = this.clock.wall();
      this.failures = 0;
      this.lastCountedFail = -Infinity;
      // The first success after a failure always counts: the failure set lastCountedOk to -Infinity.
      if (now - this.lastCountedOk >= this.timing.coalesceMs) {
        this.successes++;
        this.lastCountedOk = now;
      }
    } else {
      this.lastFailureAt = this.clock.wall();
      this.lastFailure = cause;
      this.successes = 0;
      this.lastCountedOk = -Infinity;
      if (now - this.lastCountedFail >= this.timing.coalesceMs) {
        this.failures++;
        this.lastCountedFail = now;
      }
    }
    this.emit('evidence', { ok, cause, source });
    const next = this.decide(ok);
    // The loop wakes at the probe time it planned and plans again from the latest evidence: no wakeup needed here.
    if (next !== this.st) this.change(next, `${source}: ${cause}`);
  }

  /** Probes now (unless one is in flight) and resolves when its result is recorded. */
  probeNow(): Promise<void> {
    if (this.probing) return this.probing;
    this.probes++;
    const now = this.clock.mono();
    const signed = !this.reachFn || this.signedDue || now - this.lastSignedAt >= this.timing.signedProbeMs;
    this.probing = (async () => {
      try {
        if (signed) {
          this.signedProbes++;
          this.lastSignedAt = now;
          this.signedDue = false;
          const res = await this.probeFn();
          this.record(res, 'probe');
        } else {
          const r = await this.reachFn();
          this.observe(r.ok, r.cause, 'reach');
        }
      } catch (err) {
        this.observe(false, `probe threw: ${(err as Error)?.message ?? String(err)}`, 'probe');
      } finally {
        this.probing = null;
      }
    })();
    return this.probing;
  }

  /** Resolves once the link is online (at once if it is); rejects with Halted when `signal` aborts. */
  whenOnline(signal?: AbortSignal): Promise<void> {
    if (this.st === 'online') return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Halted());
      const onChange = (c: LinkChange): void => {
        if (c.to !== 'online') return;
        cleanup();
        resolve();
      };
      const onAbort = (): void => {
        cleanup();
        reject(new Halted());
      };
      const cleanup = (): void => {
        this.off('change', onChange);
        // Stryker disable next-line StringLiteral: left on the signal, a later abort only rejects a settled promise
        signal?.removeEventListener('abort', onAbort);
      };
      this.on('change', onChange);
      // Stryker disable next-line ObjectLiteral,BooleanLiteral: cleanup() removes it on the first call either way
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private decide(ok: boolean): LinkState {
    const t = this.timing;
    switch (this.st) {
      case 'online':
        if (ok) return 'online';
        return this.failures >= t.failuresToOffline ? 'offline' : 'degraded';
      case 'degraded':
        if (ok) return this.successes >= t.successesToOnline ? 'online' : 'degraded';
        return this.failures >= t.failuresToOffline ? 'offline' : 'degraded';
      case 'offline':
        if (!ok) return 'offline';
        return this.successes >= t.successesToOnline ? 'online' : 'degraded';
    }
  }

  private change(to: LinkState, cause: string): void {
    const from = this.st;
    const at = this.clock.wall();
    const heldMs = Math.round(this.clock.mono() - this.sinceMono);
    this.st = to;
    this.sinceMs = at;
    this.sinceMono = this.clock.mono();
    this.changes++;
    const line = { event: 'link', from, to, cause, afterMs: heldMs };
    const msg = `payment platform link ${from} → ${to} (${cause})`;
    if (to === 'offline') this.log.warn(line, msg);
    else this.log.info(line, msg);
    this.emit('change', { from, to, at, cause } satisfies LinkChange);
    this.replan();
  }

  private intervalMs(): number {
    return this.st === 'online' ? this.timing.onlineProbeMs : this.st === 'degraded' ? this.timing.degradedProbeMs : this.timing.offlineProbeMs;
  }

  /** Wakes the loop so that it computes the next probe time again. */
  private replan(): void {
    this.nap?.abort();
  }

  private async loop(): Promise<void> {
    let first = true;
    while (this.running) {
      // The first probe at once; then one interval after the last evidence of any kind.
      const due = first ? this.clock.mono() : this.lastEvidenceAt + this.intervalMs();
      const wait = due - this.clock.mono();
      if (wait > 0) {
        const nap = new AbortController();
        this.nap = nap;
        try {
          // (A `next-line` directive cannot reach a catch or finally block: it would have to lead the `catch`.)
          // Stryker disable BlockStatement: catch: sleep rejects only with Halted; finally: a stale nap is harmless
          await this.clock.sleep(wait, nap.signal);
        } catch (err) {
          // Stryker disable next-line ConditionalExpression: clock.sleep rejects only with Halted (a wakeup)
          if (!(err instanceof Halted)) throw err;
        } finally {
          // Stryker restore BlockStatement
          // Stryker disable next-line ConditionalExpression,EqualityOperator: a stale nap is harmless to abort
          if (this.nap === nap) this.nap = null;
        }
        continue;
      }
      first = false;
      await this.probeNow();
    }
  }
}

/** What `kiosk status` shows about the link and the work waiting for it (the daemon's control answer). */
export interface LinkStatus {
  link: { state: LinkState; since: string; lastOkAt: string | null; lastFailure: string | null };
  /** Unfinished orders (waiting for the link or the platform), and the oldest one's creation time. */
  waiting: { count: number; since: string | null; heldCalls: number };
}

export function linkStatus(link: LinkMonitor, journal: { unfinishedSummary(): { count: number; oldestCreatedAt: string | null } }, gateway?: { waiting: { count: number } }): LinkStatus {
  const s = link.snapshot();
  const u = journal.unfinishedSummary();
  return {
    link: { state: s.state, since: s.since, lastOkAt: s.lastOkAt, lastFailure: s.lastFailure },
    waiting: { count: u.count, since: u.oldestCreatedAt, heldCalls: gateway?.waiting.count ?? 0 },
  };
}

/** The indicator side: the kiosk's resting pattern is 'offline' exactly while the link is offline. */
export function bindIndicator(link: LinkMonitor, kiosk: { linkOnline(online: boolean): void }): () => void {
  const onChange = (c: LinkChange): void => kiosk.linkOnline(c.to !== 'offline');
  kiosk.linkOnline(!link.offline);
  link.on('change', onChange);
  return () => link.off('change', onChange);
}
