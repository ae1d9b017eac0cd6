// The link gateway (src/payment/link-gateway.ts) on a fake clock: which calls wait while the link is offline and for
// which order (a refund and its query name the original order), what `kiosk status` shows of them, the order they
// resume in, what is logged, a throwing gateway as evidence, and that nothing waits once it is closed.
import assert from 'node:assert/strict';
import { LinkMonitor } from '../../src/payment/link.js';
import { LinkGateway } from '../../src/payment/link-gateway.js';
import { FakeGateway, logCapture } from '../payment/fakes.js';
import { FakeClock } from '../fake-clock.js';

const T0 = new Date(2026, 5, 1, 10, 0, 0).getTime();

describe('link gateway: what waits, for which order, and how it resumes (fake clock)', () => {
  let clock: FakeClock;
  let inner: FakeGateway;
  let monitor: LinkMonitor;
  let lg: LinkGateway;
  let cap: ReturnType<typeof logCapture>;

  beforeEach(() => {
    clock = new FakeClock();
    cap = logCapture();
    inner = new FakeGateway();
    inner.on('cancelOrder', { kind: 'DONE' }).on('closeOrder', { kind: 'DONE' }).on('refundQuery', { kind: 'REFUNDED' }).on('refund', { kind: 'ACCEPTED' });
    // The customer path's calls fail here (no proof of the link: it stays as the test sets it).
    const unsent = { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' } as const;
    inner.on('queryOrder', unsent).on('micropay', unsent);
    monitor = new LinkMonitor({ clock, probe: async () => ({ call: 'queryOrder', request: {}, plaintext: '', elapsedMs: 1, outcome: { kind: 'PAID' }, delivery: 'answered', signatureValid: true }), initial: 'offline', timing: { successesToOnline: 1 } });
    lg = new LinkGateway(inner, monitor, { clock, log: cap.log, resumeSpacingMs: 100 });
  });
  afterEach(() => lg.close());

  const refund = (orderNo: string) => lg.refund({ orderTime: '20260601100000', origOrderNo: orderNo, origTxnAmt: '1', orderNo: `${orderNo}R2`, txnAmt: '1' });

  it('while offline: reversals, refunds and refund queries wait, counted per order; the customer path does not', async () => {
    const held = [lg.cancelOrder({ orderNo: 'K1000003' }), refund('K1000001'), lg.refundQuery({ orderNo: 'K1000001R2' }), lg.closeOrder({ orderNo: 'K1000002' })];
    await clock.advance(0);
    clock.tick(5_000);
    const mp = await lg.micropay({ orderTime: '20260601100000', orderNo: 'K1000009', txnAmt: '1', orderType: 'wechat', authCode: '134567890123456789', goodsId: 'G', goodsInfo: 'g' });
    const q = await lg.queryOrder({ orderNo: 'K1000009' });
    assert.deepEqual([mp.delivery, q.delivery], ['not-sent', 'not-sent']);
    assert.deepEqual(inner.sent.map((s) => s.call), ['micropay', 'queryOrder']);
    assert.deepEqual(lg.waiting, { count: 3, oldestSince: T0, orders: ['K1000003', 'K1000001', 'K1000002'] });
    const waits = cap.lines.filter((l) => l.event === 'link-wait');
    assert.deepEqual(waits.map((l) => [l.call, l.orderNo, l.waiting, l.msg]), [
      ['cancelOrder', 'K1000003', 1, 'cancelOrder K1000003 waits for the link'],
      ['refund', 'K1000001', 2, 'refund K1000001 waits for the link'],
      ['refundQuery', 'K1000001', 3, 'refundQuery K1000001 waits for the link'],
      ['closeOrder', 'K1000002', 4, 'closeOrder K1000002 waits for the link'],
    ]);
    monitor.observe(true, 'probe ok');
    await clock.advance(1_000);
    // Oldest order first (shorter numbers first, then text order); one order's calls in arrival order; 100 ms apart.
    assert.deepEqual(inner.sent.slice(2).map((s) => `${s.call} ${s.fields.orderNo}`), ['refund K1000001R2', 'refundQuery K1000001R2', 'closeOrder K1000002', 'cancelOrder K1000003']);
    const resume = cap.lines.find((l) => l.event === 'link-resume')!;
    assert.deepEqual([resume.waiting, resume.msg], [4, 'link back: resuming 4 waiting call(s), oldest first']);
    assert.deepEqual((await Promise.all(held)).map((r) => r.delivery), ['answered', 'answered', 'answered', 'answered']);
    assert.deepEqual(lg.waiting, { count: 0, oldestSince: null, orders: [] });
  });

  it('resumes one call per spacing, and stops resuming when the link drops again', async () => {
    for (const no of ['K1000001', 'K1000002', 'K1000003']) void lg.closeOrder({ orderNo: no });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(0);
    assert.equal(inner.count('closeOrder'), 1);
    await clock.advance(99);
    assert.equal(inner.count('closeOrder'), 1);
    await clock.advance(1);
    assert.equal(inner.count('closeOrder'), 2);
    monitor.observe(false, 'probe: ECONNREFUSED');
    monitor.observe(false, 'probe: ECONNREFUSED');
    clock.tick(1_000);
    monitor.observe(false, 'probe: ECONNREFUSED');
    clock.tick(1_000);
    monitor.observe(false, 'probe: ECONNREFUSED');
    assert.equal(monitor.state, 'offline');
    await clock.advance(1_000);
    assert.equal(inner.count('closeOrder'), 2, 'the third waits again');
    assert.equal(lg.waiting.count, 1);
  });

  it('online, a call still queues behind the ones resuming (oldest first), then goes straight through', async () => {
    void lg.closeOrder({ orderNo: 'K1000005' });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(0);
    const late = lg.cancelOrder({ orderNo: 'K1000004' });
    await clock.advance(0);
    assert.equal(lg.waiting.count, 1, 'queued while the resume runs');
    assert.equal(cap.lines.filter((l) => l.event === 'link-wait').length, 1, 'queueing behind the resume is not logged');
    await clock.advance(100);
    await late;
    await clock.advance(100);
    await lg.cancelOrder({ orderNo: 'K1000006' });
    assert.deepEqual(inner.sent.map((s) => s.fields.orderNo), ['K1000005', 'K1000004', 'K1000006']);
  });

  it('ranks: numbers compare as numbers, then by arrival; text ranks shorter first', async () => {
    const rank = new Map<string, number | string>([['A', 2], ['B', 1], ['C', 2], ['X', 'b'], ['Y', 'aa'], ['Z', 'a']]);
    lg.close();
    lg = new LinkGateway(inner, monitor, { clock, resumeSpacingMs: 0, rank: (o) => rank.get(o) });
    for (const o of ['A', 'B', 'C']) void lg.cancelOrder({ orderNo: o });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(10);
    assert.deepEqual(inner.sent.map((s) => s.fields.orderNo), ['B', 'A', 'C']);
    monitor.observe(false, 'x');
    for (let i = 0; i < 3; i++) {
      clock.tick(1_000);
      monitor.observe(false, 'x');
    }
    for (const o of ['X', 'Y', 'Z']) void lg.cancelOrder({ orderNo: o });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(10);
    assert.deepEqual(inner.sent.slice(3).map((s) => s.fields.orderNo), ['Z', 'X', 'Y']);
  });

  it('every result is evidence; a gateway that throws counts against the link and the error reaches the caller', async () => {
    monitor.observe(true, 'probe ok');
    assert.equal(monitor.state, 'online');
    inner.cancelOrder = () => Promise.reject(new Error('socket exploded'));
    await assert.rejects(lg.cancelOrder({ orderNo: 'K1' }), /socket exploded/);
    assert.equal(monitor.state, 'degraded');
    assert.equal(monitor.snapshot().lastFailure, 'cancelOrder threw: socket exploded');
    clock.tick(2_000);
    await lg.closeOrder({ orderNo: 'K2' });
    assert.equal(monitor.snapshot().lastOkAt, new Date(T0 + 2_000).toISOString());
  });

  it('closed: waiting calls come back "not sent" (never sent), later ones go straight to the gateway', async () => {
    const p = lg.cancelOrder({ orderNo: 'K1000003' });
    await clock.advance(0);
    lg.close();
    const r = await p;
    assert.deepEqual([r.call, r.delivery, r.cause, r.outcome], ['cancelOrder', 'not-sent', 'link offline; not sent (kiosk stopping)', { kind: 'UNKNOWN', cause: 'link offline; not sent (kiosk stopping)' }]);
    assert.equal(inner.count('cancelOrder'), 0);
    await lg.closeOrder({ orderNo: 'K1000004' });
    assert.equal(inner.count('closeOrder'), 1, 'a closed gateway holds nothing');
    monitor.observe(true, 'probe ok');
    assert.equal(monitor.listenerCount('change'), 0, 'no longer listening to the link');
  });
});
