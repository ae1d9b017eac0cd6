// LinkMonitor and LinkGateway on a fake clock: states with hysteresis, probe pace, passive evidence,
// one log line per change, background calls waiting while offline and resuming oldest first.
import assert from 'node:assert/strict';
import { bindIndicator, linkEvidence, LinkMonitor, linkStatus, type LinkChange } from '../../src/payment/link.js';
import { LinkGateway } from '../../src/payment/link-gateway.js';
import type { CallName, CallResult } from '../../src/umpay/types.js';
import { FakeGateway, logCapture } from '../payment/fakes.js';
import { FakeClock } from '../fake-clock.js';

function result(call: CallName, kind: 'ok' | 'refused' | 'unsigned' | 'html' | 'reset', outcome?: object): CallResult {
  const base = { call, request: {}, plaintext: '', elapsedMs: 1 };
  switch (kind) {
    case 'ok':
      return { ...base, outcome: outcome ?? { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' }, delivery: 'answered', signatureValid: true, answer: { respCode: '17' } } as CallResult;
    case 'unsigned':
      return { ...base, outcome: { kind: 'UNKNOWN', cause: 'signature does not verify' }, delivery: 'answered', signatureValid: false, answer: { respCode: '00' } };
    case 'html':
      return { ...base, outcome: { kind: 'UNKNOWN', cause: 'HTTP 502' }, delivery: 'answered', httpStatus: 502, cause: 'HTTP 502' };
    case 'reset':
      return { ...base, outcome: { kind: 'UNKNOWN', cause: 'ECONNRESET' }, delivery: 'maybe-sent', cause: 'ECONNRESET: socket hang up' };
    case 'refused':
      return { ...base, outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent', cause: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9' };
  }
}

describe('link monitor (fake clock)', () => {
  let clock: FakeClock;
  let up: boolean;
  let probes: number[];
  let changes: LinkChange[];
  let monitor: LinkMonitor;
  let logged: Record<string, unknown>[];

  beforeEach(() => {
    clock = new FakeClock();
    up = true;
    probes = [];
    changes = [];
    const cap = logCapture();
    logged = cap.lines;
    monitor = new LinkMonitor({
      clock,
      log: cap.log,
      probe: async () => {
        probes.push(clock.mono());
        return result('queryOrder', up ? 'ok' : 'refused');
      },
    });
    monitor.on('change', (c: LinkChange) => changes.push(c));
  });
  afterEach(async () => {
    const stopping = monitor.stop();
    await clock.advance(0);
    await stopping;
  });

  const linkLines = (): Record<string, unknown>[] => logged.filter((l) => l.event === 'link');

  it('probes at once, then every 30 s while online', async () => {
    monitor.start();
    await clock.advance(0);
    assert.equal(probes.length, 1);
    await clock.advance(5 * 60_000);
    assert.equal(probes.length, 11); // t=0 and every 30 s for 5 minutes
    assert.equal(monitor.state, 'online');
    assert.deepEqual(changes, []);
  });

  it('with a reachability check: an idle day is 2,880 connects and 24 signed queries; a failed real call makes the next probe signed', async () => {
    await monitor.stop();
    const reaches: number[] = [];
    let reachable = true;
    monitor = new LinkMonitor({
      clock,
      probe: async () => {
        probes.push(clock.mono());
        return result('queryOrder', up ? 'ok' : 'refused');
      },
      reach: async () => {
        reaches.push(clock.mono());
        return reachable ? { ok: true, cause: 'connects' } : { ok: false, cause: 'ECONNREFUSED' };
      },
    });
    monitor.start();
    await clock.advance(0);
    assert.deepEqual([probes.length, reaches.length], [1, 0], 'the first probe proves the whole path');
    await clock.advance(24 * 3_600_000 - 1);
    assert.equal(probes.length, 24, 'one signed query an hour');
    assert.equal(probes.length + reaches.length, 2880, 'one probe every 30 s');
    assert.equal(monitor.snapshot().signedProbes, 24);
    // A real call fails: the next probe is a signed one (does the whole path still work?), then connects again.
    monitor.record(result('cancelOrder', 'reset'));
    const signedBefore = probes.length;
    await clock.advance(30_000);
    assert.equal(probes.length, signedBefore + 1);
    await clock.advance(30_000);
    assert.equal(probes.length, signedBefore + 1);
    // Connects that fail take the link down like any other evidence.
    reachable = false;
    await clock.advance(60_000);
    assert.equal(monitor.state, 'offline');
  });

  it('goes degraded on the first failure, offline after three in a row, probing every 5 s; one log line per change', async () => {
    const t0 = clock.wall();
    up = false;
    monitor.start();
    await clock.advance(0);
    assert.equal(monitor.state, 'degraded');
    await clock.advance(5_000);
    assert.equal(monitor.state, 'degraded');
    await clock.advance(5_000);
    assert.equal(monitor.state, 'offline');
    assert.deepEqual(
      changes.map((c) => [c.from, c.to, c.at - t0]),
      [
        ['online', 'degraded', 0],
        ['degraded', 'offline', 10_000],
      ],
    );
    // A minute offline: a probe every 5 s, no further change, no further log line.
    const before = probes.length;
    await clock.advance(60_000);
    assert.equal(probes.length - before, 12);
    assert.equal(changes.length, 2);
    assert.equal(linkLines().length, 2);
    assert.match(String(linkLines()[1]!.msg), /degraded → offline \(probe: queryOrder: ECONNREFUSED/);
    assert.equal(linkLines()[1]!.level, 40); // warn
  });

  it('comes back through degraded: two successes in a row; whenOnline resolves then', async () => {
    up = false;
    monitor.start();
    await clock.advance(10_000);
    assert.equal(monitor.state, 'offline');
    let online = false;
    void monitor.whenOnline().then(() => (online = true));
    up = true;
    await clock.advance(5_000);
    assert.equal(monitor.state, 'degraded');
    assert.equal(online, false);
    await clock.advance(5_000);
    assert.equal(monitor.state, 'online');
    assert.equal(online, true);
    assert.deepEqual(
      changes.map((c) => c.to),
      ['degraded', 'offline', 'degraded', 'online'],
    );
    // Online again: back to the slow pace.
    const n = probes.length;
    await clock.advance(60_000);
    assert.equal(probes.length - n, 2);
  });

  it('a flapping link (one answer, one failure) stays degraded: no storm of changes', async () => {
    let i = 0;
    monitor = new LinkMonitor({ clock, probe: async () => result('queryOrder', i++ % 2 ? 'ok' : 'refused') });
    monitor.on('change', (c: LinkChange) => changes.push(c));
    monitor.start();
    await clock.advance(10 * 60_000);
    assert.deepEqual(
      changes.map((c) => c.to),
      ['degraded'],
    );
  });

  it('real calls are evidence: answers postpone the probe; a burst of failures is one observation', async () => {
    monitor.start();
    await clock.advance(0);
    const n = probes.length;
    // A signed answer every 10 s for two minutes: no probe needed.
    for (let k = 0; k < 12; k++) {
      await clock.advance(10_000);
      monitor.record(result('cancelOrder', 'ok', { kind: 'DONE' }));
    }
    assert.equal(probes.length, n);
    // Four reversals refused in the same instant: one observation → degraded, not offline.
    up = false;
    for (let k = 0; k < 4; k++) monitor.record(result('cancelOrder', 'refused'));
    assert.equal(monitor.state, 'degraded');
    // Then the faster pace applies at once (probes confirm within 10 s).
    await clock.advance(10_000);
    assert.equal(monitor.state, 'offline');
  });

  it('what counts as proof: a signed answer, even "no such order" or a rate limit; not an unsigned, HTML or reset answer', () => {
    assert.equal(linkEvidence(result('queryOrder', 'ok')).ok, true);
    assert.equal(linkEvidence(result('queryOrder', 'ok', { kind: 'UNKNOWN', cause: '37', rateLimited: true })).ok, true);
    assert.equal(linkEvidence(result('queryOrder', 'unsigned')).ok, false);
    assert.equal(linkEvidence(result('queryOrder', 'html')).ok, false);
    assert.equal(linkEvidence(result('micropay', 'reset')).ok, false);
    assert.match(linkEvidence(result('micropay', 'refused')).cause, /micropay: ECONNREFUSED.*\(not-sent\)/);
    assert.match(linkEvidence(result('queryOrder', 'unsigned')).cause, /signature does not verify/);
  });

  it('a probe that throws counts against the link', async () => {
    monitor = new LinkMonitor({ clock, probe: async () => Promise.reject(new Error('boom')), timing: { failuresToOffline: 1 } });
    monitor.start();
    await clock.advance(0);
    assert.equal(monitor.state, 'offline');
    assert.match(monitor.snapshot().lastFailure ?? '', /probe threw: boom/);
  });

  it('bindIndicator: the kiosk is told offline exactly while the link is offline', async () => {
    const told: boolean[] = [];
    bindIndicator(monitor, { linkOnline: (o) => void told.push(o) });
    up = false;
    monitor.start();
    await clock.advance(10_000);
    up = true;
    await clock.advance(10_000);
    assert.deepEqual(told, [true, true, false, true, true]); // initial, degraded, offline, degraded, online
    assert.equal(monitor.state, 'online');
  });
});

describe('link gateway: background work waits for the link (fake clock)', () => {
  let clock: FakeClock;
  let inner: FakeGateway;
  let monitor: LinkMonitor;
  let lg: LinkGateway;

  beforeEach(() => {
    clock = new FakeClock();
    inner = new FakeGateway();
    inner.on('cancelOrder', { kind: 'DONE' }).on('closeOrder', { kind: 'DONE' }).on('refundQuery', { kind: 'REFUNDED' }).on('refund', { kind: 'ACCEPTED' });
    inner.on('micropay', { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' });
    inner.on('queryOrder', { outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent' });
    monitor = new LinkMonitor({ clock, probe: () => inner.queryOrder({ orderNo: 'PROBE' }), timing: { failuresToOffline: 1, successesToOnline: 1 } });
    lg = new LinkGateway(inner, monitor, { clock, resumeSpacingMs: 100 });
  });
  afterEach(async () => {
    lg.close();
    const s = monitor.stop();
    await clock.advance(0);
    await s;
  });

  it('holds reversals/refunds while offline, lets micropay and queryOrder through, resumes oldest order first with spacing', async () => {
    monitor.start();
    await clock.advance(0);
    assert.equal(monitor.state, 'offline');
    // micropay and queryOrder still go (and are evidence).
    const mp = await lg.micropay({ orderTime: '20260601100000', orderNo: 'K0120260601000009', txnAmt: '1', orderType: 'wechat', authCode: '134567890123456789', goodsId: 'G', goodsInfo: 'g' });
    assert.equal(mp.delivery, 'not-sent');
    const sentBefore = inner.sent.length;
    const results: string[] = [];
    const track = (p: Promise<CallResult>, name: string): void => void p.then((r) => results.push(`${name}:${r.delivery}@${clock.mono() - t0}`));
    const t0 = clock.mono();
    track(lg.cancelOrder({ orderNo: 'K0120260601000003' }), 'cancel3');
    track(lg.refundQuery({ orderNo: 'K0120260601000001R1' }), 'rq1');
    track(lg.closeOrder({ orderNo: 'K0120260601000002' }), 'close2');
    track(lg.refund({ orderTime: '20260601100000', origOrderNo: 'K0120260601000010', origTxnAmt: '1', orderNo: 'K0120260601000010R1', txnAmt: '1' }), 'refund10');
    await clock.advance(60_000);
    assert.equal(inner.sent.length - sentBefore, 12, 'only the 12 probes of the minute went out');
    assert.deepEqual(results, []);
    assert.deepEqual(lg.waiting.count, 4);
    assert.equal(linkStatus(monitor, { unfinishedSummary: () => ({ count: 4, oldestCreatedAt: '2026-06-01T02:00:00.000Z' }) }, lg).waiting.heldCalls, 4);
    inner.on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' });
    await clock.advance(5_000);
    assert.equal(monitor.state, 'online');
    await clock.advance(1_000);
    assert.deepEqual(
      inner.sent.filter((s) => s.call !== 'queryOrder').slice(1).map((s) => s.fields.orderNo ?? s.fields.origOrderNo),
      ['K0120260601000001R1', 'K0120260601000002', 'K0120260601000003', 'K0120260601000010R1'],
    );
    assert.deepEqual(results, ['rq1:answered@65000', 'close2:answered@65100', 'cancel3:answered@65200', 'refund10:answered@65300']);
    assert.equal(lg.waiting.count, 0);
  });

  it('close() releases waiting calls as not sent, without sending them', async () => {
    monitor.start();
    await clock.advance(0);
    const p = lg.cancelOrder({ orderNo: 'K0120260601000003' });
    await clock.advance(1000);
    lg.close();
    const r = await p;
    assert.equal(r.delivery, 'not-sent');
    assert.equal(inner.count('cancelOrder'), 0);
  });

  it('uses the given rank (journal sequence) over the order number', async () => {
    lg.close();
    const rank = new Map([
      ['B', 2],
      ['A', 3],
      ['C', 1],
    ]);
    lg = new LinkGateway(inner, monitor, { clock, resumeSpacingMs: 0, rank: (o) => rank.get(o) });
    monitor.start();
    await clock.advance(0);
    for (const o of ['A', 'B', 'C']) void lg.cancelOrder({ orderNo: o });
    await clock.advance(1000);
    inner.on('queryOrder', { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' });
    await clock.advance(5000);
    assert.deepEqual(
      inner.sent.filter((s) => s.call === 'cancelOrder').map((s) => s.fields.orderNo),
      ['C', 'B', 'A'],
    );
  });
});
