// Offline drills: the real engine, link monitor and customer interaction against the sandbox over real HTTP
// behind a switchable proxy, on fake time. Each drill ends with the money invariants of the crash harness
// plus: no order sent after its code's validity; a provably-unsent order never reversed or refunded; the
// indicator and `kiosk status` agree with the link state.
import assert from 'node:assert/strict';
import { testCode } from '../../src/sandbox/index.js';
import { DEFAULT_TIMING } from '../../src/payment/engine.js';
import { offlineInvariants } from './checks.js';
import { World } from './world.js';

const VALIDITY = DEFAULT_TIMING.codeValidityMs;
let nonce = 1000;
const code = (b: Parameters<typeof testCode>[0], wallet: Parameters<typeof testCode>[1] = 'wechat'): string => testCode(b, wallet, nonce++);

function assertClean(w: World, validity = VALIDITY): Record<string, number> {
  const v = offlineInvariants(w, validity);
  assert.deepEqual(v.problems, []);
  return v.byState;
}

describe('offline drills (sandbox behind a switchable proxy, fake time)', function () {
  this.timeout(20_000);
  let w: World;
  afterEach(async () => {
    await w?.close();
  });

  it('gateway down before the scan: indicator offline while idle; a scan anyway is retried as the same order, then failed-not-sent; nothing to reverse', async () => {
    w = await World.create({ device: 'DRILLA' });
    await w.clock.advance(0);
    assert.equal(w.state, 'online');
    assert.equal(w.shown.at(-1)!.pattern, 'ready');
    await w.setLink('refuse');
    await w.clock.advance(45_000); // the next slow probe (30 s) + two at the fast pace
    assert.equal(w.state, 'offline');
    assert.equal(w.shown.at(-1)!.pattern, 'offline');
    assert.equal(w.status().link.state, 'offline');
    assert.deepEqual(
      w.changes.map((c) => c.to),
      ['degraded', 'offline'],
    );

    const rec = await w.scan(code('paid'));
    assert.equal(rec.result.kind, 'refused');
    assert.equal((rec.result as { reason: string }).reason, 'offline');
    assert.equal(rec.pattern, 'offline');
    const o = w.journal.list()[0]!;
    assert.equal(o.state, 'failed-not-sent');
    assert.ok(o.sendAttempts > 3, `retried: ${o.sendAttempts} sends`);
    assert.equal(o.sendAttempts, o.notSent);
    const events = w.journal.events(o.orderNo);
    assert.ok(events.every((e) => e.cause !== 'not-sent' || e.delivery === 'not-sent'));
    assert.equal(w.sandbox.ledger().orders.length, 0, 'the platform never saw it');

    await w.setLink('pass');
    await w.clock.advance(10_000);
    assert.equal(w.state, 'online');
    assert.equal(w.shown.at(-1)!.pattern, 'ready');
    assertClean(w);
  });

  it('gateway down between scan and send: the unsent order is re-sent (same orderNo, orderTime) when the link returns within the code validity → paid', async () => {
    w = await World.create({ device: 'DRILLB' });
    await w.clock.advance(0);
    // Cut the moment the order is journaled (fresh connections: the router's uplink is gone).
    w.engine.once('transition', (t: { to: string }) => {
      if (t.to !== 'created') return;
      void w.clock.track(w.setLink('refuse'));
      w.http.close();
      void w.clock.sleep(12_000).then(() => w.clock.track(w.setLink('pass')));
    });
    const from = w.shown.length;
    const rec = await w.scan(code('paid', 'alipay'));
    assert.equal(rec.result.kind, 'approved');
    // The customer sees 'offline' while the unsent request is retried, then success.
    assert.deepEqual(
      w.shown.slice(from).map((s) => s.pattern),
      ['processing', 'offline', 'success', 'ready'],
    );
    const o = w.journal.list()[0]!;
    assert.equal(o.state, 'delivered');
    assert.ok(o.notSent >= 2 && o.sendAttempts === o.notSent + 1, `${o.sendAttempts} sends, ${o.notSent} not sent`);
    const micropays = w.sent.filter((s) => s.call === 'micropay');
    assert.ok(micropays.length >= 3 && micropays.every((m) => m.orderNo === o.orderNo && m.orderTime === o.orderTime), 'every send is the same order');
    const ledger = w.sandbox.ledger().orders;
    assert.equal(ledger.length, 1);
    assert.equal(ledger[0]!.charged, 1);
    assertClean(w);
  });

  it('gateway down between scan and send, never back within the validity: failed-not-sent, no reversal, nothing at the platform', async () => {
    w = await World.create({ device: 'DRILLC' });
    await w.clock.advance(0);
    w.engine.once('transition', () => {
      void w.clock.track(w.setLink('refuse'));
      w.http.close();
    });
    const rec = await w.scan(code('paid', 'unionpay'));
    assert.equal(rec.result.kind, 'refused');
    const o = w.journal.list()[0]!;
    assert.equal(o.state, 'failed-not-sent');
    const last = w.sent.filter((s) => s.call === 'micropay').at(-1)!;
    assert.ok(last.at <= o.scannedAt + VALIDITY);
    await w.clock.advance(10 * 60_000); // the link stays down: nothing else is sent for it
    await w.setLink('pass');
    await w.settle();
    assert.equal(
      w.sent.filter((s) => !s.probe && s.call !== 'micropay').length,
      0,
    );
    assert.equal(w.sandbox.ledger().orders.length, 0);
    assertClean(w);
  });

  it('gateway down after the request was written (charged, answer lost), back within the customer window: the query finds it paid → delivered', async () => {
    w = await World.create({ device: 'DRILLD' });
    await w.clock.advance(0);
    await w.setLink('drop-after-request');
    void w.clock.sleep(20_000).then(() => w.clock.track(w.setLink('pass')));
    const rec = await w.scan(code('paid'));
    assert.equal(rec.result.kind, 'approved');
    const o = w.journal.list()[0]!;
    assert.equal(o.state, 'delivered');
    const first = w.sent.find((s) => s.call === 'micropay')!;
    assert.equal(first.delivery, 'maybe-sent');
    assert.ok(w.journal.events(o.orderNo).some((e) => e.to === 'unknown' && e.delivery === 'maybe-sent'), 'the journal says why: maybe sent');
    assert.equal(w.sandbox.ledger().orders[0]!.charged, 1);
    assertClean(w);
  });

  it('gateway down after the request was written, and still down after the window: not charged; the reversal waits for the link, then the charge is returned', async () => {
    w = await World.create({ device: 'DRILLE' });
    await w.clock.advance(0);
    await w.setLink('drop-after-request');
    const rec = await w.scan(code('paid', 'wechat'));
    assert.equal(rec.result.kind, 'not-charged');
    await w.setLink('refuse');
    await w.clock.advance(10 * 60_000);
    const o = w.journal.list()[0]!;
    assert.equal(o.state, 'reversing');
    assert.equal(w.gateway.waiting.count, 1);
    assert.deepEqual(
      { count: w.status().waiting.count, since: w.status().waiting.since },
      { count: 1, since: o.createdAt },
    );
    assert.equal(w.sandbox.ledger().orders[0]!.netFen, 150, 'still charged while the link is down');
    await w.setLink('pass');
    await w.settle();
    assert.equal(w.journal.get(o.orderNo)!.state, 'reversed');
    assert.equal(w.sandbox.ledger().orders[0]!.netFen, 0);
    assertClean(w);
  });

  it('a black hole swallows the request (timeout after it was written): maybe sent, so queried and reversed, never failed-not-sent, though the platform never saw it', async () => {
    w = await World.create({ device: 'DRILLH' });
    await w.clock.advance(0);
    await w.setLink('blackhole');
    // Back as soon as the micropay has timed out (fake time stands still while it is on the wire).
    void w.clock.sleep(1).then(() => w.clock.track(w.setLink('pass')));
    const rec = await w.scan(code('paid', 'wechat'));
    const o = w.journal.list()[0]!;
    assert.equal(w.sent.find((s) => s.call === 'micropay')!.delivery, 'maybe-sent');
    assert.notEqual(rec.result.kind, 'approved');
    await w.settle();
    assert.equal(w.journal.get(o.orderNo)!.state, 'reversed');
    assert.equal(w.sandbox.ledger().orders.filter((l) => l.charged > 0).length, 0);
    assertClean(w);
  });

  it('flapping every 3 s for a minute while customers pay: every order ends safe, the link state changes far less often than the link', async () => {
    w = await World.create({ device: 'DRILLF' });
    await w.clock.advance(0);
    let toggles = 0;
    const flapping = (async () => {
      for (let t = 0; t < 20; t++) {
        await w.clock.sleep(3_000);
        await w.clock.track(w.setLink(t % 2 === 0 ? 'refuse' : 'pass'));
        toggles++;
      }
      await w.clock.track(w.setLink('pass'));
    })();
    const kinds = ['paid', 'pending-then-paid', 'answer-lost', 'pending-forever', 'insufficient-balance'] as const;
    const wallets = ['wechat', 'alipay', 'unionpay'] as const;
    for (let i = 0; i < 8; i++) {
      await w.scan(code(kinds[i % kinds.length]!, wallets[i % wallets.length]));
      await w.clock.advance(2_000);
    }
    await w.clock.run(flapping);
    await w.settle();
    await w.clock.advance(30_000);
    assert.equal(w.state, 'online');
    assert.equal(toggles, 20);
    assert.ok(w.changes.length < toggles, `${w.changes.length} link changes for ${toggles} toggles`);
    const byState = assertClean(w);
    assert.equal(Object.values(byState).reduce((a, b) => a + b, 0), 8);
  });

  it('down for an hour with 50 orders waiting: no effort wasted, nothing in attention; back online they finish oldest first within the pace', async function () {
    // 50 orders through the real journal and HTTP on a fake clock: 8 s alone on a loaded 2-core machine, more
    // beside the whole suite; the bound is for a hang, not a speed check (bench/ measures speed).
    this.timeout(60_000);
    w = await World.create({ device: 'DRILLG', timing: { customerWindowMs: 20_000, queryIntervalMs: 5_000 } });
    await w.clock.advance(0);
    await w.setLink('drop-after-request'); // answers lost, charges recorded
    const wallets = ['wechat', 'alipay', 'unionpay'] as const;
    for (let i = 0; i < 50; i++) {
      const r = await w.scan(code(i % 5 === 4 ? 'pending-forever' : 'paid', wallets[i % 3]));
      assert.equal(r.result.kind, 'not-charged');
    }
    await w.setLink('refuse');
    const outageStart = w.clock.mono();
    const sentBefore = w.sent.filter((s) => !s.probe).length;
    await w.clock.advance(3600_000);
    assert.equal(w.state, 'offline');
    const st = w.status();
    assert.equal(st.waiting.count, 50);
    assert.equal(st.waiting.since, w.journal.list().at(-1)!.createdAt);
    assert.equal(w.sent.filter((s) => !s.probe).length, sentBefore, 'no reversal or refund attempted during the outage');
    assert.ok(w.sent.filter((s) => s.probe && s.at >= outageStart).length <= 3600 / 5 + 1, 'probes at the offline pace');
    assert.equal(w.journal.unfinished().filter((o) => o.state === 'attention').length, 0);

    await w.setLink('pass');
    const back = w.clock.mono();
    await w.settle();
    assert.equal(w.journal.unfinished().length, 0);
    // Oldest first: the first background call for each order after the outage follows the journal sequence.
    const after = w.sent.filter((s) => !s.probe && s.at >= back);
    const firstFor: string[] = [];
    for (const s of after) if (!firstFor.includes(s.orderNo.replace(/R\d+$/, ''))) firstFor.push(s.orderNo.replace(/R\d+$/, ''));
    const bySeq = w.journal
      .list()
      .slice()
      .sort((a, b) => a.seq - b.seq)
      .map((o) => o.orderNo);
    assert.deepEqual(firstFor, bySeq);
    // Within the pace: at most 1 s / minRequestIntervalMs background starts in any second (plus the concurrency burst).
    const limit = 1000 / DEFAULT_TIMING.minRequestIntervalMs + DEFAULT_TIMING.concurrency;
    for (const s of after) {
      const inSecond = after.filter((x) => x.at >= s.at && x.at < s.at + 1000).length;
      assert.ok(inSecond <= limit, `${inSecond} requests in one second from +${s.at - back} ms`);
    }
    const byState = assertClean(w);
    assert.equal((byState.reversed ?? 0) + (byState.refunded ?? 0), 50);
  });
});
