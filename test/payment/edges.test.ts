// Every edge of the transition table (src/journal/states.ts), taken by the engine itself: each scenario drives a
// real PaymentEngine (fake clock, fake gateway) and checks the steps it journals; the last test fails when an edge
// of the table (with each of its cause kinds) was taken by no scenario, so an edge added to the table needs one.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderPatch, type OrderState } from '../../src/journal/journal.js';
import { pathTo, TRANSITIONS } from '../../src/journal/states.js';
import { PaymentEngine, type PayHooks, type Timing, type VendReport } from '../../src/payment/engine.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import type { CallName } from '../../src/umpay/types.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, UNIONPAY, WECHAT, type Answer } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
type Handlers = { [C in CallName]?: Answer<C> | ((f: Record<string, string>, n: number) => Answer<C>) };

interface Scenario {
  name: string;
  /** The steps (from>to:kind) the engine must journal. */
  edges: string[];
  gateway: Handlers;
  /** A customer payment with this code, or an order seeded in a state and recovered by start(). */
  pay?: string;
  seed?: { state: OrderState; code?: string; orderType?: string; patch?: OrderPatch; vendSensed?: boolean; mdb?: 'approved' | 'not-approved' };
  deliver?: PayHooks['deliver'];
  /** MDB: the selection ended before the payment was verified (PayHooks.releasable). */
  releasable?: string;
  /** MDB: what the machine reports at recovery (EngineOptions.vendReport). */
  vendReport?: VendReport;
  timing?: Partial<Timing>;
  latencyMs?: number;
}

const paying = { kind: 'PENDING', code: '02', reason: 'paying' } as const;
const unclear = { kind: 'UNKNOWN', cause: 'timeout' } as const;
const notSent = { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent', cause: 'ECONNREFUSED' } as const;
const refused = { kind: 'REFUSED', code: '35', reason: 'refused' } as const;
const notPaid = (state: 'failed' | 'closed' | 'refunded' | 'no-such-order') => ({ kind: 'NOT_PAID', state, code: state === 'no-such-order' ? '17' : '01', reason: state }) as const;
const vendFailed = async (): Promise<void> => {
  throw Object.assign(new Error('no drop seen'), { code: 'VEND_FAILED' });
};
/** The first `n` calls answer `first`, the rest `then` (a gateway that recovers). */
const recovers = <C extends CallName>(n: number, first: Answer<C>, then: Answer<C>) => (_f: Record<string, string>, i: number): Answer<C> => (i <= n ? first : then);

const SCENARIOS: Scenario[] = [
  { name: 'paid at once', pay: WECHAT, gateway: { micropay: { kind: 'PAID' } }, edges: ['null>created:scan', 'created>paid:answer', 'paid>delivering:release', 'delivering>delivered:released'] },
  { name: 'declined', pay: WECHAT, gateway: { micropay: { kind: 'NOT_PAID', code: '15', reason: 'no money' } }, edges: ['created>failed:answer'] },
  {
    name: 'micropay threw, then no verdict in the window (WeChat): cancelled',
    pay: WECHAT,
    gateway: { micropay: () => { throw new Error('bug'); }, queryOrder: paying, cancelOrder: { kind: 'DONE' } },
    edges: ['created>unknown:threw', 'unknown>reversing:window-over', 'reversing>reversed:answer'],
  },
  { name: 'unclear, then paid', pay: WECHAT, gateway: { micropay: unclear, queryOrder: { kind: 'PAID' } }, edges: ['created>unknown:answer', 'unknown>paid:answer'] },
  { name: 'unclear, then failed', pay: WECHAT, gateway: { micropay: unclear, queryOrder: notPaid('failed') }, edges: ['unknown>failed:answer'] },
  { name: 'unclear, then refunded', pay: WECHAT, gateway: { micropay: unclear, queryOrder: notPaid('refunded') }, edges: ['unknown>refunded:answer'] },
  { name: 'never left until the code ran out', pay: WECHAT, gateway: { micropay: notSent }, edges: ['created>failed-not-sent:not-sent'] },
  {
    name: '37 until the code ran out: closed',
    pay: UNIONPAY,
    gateway: { micropay: { kind: 'UNKNOWN', cause: 'too frequent', rateLimited: true }, queryOrder: paying, closeOrder: { kind: 'DONE' } },
    edges: ['created>unknown:code-expired', 'unknown>reversing:window-over'],
  },
  { name: 'no drop (UnionPay): refunded', pay: UNIONPAY, deliver: vendFailed, gateway: { micropay: { kind: 'PAID' }, refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: ['delivering>refunding:vend-failed', 'refunding>refunded:answer'] },
  { name: 'no drop (WeChat, same day): cancelled', pay: WECHAT, deliver: vendFailed, gateway: { micropay: { kind: 'PAID' }, cancelOrder: { kind: 'DONE' } }, edges: ['delivering>reversing:vend-failed'] },
  {
    name: 'paid after the window (UnionPay): refunded',
    pay: UNIONPAY,
    latencyMs: 5_000,
    timing: { customerWindowMs: 3_000 },
    gateway: { micropay: { kind: 'PAID' }, refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } },
    edges: ['created>paid:answer', 'paid>refunding:recovery'],
  },
  { name: 'recovery: created, every send never left', seed: { state: 'created', patch: { notSent: 1 } }, gateway: {}, edges: ['created>failed-not-sent:recovery'] },
  { name: 'recovery: created, may have been sent', seed: { state: 'created' }, gateway: { cancelOrder: { kind: 'DONE' } }, edges: ['created>reversing:recovery'] },
  { name: 'recovery: unknown', seed: { state: 'unknown' }, gateway: { cancelOrder: { kind: 'DONE' } }, edges: ['unknown>reversing:recovery'] },
  { name: 'recovery: paid (WeChat, same day)', seed: { state: 'paid' }, gateway: { cancelOrder: { kind: 'DONE' } }, edges: ['paid>reversing:recovery'] },
  { name: 'recovery: delivering with the drop journaled', seed: { state: 'delivering', vendSensed: true }, gateway: {}, edges: ['delivering>delivered:vend-sensed'] },
  { name: 'recovery: delivering (UnionPay)', seed: { state: 'delivering', code: UNIONPAY, orderType: 'unionpay' }, gateway: { refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: ['delivering>refunding:recovery'] },
  { name: 'recovery: delivering (WeChat, same day)', seed: { state: 'delivering' }, gateway: { cancelOrder: { kind: 'DONE' } }, edges: ['delivering>reversing:recovery'] },
  {
    name: 'MDB: the machine reported the vend',
    pay: WECHAT,
    deliver: async (_no, ev) => {
      ev.approving('C,VEND,1.00');
      return 'vend-success';
    },
    gateway: { micropay: { kind: 'PAID' } },
    edges: ['delivering>delivered:vend-success'],
  },
  { name: 'MDB: paid after the selection ended (UnionPay)', pay: UNIONPAY, releasable: 'the machine ended the session', gateway: { micropay: { kind: 'PAID' }, refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: ['paid>refunding:session-ended'] },
  { name: 'MDB: paid after the kiosk denied the vend (WeChat, same day)', pay: WECHAT, releasable: 'denied (C,STOP)', gateway: { micropay: { kind: 'PAID' }, cancelOrder: { kind: 'DONE' } }, edges: ['paid>reversing:session-ended'] },
  { name: 'MDB recovery: approved, the machine reports success', seed: { state: 'delivering', mdb: 'approved' }, vendReport: 'success', gateway: {}, edges: ['delivering>delivered:vend-success'] },
  { name: 'MDB recovery: approved, the machine reports failure', seed: { state: 'delivering', code: UNIONPAY, orderType: 'unionpay', mdb: 'approved' }, vendReport: 'failed', gateway: { refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: ['delivering>refunding:vend-failed'] },
  { name: 'MDB recovery: approved, no report', seed: { state: 'delivering', code: UNIONPAY, orderType: 'unionpay', mdb: 'approved' }, vendReport: 'unknown', gateway: { refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: ['delivering>refunding:recovery'] },
  { name: 'MDB recovery: never approved', seed: { state: 'delivering', mdb: 'not-approved' }, gateway: { cancelOrder: { kind: 'DONE' } }, edges: ['delivering>reversing:recovery'] },
  ...(['reversing', 'attention'] as const).flatMap((state): Scenario[] => {
    const seed = { state, code: UNIONPAY, orderType: 'unionpay', patch: { reversal: 'closeOrder' as const } };
    return [
      { name: `${state}: close refused, paid`, seed, gateway: { closeOrder: refused, queryOrder: { kind: 'PAID' }, refund: { kind: 'ACCEPTED' }, refundQuery: { kind: 'REFUNDED' } }, edges: [`${state}>refunding:answer`] },
      { name: `${state}: close refused, failed`, seed, gateway: { closeOrder: refused, queryOrder: notPaid('failed') }, edges: [`${state}>failed:answer`] },
      { name: `${state}: close refused, refunded`, seed, gateway: { closeOrder: refused, queryOrder: notPaid('refunded') }, edges: [`${state}>refunded:answer`] },
      { name: `${state}: close refused, no such order, the code ran out`, seed, gateway: { closeOrder: refused, queryOrder: notPaid('no-such-order') }, edges: [`${state}>reversed:code-expired`] },
      { name: `${state}: closed`, seed, gateway: { closeOrder: { kind: 'DONE' } }, edges: [`${state}>reversed:answer`] },
    ];
  }),
  {
    name: 'refund refused, the order was closed',
    seed: { state: 'refunding', code: UNIONPAY, orderType: 'unionpay' },
    gateway: { refund: refused, queryOrder: notPaid('closed') },
    edges: ['refunding>reversed:answer'],
  },
  {
    name: 'reversal never answered: attention, then closed',
    seed: { state: 'reversing', code: UNIONPAY, orderType: 'unionpay', patch: { reversal: 'closeOrder' } },
    gateway: { closeOrder: recovers<'closeOrder'>(8, unclear, { kind: 'DONE' }) },
    edges: ['reversing>attention:effort-spent', 'attention>reversed:answer'],
  },
  {
    name: 'refund never answered: attention, then refunded',
    seed: { state: 'refunding', code: UNIONPAY, orderType: 'unionpay' },
    gateway: { refund: unclear, refundQuery: recovers<'refundQuery'>(8, unclear, { kind: 'REFUNDED' }) },
    edges: ['refunding>attention:effort-spent', 'attention>refunded:answer'],
  },
];

describe('every edge of the transition table, taken by the engine', () => {
  const taken = new Set<string>();
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'edges-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function seed(s: NonNullable<Scenario['seed']>): void {
    const o = journal.createOrder({
      deviceId: 'K1', date: formatOrderTime(clock.wall()).slice(0, 8), orderTime: formatOrderTime(clock.wall()), txnAmt: '100', orderType: s.orderType ?? 'wechat', authCode: s.code ?? WECHAT, authMask: 'x',
      goodsId: 'G', goodsInfo: 'g', acqSpId: merchant.acqSpId, acqMerId: merchant.acqMerId,
      // Scanned an hour ago on this boot's clock: the code's validity is over.
      scannedAt: clock.wall() - 3_600_000, scannedMono: clock.mono() - 3_600_000, bootId: clock.bootId, at: new Date(clock.wall()).toISOString(),
      ...(s.mdb ? { productId: '2', vendPrice: '1.00' } : {}),
    });
    const path = pathTo(s.state);
    for (const [i, step] of path.entries()) {
      const last = i === path.length - 1;
      const patch: OrderPatch = { ...(step.to === 'attention' ? { resumeState: step.from } : {}), ...(step.to === 'refunding' ? { refundNo: `${o.orderNo}R1`, refundTime: formatOrderTime(clock.wall()), refundAmt: '100', refundAccepted: false } : {}), ...(last ? s.patch : {}) };
      journal.transition(o.orderNo, [{ from: step.from, to: step.to, event: { kind: step.kind, cause: 'seed' }, patch }], new Date(clock.wall()).toISOString());
    }
    if (s.patch && !path.length) journal.note(o.orderNo, 'created', { kind: 'not-sent', cause: 'seed' }, new Date(clock.wall()).toISOString(), s.patch);
    if (s.vendSensed) journal.note(o.orderNo, s.state, { kind: 'vend-sensed', cause: 'vend sensed' }, new Date(clock.wall()).toISOString());
    if (s.mdb === 'approved') journal.note(o.orderNo, s.state, { kind: 'vend-approved', cause: 'vend approved', detail: 'C,VEND,1.00' }, new Date(clock.wall()).toISOString());
  }

  for (const sc of SCENARIOS) {
    it(`${sc.name}: ${sc.edges.join(', ')}`, async () => {
      const gw = new FakeGateway(sc.latencyMs ? { clock, ms: sc.latencyMs } : undefined);
      for (const [call, h] of Object.entries(sc.gateway)) gw.on(call as CallName, h);
      if (sc.seed) seed(sc.seed);
      const vendReport = sc.vendReport ? async () => sc.vendReport! : undefined;
      const e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K1', goods: { goodsId: 'G', goodsInfo: 'g' }, clock, timing: sc.timing, random: () => 0.5, clockCheck: () => null, vendReport });
      await e.start();
      const releasable = sc.releasable ? () => sc.releasable! : undefined;
      if (sc.pay) await clock.run(e.pay({ authCode: sc.pay, amountFen: 100, ...(sc.releasable || sc.deliver ? { productId: '2', vendPrice: '1.00' } : {}) }, { deliver: sc.deliver ?? (async () => undefined), releasable }));
      await clock.run(e.whenIdle());
      const steps = journal
        .list()
        .flatMap((o) => journal.events(o.orderNo))
        .filter((ev) => ev.cause !== 'seed' && ev.from !== ev.to)
        .map((ev) => `${ev.from}>${ev.to}:${ev.kind}`);
      for (const s of steps) taken.add(s);
      for (const edge of sc.edges) assert.ok(steps.includes(edge), `${edge} journaled (got ${steps.join(', ')})`);
      assert.ok(journal.list().every((o) => o.final), 'every order final');
    });
  }

  it('took every edge of the table with each of its cause kinds, and no step outside it', () => {
    const table = TRANSITIONS.flatMap((e) => e.kinds.map((k) => `${e.from}>${e.to}:${k}`));
    assert.deepEqual(table.filter((t) => !taken.has(t)), [], 'edges no scenario took');
    assert.deepEqual([...taken].filter((t) => !table.includes(t)), [], 'steps outside the table');
  });
});
