// Test doubles for the engine (the fake clock is test/fake-clock.ts): a
// scriptable Gateway that answers from per-call handlers and records every request.
import type { FakeClock } from '../fake-clock.js';
import type { CallName, CallResult, Delivery, Gateway, OutcomeByCall } from '../../src/umpay/types.js';

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
      const h = this.handlers[call];
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
