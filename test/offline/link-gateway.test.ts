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

  /** Who goes first when the link comes back: the orders, waiting in this arrival order, ranked by `rank`. */
  const resumeOrder = async (rank: Map<string, number | string>, orders: string[]): Promise<unknown[]> => {
    lg.close();
    lg = new LinkGateway(inner, monitor, { clock, resumeSpacingMs: 0, rank: (o) => rank.get(o) });
    for (const o of orders) void lg.cancelOrder({ orderNo: o });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(10);
    return inner.sent.map((s) => s.fields.orderNo);
  };
  /** Three orders waited for the link; it is back and the first of them was just sent. */
  const threeResuming = async (): Promise<void> => {
    for (const no of ['K1000001', 'K1000002', 'K1000003']) void lg.closeOrder({ orderNo: no });
    await clock.advance(0);
    monitor.observe(true, 'probe ok');
    await clock.advance(0);
    assert.equal(inner.count('closeOrder'), 1);
  };
  /** Failures a second apart (each one counts) until the link is offline. */
  const failUntilOffline = (): void => {
    while (monitor.state !== 'offline') {
      clock.tick(1_000);
      monitor.observe(false, 'probe: ECONNREFUSED');
    }
  };
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
    await threeResuming();
    await clock.advance(99);
    assert.equal(inner.count('closeOrder'), 1);
    await clock.advance(1);
    assert.equal(inner.count('closeOrder'), 2);
    monitor.observe(false, 'probe: ECONNREFUSED');
    monitor.observe(false, 'probe: ECONNREFUSED');
    failUntilOffline();
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

  it('which order a call is about: a refund serial R<n> (any n) is cut off its query, only at the end; other numbers whole', async () => {
    // Device KR01; and an old number (before run ids) of device KR ends in R and digits itself.
    void lg.refundQuery({ orderNo: 'KR0120260601000007_abcdefghjkR12' });
    void lg.cancelOrder({ orderNo: 'KR20260601000008' });
    await clock.advance(0);
    assert.deepEqual(lg.waiting.orders, ['KR0120260601000007_abcdefghjk', 'KR20260601000008']);
  });

  it('kiosk status: the oldest waiting call says since when', async () => {
    void lg.closeOrder({ orderNo: 'K1000001' });
    await clock.advance(0);
    clock.tick(5_000);
    void lg.closeOrder({ orderNo: 'K1000002' });
    await clock.advance(0);
    assert.deepEqual(lg.waiting, { count: 2, oldestSince: T0, orders: ['K1000001', 'K1000002'] });
  });

  it('ranks: a number compares as a number (a fraction too); an order the rank does not know comes after the ranked ones', async () => {
    const rank = new Map([['A', 10], ['B', 2.5], ['C', 3]]);
    assert.deepEqual(await resumeOrder(rank, ['K1000009', 'A', 'B', 'C']), ['B', 'C', 'A', 'K1000009']);
  });

  it('ranks: a number and a text compare as text (shorter first, then text order), whichever came first', async () => {
    assert.deepEqual(await resumeOrder(new Map([['A', 10], ['B', 2]]), ['A', 'B', 'Z']), ['B', 'Z', 'A']);
  });

  it('the customer path\'s calls are evidence under their own names', async () => {
    const sources: string[] = [];
    monitor.on('evidence', (e: { source: string }) => sources.push(e.source));
    await lg.micropay({ orderTime: '20260601100000', orderNo: 'K1000009', txnAmt: '1', orderType: 'wechat', authCode: '134567890123456789', goodsId: 'G', goodsInfo: 'g' });
    await lg.queryOrder({ orderNo: 'K1000009' });
    assert.deepEqual(sources, ['micropay', 'queryOrder']);
  });

  it('a gateway that throws null is a failure in words; the null reaches the caller', async () => {
    monitor.observe(true, 'probe ok');
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a gateway bug may throw anything
    inner.cancelOrder = () => Promise.reject(null);
    await assert.rejects(lg.cancelOrder({ orderNo: 'K1' }), (e) => e === null);
    assert.equal(monitor.snapshot().lastFailure, 'cancelOrder threw: null');
  });

  it('a resume stopped by a failure: later calls queue behind the rest (not while degraded), and it is not logged as resuming until online', async () => {
    await threeResuming();
    monitor.observe(false, 'probe: ECONNREFUSED');
    assert.equal(monitor.state, 'degraded');
    await clock.advance(100);
    assert.equal(inner.count('closeOrder'), 1, 'stopped while degraded');
    void lg.closeOrder({ orderNo: 'K1000000' });
    await clock.advance(0);
    assert.equal(inner.count('closeOrder'), 1, 'queued behind the two left, though the link is not offline');
    failUntilOffline();
    await clock.advance(0);
    assert.equal(cap.lines.filter((l) => l.event === 'link-resume').length, 1, 'going offline resumes nothing');
    monitor.observe(true, 'probe ok');
    await clock.advance(1_000);
    assert.deepEqual(inner.sent.map((s) => s.fields.orderNo), ['K1000001', 'K1000000', 'K1000002', 'K1000003']);
    assert.deepEqual(cap.lines.filter((l) => l.event === 'link-resume').map((l) => l.waiting), [3, 3]);
  });

  it('back online during a resume\'s spacing: still one call per spacing', async () => {
    await threeResuming();
    monitor.observe(false, 'probe: ECONNREFUSED');
    monitor.observe(true, 'probe ok');
    assert.equal(monitor.state, 'online');
    await clock.advance(0);
    assert.equal(inner.count('closeOrder'), 1);
    await clock.advance(100);
    assert.equal(inner.count('closeOrder'), 2);
  });

  it('a resume ends quietly once the queue is empty (an unhandled rejection would end the daemon)', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): number => unhandled.push(r);
    process.on('unhandledRejection', onUnhandled);
    try {
      const held = ['K1000001', 'K1000002'].map((no) => lg.closeOrder({ orderNo: no }));
      await clock.advance(0);
      monitor.observe(true, 'probe ok');
      await clock.advance(1_000);
      assert.deepEqual((await Promise.all(held)).map((r) => r.delivery), ['answered', 'answered']);
      await new Promise((r) => setImmediate(r)); // unhandledRejection is reported after the microtasks
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('nothing waiting: the link coming back logs no resume', async () => {
    monitor.observe(true, 'probe ok');
    await clock.advance(0);
    assert.equal(monitor.state, 'online');
    assert.equal(cap.lines.filter((l) => l.event === 'link-resume').length, 0);
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
