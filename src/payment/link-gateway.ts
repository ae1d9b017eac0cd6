// LinkGateway puts the link monitor (link.ts) in front of the engine's gateway: every result is evidence, and
// while the link is offline the background calls (reversals, refunds, refund queries) wait in a queue instead of
// burning their retry budget; they resume by themselves when the link is back, oldest order first.
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { CallName, CallResult, CancelOrderFields, CloseOrderFields, Gateway, MicropayFields, QueryOrderFields, RefundFields, RefundQueryFields } from '../umpay/types.js';
import { systemClock, type Clock } from '../clock.js';
import { wireText } from '../umpay/canonical.js';
import type { LinkChange, LinkMonitor } from './link.js';

/** The calls that only background work makes: they wait while the link is offline. */
const HELD_CALLS: ReadonlySet<CallName> = new Set(['cancelOrder', 'closeOrder', 'refund', 'refundQuery']);

interface Waiter {
  orderNo: string;
  rank: number | string;
  arrived: number;
  call: CallName;
  release: (go: boolean) => void;
}

export interface LinkGatewayOptions {
  /** Sort key of an order, oldest first (the daemon: the journal sequence). Default: the order number. */
  rank?: (orderNo: string) => number | string | undefined;
  /** Spacing between held calls when they resume (they were paced before they were held). */
  resumeSpacingMs?: number;
  clock?: Clock;
  log?: Logger;
}

/** The order a background call is about: refunds name the original order; a refund serial is orderNo+R<n>. */
function orderOf(call: CallName, fields: Record<string, unknown>): string {
  if (call === 'refund') return wireText(fields.origOrderNo);
  const no = wireText(fields.orderNo);
  return call === 'refundQuery' ? no.replace(/R\d+$/, '') : no;
}

/** Oldest order first; equal ranks stay in arrival order (the queue is in arrival order and sort is stable). */
function compareRank(a: Waiter, b: Waiter): number {
  if (typeof a.rank === 'number' && typeof b.rank === 'number') return a.rank - b.rank;
  const x = String(a.rank);
  const y = String(b.rank);
  // Order numbers end in a zero-padded sequence: shorter first, then text order.
  // x === y only for equal ranks; V8's stable sort asks compare(later, earlier) and keeps the later one after
  // whether that says 0 or 1.
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equal ranks stay in place either way (above)
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

/**
 * The engine's gateway, watched by a LinkMonitor. micropay and queryOrder always go through (the customer
 * path must try for real; an unsent micropay is retried by the engine while the code is valid). cancelOrder,
 * closeOrder, refund and refundQuery wait while the link is offline: the order stays as the journal has it,
 * and when the link is online again the waiting calls go out one at a time, oldest order first.
 */
export class LinkGateway implements Gateway {
  private readonly queue: Waiter[] = [];
  private draining = false;
  private closed = false;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly spacingMs: number;
  private readonly onChange = (c: LinkChange): void => {
    if (c.to === 'online') void this.drain();
  };

  constructor(
    readonly inner: Gateway,
    readonly link: LinkMonitor,
    private readonly opts: LinkGatewayOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.log = opts.log ?? silentLogger;
    this.spacingMs = opts.resumeSpacingMs ?? 200;
    link.on('change', this.onChange);
  }

  /** Background calls waiting for the link, and since when the oldest waits (ms since the epoch). */
  get waiting(): { count: number; oldestSince: number | null; orders: string[] } {
    const orders = [...new Set(this.queue.map((w) => w.orderNo))];
    return { count: orders.length, oldestSince: this.queue.length ? Math.min(...this.queue.map((w) => w.arrived)) : null, orders };
  }

  /** Releases every waiting call as "not sent" (the engine is stopping: the journal keeps the work). */
  close(): void {
    this.closed = true;
    this.link.off('change', this.onChange);
    for (const w of this.queue.splice(0)) w.release(false);
  }

  micropay(fields: MicropayFields): Promise<CallResult<'micropay'>> {
    return this.run('micropay', fields, () => this.inner.micropay(fields));
  }
  queryOrder(fields: QueryOrderFields): Promise<CallResult<'queryOrder'>> {
    return this.run('queryOrder', fields, () => this.inner.queryOrder(fields));
  }
  cancelOrder(fields: CancelOrderFields): Promise<CallResult<'cancelOrder'>> {
    return this.run('cancelOrder', fields, () => this.inner.cancelOrder(fields));
  }
  closeOrder(fields: CloseOrderFields): Promise<CallResult<'closeOrder'>> {
    return this.run('closeOrder', fields, () => this.inner.closeOrder(fields));
  }
  refund(fields: RefundFields): Promise<CallResult<'refund'>> {
    return this.run('refund', fields, () => this.inner.refund(fields));
  }
  refundQuery(fields: RefundQueryFields): Promise<CallResult<'refundQuery'>> {
    return this.run('refundQuery', fields, () => this.inner.refundQuery(fields));
  }

  private async run<C extends CallName>(call: C, fields: object, send: () => Promise<CallResult<C>>): Promise<CallResult<C>> {
    // While earlier calls are still resuming, later ones queue behind them: oldest order first.
    if (HELD_CALLS.has(call) && !this.closed && (this.link.offline || this.queue.length > 0 || this.draining)) {
      const go = await this.hold(call, orderOf(call, fields as Record<string, unknown>));
      if (!go) {
        const cause = 'link offline; not sent (kiosk stopping)';
        return { call, outcome: { kind: 'UNKNOWN', cause }, request: {}, plaintext: '', delivery: 'not-sent', cause, elapsedMs: 0 } as unknown as CallResult<C>;
      }
    }
    let res: CallResult<C>;
    try {
      res = await send();
    } catch (err) {
      this.link.observe(false, `${call} threw: ${(err as Error)?.message ?? String(err)}`);
      throw err;
    }
    this.link.record(res, call);
    return res;
  }

  private hold(call: CallName, orderNo: string): Promise<boolean> {
    return new Promise((release) => {
      const rank = this.opts.rank?.(orderNo) ?? orderNo;
      this.queue.push({ orderNo, rank, arrived: this.clock.wall(), call, release });
      // Logged while the link is down; queueing behind the resuming calls is routine and not logged.
      if (this.link.offline) this.log.info({ event: 'link-wait', call, orderNo, waiting: this.queue.length }, `${call} ${orderNo} waits for the link`);
    });
  }

  /** Lets the waiting calls go, oldest order first, one per spacing, while the link stays online. */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      if (this.queue.length) this.log.info({ event: 'link-resume', waiting: this.queue.length }, `link back: resuming ${this.queue.length} waiting call(s), oldest first`);
      while (this.queue.length && !this.closed && this.link.state === 'online') {
        this.queue.sort(compareRank);
        this.queue.shift()!.release(true);
        // Spacing also lets a released call finish and free its slot for the next order (which joins the queue).
        await this.clock.sleep(this.spacingMs);
      }
    } finally {
      this.draining = false;
    }
  }
}

