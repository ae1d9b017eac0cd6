// Fakes for the kiosk's ports: a clock that only moves when told, an indicator that records, an
// engine whose answers the test decides.
import type { ApprovePort, Clock, CustomerResult, EnginePort, IndicatorPort, Pattern, PayHooks, PaymentRequest } from '../../src/kiosk/ports.js';

export class FakeClock implements Clock {
  private t = 0;
  private seq = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward, firing due timers in order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
      if (!next) break;
      this.timers.delete(next[0]);
      this.t = next[1].at;
      next[1].fn();
    }
    this.t = end;
  }
  pending(): number {
    return this.timers.size;
  }
}

export class FakeIndicator implements IndicatorPort {
  shown: { pattern: Pattern; orderNo?: string }[] = [];
  show(pattern: Pattern, info?: { orderNo?: string }): void {
    this.shown.push({ pattern, ...(info?.orderNo ? { orderNo: info.orderNo } : {}) });
  }
  get last(): Pattern | undefined {
    return this.shown[this.shown.length - 1]?.pattern;
  }
  patterns(): Pattern[] {
    return this.shown.map((s) => s.pattern);
  }
}

export class FakeApprove implements ApprovePort {
  pulses: number[] = [];
  async pulse(ms: number): Promise<void> {
    this.pulses.push(ms);
  }
}

interface Pending {
  req: PaymentRequest;
  hooks: PayHooks;
  resolve(r: CustomerResult): void;
  reject(e: unknown): void;
}

/** pay() waits until the test answers it. */
export class FakeEngine implements EnginePort {
  calls: Pending[] = [];
  pay(req: PaymentRequest, hooks: PayHooks): Promise<CustomerResult> {
    return new Promise((resolve, reject) => this.calls.push({ req, hooks, resolve, reject }));
  }
  get last(): Pending {
    const c = this.calls[this.calls.length - 1];
    if (!c) throw new Error('no pay() call');
    return c;
  }
  /** Approves the last call like the real engine: deliver first, then answer. */
  async approve(orderNo = 'K1'): Promise<void> {
    const c = this.last;
    await c.hooks.deliver(orderNo, { sensed: () => {} });
    c.resolve({ kind: 'approved', orderNo });
  }
}

/** Lets pending promise callbacks run. */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
