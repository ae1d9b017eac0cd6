// Test doubles for the engine: a fake clock that jumps from timer to timer (no real sleeps) and a
// scriptable Gateway that answers from per-call handlers and records every request.
import type { Clock } from '../../src/payment/clock.js';
import { Halted } from '../../src/payment/clock.js';
import type { CallName, CallResult, Delivery, Gateway, OutcomeByCall } from '../../src/umpay/types.js';

const flush = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
};

export class FakeClock implements Clock {
  private timers: { at: number; seq: number; fire: () => void }[] = [];
  private seq = 0;
  constructor(public t = new Date(2026, 5, 1, 10, 0, 0).getTime()) {}
  now(): number {
    return this.t;
  }
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Halted());
      const onAbort = (): void => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(new Halted());
      };
      const timer = {
        at: this.t + Math.max(0, ms),
        seq: this.seq++,
        fire: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.timers.push(timer);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  get pendingTimers(): number {
    return this.timers.length;
  }
  /** What must settle before time may jump: pending microtasks here; real I/O too in the offline drills. */
  protected settle(): Promise<void> {
    return flush();
  }
  /** Fires timers in time order until `p` settles; fails when nothing is left to run or past `limitMs`. */
  async run<T>(p: Promise<T>, limitMs = 7 * 24 * 3600_000): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    const end = this.t + limitMs;
    for (;;) {
      await this.settle();
      if (settled) return p;
      if (!this.timers.length) throw new Error('fake clock: promise still pending and no timer left to fire');
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers.shift()!;
      if (next.at > end) throw new Error(`fake clock: not settled within ${limitMs} ms`);
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
  }
  /** Moves time forward by `ms`, firing what falls due. */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await this.settle();
      this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = Math.max(this.t, next.at);
      next.fire();
    }
    this.t = end;
    await this.settle();
  }
}

export type Answer<C extends CallName> = OutcomeByCall[C] | { outcome: OutcomeByCall[C]; delivery: Delivery; cause?: string; answer?: Record<string, string> };
type Handler<C extends CallName> = (fields: Record<string, string>, n: number) => Answer<C>;

export interface Sent {
  call: CallName;
  fields: Record<string, string>;
}

export class FakeGateway implements Gateway {
  readonly sent: Sent[] = [];
  readonly handlers: { [C in CallName]?: Handler<C> } = {};
  inFlight = 0;
  maxInFlight = 0;
  constructor(private readonly latency?: { clock: FakeClock; ms: number }) {}

  on<C extends CallName>(call: C, h: Handler<C> | Answer<C>): this {
    (this.handlers as Record<string, unknown>)[call] = typeof h === 'function' ? h : () => h;
    return this;
  }
  count(call: CallName): number {
    return this.sent.filter((s) => s.call === call).length;
  }

  private async answer<C extends CallName>(call: C, fields: object): Promise<CallResult<C>> {
    const f = { ...(fields as Record<string, string>) };
    this.sent.push({ call, fields: f });
    const n = this.count(call);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.latency) await this.latency.clock.sleep(this.latency.ms);
      const h = this.handlers[call] as Handler<C> | undefined;
      const a: Answer<C> = h ? h(f, n) : ({ kind: 'UNKNOWN', cause: `no handler for ${call}` } as OutcomeByCall[C]);
      const { outcome, delivery, cause, answer: fields } = 'outcome' in a ? a : { outcome: a, delivery: 'answered' as Delivery, cause: undefined, answer: undefined };
      const code = (outcome as { code?: string }).code ?? ((outcome as { kind: string }).kind === 'PAID' || (outcome as { kind: string }).kind === 'DONE' ? '00' : undefined);
      return {
        call,
        outcome,
        request: f,
        plaintext: '',
        delivery,
        cause,
        answer: delivery === 'answered' && (code || fields) ? { respCode: code, respMsg: 'fake', ...fields } : undefined,
        elapsedMs: 1,
      } as CallResult<C>;
    } finally {
      this.inFlight--;
    }
  }
  micropay(f: object) {
    return this.answer('micropay', f);
  }
  queryOrder(f: object) {
    return this.answer('queryOrder', f);
  }
  cancelOrder(f: object) {
    return this.answer('cancelOrder', f);
  }
  closeOrder(f: object) {
    return this.answer('closeOrder', f);
  }
  refund(f: object) {
    return this.answer('refund', f);
  }
  refundQuery(f: object) {
    return this.answer('refundQuery', f);
  }
}

export const WECHAT = '134567890123456789';
export const ALIPAY = '281234567890123456';
export const UNIONPAY = '6212345678901234567';
