// The payment engine: every scanned code ends paid-and-delivered, failed (the platform said so), never sent,
// reversed or refunded. Journal first, network second: each transition is committed before the action it
// announces, so recovery after any crash knows what may have happened. This is the public face (the contract in
// docs/ARCHITECTURE.md); the work is in customer.ts (the customer path), background.ts (driving and recovery),
// scheduler.ts (semaphore, pacing, backoff, rate-limit pause) and core.ts (what they share). The states and their
// transitions are the table in src/journal/states.ts.
import { EventEmitter, setMaxListeners } from 'node:events';
import { silentLogger } from '../log.js';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import { JournalError, type Journal } from '../journal/journal.js';
import { systemClock, type Clock } from '../clock.js';
import { defaultClockCheck } from './clock-check.js';
import { Background } from './background.js';
import { EngineCore } from './core.js';
import { CustomerPath } from './customer.js';
import { Scheduler } from './scheduler.js';
import { DEFAULT_TIMING, type CustomerResult, type EngineOptions, type EngineStats, type PaymentRequest, type PayHooks, type Scan, type Timing } from './types.js';

export { DEFAULT_TIMING, VEND_SENSED } from './types.js';
export type { CustomerResult, DeliverEvidence, EngineOptions, EngineStats, PaymentRequest, PayHooks, RefusalReason, Timing, TransitionEvent, VendReport } from './types.js';

export class PaymentEngine extends EventEmitter {
  readonly timing: Timing;
  readonly stats: EngineStats;
  private readonly journal: Journal;
  private readonly clock: Clock;
  private readonly clockCheck: (now: number) => string | null;
  private readonly platformClockCheck: () => string | null;
  private readonly core: EngineCore;
  private readonly customerPath: CustomerPath;
  private readonly work: Background;
  private customer: Promise<CustomerResult> | null = null;
  /** The order the customer path is driving: recovery (start(), kiosk reconcile) must leave it alone. */
  private customerOrderNo: string | null = null;

  constructor(opts: EngineOptions) {
    super();
    this.journal = opts.journal;
    this.clock = opts.clock ?? systemClock;
    this.clockCheck = opts.clockCheck ?? ((now) => defaultClockCheck(now));
    // Stryker disable next-line ArrowFunction: `() => undefined` is the same "no skew known" to pay()'s `if (skew)`
    this.platformClockCheck = opts.platformClockCheck ?? (() => null);
    this.timing = { ...DEFAULT_TIMING, ...opts.timing };
    const log = opts.log ?? silentLogger;
    const halt = new AbortController();
    // Every waiting order listens for the stop signal (recovery may hold a thousand).
    setMaxListeners(0, halt.signal);
    const calls = new Scheduler(this.clock, this.timing, log, opts.random ?? Math.random, halt.signal);
    this.stats = calls.stats;
    this.core = new EngineCore(opts.journal, opts.gateway, this.clock, log, this.timing, calls, this, halt);
    this.work = new Background(this.core, () => this.maybeIdle(), opts.vendReport);
    this.customerPath = new CustomerPath(this.core, opts, (orderNo) => this.work.background(orderNo), (orderNo) => (this.customerOrderNo = orderNo));
  }

  /** Resolves at once: every unfinished order is driven to a final state in the background. */
  async start(): Promise<void> {
    const open = this.journal.unfinished();
    if (open.length) this.core.log.info({ event: 'recovery', unfinished: open.length }, `recovering ${open.length} unfinished order(s)`);
    for (const o of open) {
      this.core.seen(o.orderNo);
      if (o.orderNo !== this.customerOrderNo) this.work.background(o.orderNo);
    }
  }

  /** A customer payment is between its scan and its result (the daemon keeps housekeeping syncs out of it). */
  get customerInProgress(): boolean {
    return this.customer !== null;
  }

  /** Orders being driven in the background right now. */
  get pending(): number {
    return this.work.drives.size;
  }

  /**
   * Refuses new payments, lets a customer payment in progress finish within `graceMs`, then stops all
   * background work. Whatever is not final stays in the journal and is resumed by the next start().
   */
  async stop(graceMs: number): Promise<void> {
    this.core.stopping = true;
    if (this.customer) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.customer.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, graceMs)))]);
      clearTimeout(timer);
    }
    this.core.halt.abort();
    // Sleeps reject at once; a gateway call in flight returns later and writes nothing (halted).
    await Promise.race([Promise.allSettled([...this.work.drives.values()]), new Promise((r) => setTimeout(r, Math.max(0, Math.min(graceMs, 200))))]);
  }

  /** Once idle: no customer payment and no background work. Resolves at once when already idle. */
  whenIdle(): Promise<void> {
    if (!this.customer && this.work.drives.size === 0) return Promise.resolve();
    return new Promise((r) => this.once('idle', () => r()));
  }

  async pay(req: PaymentRequest, hooks: PayHooks): Promise<CustomerResult> {
    if (this.core.stopping) return { kind: 'refused', reason: 'stopping', detail: 'the kiosk is shutting down' };
    if (this.customer) return { kind: 'refused', reason: 'busy', detail: 'another payment is in progress' };
    const code = classifyAuthCode(req.authCode);
    if (!code.ok) return { kind: 'refused', reason: 'bad-code', detail: `${maskAuthCode(req.authCode)}: ${code.reason}` };
    if (!Number.isSafeInteger(req.amountFen) || req.amountFen <= 0 || String(req.amountFen).length > 13) {
      // A pricing bug upstream, not a customer error: said clearly, never sent.
      const err = new RangeError(`amountFen must be a whole number of fen from 1 to 13 digits, got ${JSON.stringify(req.amountFen)}`);
      (err as RangeError & { code: string }).code = 'BAD_AMOUNT';
      throw err;
    }
    const scan: Scan = { wall: this.clock.wall(), mono: this.clock.mono() };
    const clockProblem = this.clockCheck(scan.wall);
    if (clockProblem) return { kind: 'refused', reason: 'clock', detail: clockProblem };
    // orderTime would be wrong at the platform: refused, nothing journaled or sent (docs/payments.md "Clocks").
    const skew = this.platformClockCheck();
    if (skew) return { kind: 'refused', reason: 'platform-clock', detail: skew };
    const dup = this.journal.activeByAuthCode(req.authCode);
    if (dup) return { kind: 'refused', reason: 'duplicate', detail: `${maskAuthCode(req.authCode)} is already being paid in order ${dup}` };
    const run = this.customerPath.run(req, code.orderType, scan, hooks);
    this.customer = run;
    try {
      return await run;
    } finally {
      const no = this.customerOrderNo;
      // Forgotten once no drive holds it (a drive forgets it when final). Deleting it under a drive too would change
      // nothing: the customer's order has its scan journaled on this boot, so its firstSeen is never read.
      // Stryker disable next-line ConditionalExpression,LogicalOperator: see above (the leak is tested: engine-face)
      if (no && !this.work.drives.has(no)) this.core.firstSeen.delete(no);
      this.customer = null;
      this.customerOrderNo = null;
      this.maybeIdle();
    }
  }

  /**
   * MDB: the kiosk denied the machine's selection or ended its session (`C,STOP`) for this order: recorded on the
   * order in whatever state it is (a charge that arrives after it is refunded: the kiosk's releasable() says so).
   */
  vendDenied(orderNo: string, detail: string): void {
    const o = this.journal.get(orderNo);
    if (!o) return;
    this.journal.note(orderNo, o.state, { kind: 'vend-denied', cause: 'vend denied (C,STOP)', detail }, this.core.iso());
  }

  private maybeIdle(): void {
    if (!this.customer && this.work.drives.size === 0) this.emit('idle');
  }
}

export { JournalError };
