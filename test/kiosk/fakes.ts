// Fakes for the kiosk's ports (the clock is test/fake-clock.ts): an indicator that records, an
// engine whose answers the test decides.
import type { ApprovePort, CustomerResult, EnginePort, IndicatorPort, Pattern, PayHooks, PaymentRequest } from '../../src/kiosk/ports.js';

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
    await c.hooks.deliver(orderNo, { sensed: () => {}, approving: () => {} });
    c.resolve({ kind: 'approved', orderNo });
  }
}

/** Lets pending promise callbacks run. */
export const flush = (): Promise<void> => new Promise((r) => setImmediate(r));
