// Test doubles for the engine (the fake clock is test/fake-clock.ts): a scriptable Gateway that answers from
// per-call handlers and records every request; a log capture; an order seeded in any state for recovery.
import { Writable } from 'node:stream';
import type { FakeClock } from '../fake-clock.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { Journal, OrderPatch, OrderState } from '../../src/journal/journal.js';
import { pathTo } from '../../src/journal/states.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
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

/** A logger whose lines (parsed JSON) are kept for the test: what the operator reads in the log. */
export function logCapture(level = 'info'): { log: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ destination, level }), lines };
}

/**
 * An order journaled as the engine would have left it in `state` (recovery finds it), scanned `agoMs` before now on
 * this boot's monotonic clock (default: an hour, the code's validity long over). Returns its orderNo.
 */
export interface Seed {
  code?: string;
  orderType?: string;
  txnAmt?: string;
  patch?: OrderPatch;
  agoMs?: number;
  productId?: string;
  /** Another boot's id: its monotonic scan time is not comparable (the engine uses when it first knew the order). */
  bootId?: string;
  deviceId?: string;
}

export function seedOrder(journal: Journal, clock: FakeClock, state: OrderState, o: Seed = {}): string {
  const at = new Date(clock.wall()).toISOString();
  const agoMs = o.agoMs ?? 3_600_000;
  const row = journal.createOrder({
    deviceId: o.deviceId ?? 'K1', date: formatOrderTime(clock.wall()).slice(0, 8), orderTime: formatOrderTime(clock.wall()), txnAmt: o.txnAmt ?? '100', orderType: o.orderType ?? 'wechat', authCode: o.code ?? WECHAT, authMask: 'x',
    goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208',
    scannedAt: clock.wall() - agoMs, scannedMono: clock.mono() - agoMs, bootId: o.bootId ?? clock.bootId, at,
    ...(o.productId ? { productId: o.productId, vendPrice: '1.00' } : {}),
  });
  const path = pathTo(state);
  for (const [i, step] of path.entries()) {
    const last = i === path.length - 1;
    const patch: OrderPatch = { ...(step.to === 'attention' ? { resumeState: step.from } : {}), ...(step.to === 'refunding' ? { refundNo: `${row.orderNo}R1`, refundTime: formatOrderTime(clock.wall()), refundAmt: row.txnAmt, refundAccepted: false } : {}), ...(last ? o.patch : {}) };
    journal.transition(row.orderNo, [{ from: step.from, to: step.to, event: { kind: step.kind, cause: 'seed' }, patch }], at);
  }
  if (o.patch && !path.length) journal.note(row.orderNo, 'created', { kind: 'not-sent', cause: 'seed' }, at, o.patch);
  return row.orderNo;
}
