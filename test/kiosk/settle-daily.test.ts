// The daemon's daily settlement run, in process against the sandbox: a clean day is one log line; a day of
// payments with one injected mismatch (a platform charge the journal does not know) ends with exactly that
// order on the attention list (kiosk report); the scheduler waits for the time of day, a free kiosk and the link,
// and retries with backoff.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import { DailySettlement } from '../../src/kiosk/settle-daily.js';
import type { PaymentRecord } from '../../src/kiosk/interaction.js';
import { silentLogger } from '../../src/log.js';
import type { SettleDayResult } from '../../src/payment/settle-day.js';
import { testCode } from '../../src/sandbox/index.js';
import { ymd } from '../../src/sandbox/ledger.js';
import { run as report } from '../../src/cli/report.js';
import { run as settleCli } from '../../src/cli/settle.js';
import { call, micropayFields } from '../sandbox/helpers.js';
import { DaemonFixture, LogCapture, type LogLine } from './daemon-helpers.js';

describe('kiosk daemon: daily settlement', function () {
  let fx: DaemonFixture;
  let daemon: Daemon | undefined;
  let lines: LogLine[];
  let clock: Date;
  beforeEach(async () => {
    fx = await new DaemonFixture().start();
    const capture = new LogCapture();
    lines = capture.lines;
    clock = new Date();
    const config = loadConfig(fx.writeConfig({ daemon: { graceMs: 1000, controlSocket: join(fx.dir, 'k.sock'), lockFile: join(fx.dir, 'k.lock'), settleAt: '00:00' } }));
    daemon = await Daemon.start(config, { log: capture.log, walPurgeIdleMs: 20, timing: { resultMs: 20 }, settleNow: () => clock, settleTiming: { startDelayMs: 3_600_000 } });
  });
  afterEach(async () => {
    await daemon?.stop();
    await fx.dispose();
  });

  const paid = (d: Daemon) => new Promise<PaymentRecord>((resolve) => d.interaction.once('payment', resolve));
  const settleLines = () => lines.filter((l) => typeof l.event === 'string' && String(l.event).startsWith('settlement'));

  it('a clean day is one log line and is stored; the next check does not fetch it again', async () => {
    const d = daemon!;
    await d.settlement!.kick();
    const yesterday = ymd(new Date(clock.getFullYear(), clock.getMonth(), clock.getDate() - 1));
    assert.deepEqual(settleLines().map((l) => [l.event, l.stlDate, l.ok]), [['settlement', yesterday, true]]);
    assert.equal(lines.filter((l) => l.event === 'attention').length, 0);
    assert.equal(d.journal.reconciled(yesterday), true);
    const before = fx.sandbox.stats().requests['/pay/downloadSettleFile'];
    await d.settlement!.kick();
    assert.equal(fx.sandbox.stats().requests['/pay/downloadSettleFile'], before);
  });

  it('a day of payments with one platform charge unknown to the journal: exactly that order ends on the attention list', async () => {
    const d = daemon!;
    const ready = () =>
      d.interaction.state.name === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => d.interaction.once('state', (st: { name: string }) => (st.name === 'ready' ? resolve() : void ready().then(resolve))));
    for (let i = 0; i < 4; i++) {
      await ready();
      const p = paid(d);
      d.hardware.scanner.emit('code', testCode('paid', i % 2 ? 'alipay' : 'wechat'));
      assert.equal((await p).result.kind, 'approved');
    }
    // Each paid order keeps the settlement day the platform's answer gave (micropay stlDate).
    assert.deepEqual(d.journal.list({ state: 'delivered' }).map((o) => o.stlDate), Array(4).fill(ymd(new Date())));
    // The injected mismatch: a charge at the platform under this kiosk's order-number form that the journal never saw.
    const day = ymd(clock);
    const stray = `TEST01${day}777777`;
    const r = await call(fx.sandbox, 'micropay', micropayFields(testCode('paid', 'wechat'), 'wechat', { orderNo: stray, txnAmt: '100' }));
    assert.equal(r.json!.respCode, '00');
    clock = new Date(clock.getFullYear(), clock.getMonth(), clock.getDate() + 1, 0, 30); // the next morning
    await ready(); // while the last customer's result shows, the run waits (busy)
    await d.settlement!.kick();
    const last = settleLines().at(-1)!;
    assert.ok(last, JSON.stringify(lines.filter((l) => Number(l.level) >= 40 || String(l.event ?? '').includes('settle')).slice(-5)));
    assert.deepEqual([last.event, last.stlDate, last.ok, last.mismatches, last.rows], ['settlement', day, false, 1, 5]);
    assert.deepEqual(lines.filter((l) => l.event === 'attention').map((l) => l.orderNo), [stray]);
    // kiosk report lists it (exit 1: something needs a person) and shows the reconciliation.
    let out = '';
    const code = await report(['--json', '--config', fx.configFile], { out: (s: string) => void (out += s), err: () => undefined, env: {}, errIsTTY: false, outIsTTY: false });
    assert.equal(code, 1);
    const rep = JSON.parse(out) as { attention: { orderNo: string; why: string }[]; lastSettlement: { stlDate: string; ok: boolean } };
    assert.deepEqual(rep.attention.map((a) => a.orderNo), [stray]);
    assert.match(rep.attention[0]!.why, /^settlement \d{8}: platform charged ¥1\.00 for an order the journal does not know$/);
    assert.deepEqual([rep.lastSettlement.stlDate, rep.lastSettlement.ok], [day, false]);
    // Dealt with: acknowledged with a note, it leaves the attention list (and stays in the journal).
    const io = { out: () => undefined, err: () => undefined, env: {}, errIsTTY: false, outIsTTY: false };
    assert.equal(await settleCli(['--ack', stray, '--config', fx.configFile], io), 2, 'a note is required');
    assert.equal(await settleCli(['--ack', stray, '--note', 'refunded by hand, ticket 42', '--config', fx.configFile], io), 0);
    assert.equal(await report(['--json', '--config', fx.configFile], io), 0);
    assert.equal(d.journal.settleFindings()[0]!.ackedAt !== null, true);
  });
});

describe('kiosk: DailySettlement scheduling', () => {
  const ok = (stlDate: string): SettleDayResult => ({ kind: 'reconciled', stlDate, ok: true, file: 'f', bytes: 0, charset: 'ascii', rows: 0, mismatches: [], newFindings: 0, comparison: undefined as never });
  function make(over: { now: Date; online?: boolean; busy?: boolean; results?: SettleDayResult[] }) {
    const runs: string[] = [];
    const done = new Set<string>();
    const state = { online: over.online ?? true, busy: over.busy ?? false, now: over.now };
    let release: () => void = () => undefined;
    const s = new DailySettlement({
      at: '09:30',
      run: async (day) => {
        runs.push(day);
        const r = over.results?.shift() ?? ok(day);
        if (r.kind === 'reconciled') done.add(day);
        return r;
      },
      reconciled: (d) => done.has(d),
      online: () => state.online,
      whenOnline: () => new Promise<void>((resolve) => (release = resolve)),
      busy: () => state.busy,
      log: silentLogger,
      now: () => state.now,
      timing: { startDelayMs: 3_600_000 },
    });
    return { s, runs, state, goOnline: () => release() };
  }

  it('not before the time of day; then the previous day, once', async () => {
    const t = make({ now: new Date(2026, 11, 1, 9, 0) });
    await t.s.kick();
    assert.deepEqual(t.runs, []);
    t.state.now = new Date(2026, 11, 1, 9, 31);
    await t.s.kick();
    await t.s.kick();
    assert.deepEqual(t.runs, ['20261130']);
    t.s.stop();
  });

  it('waits while a customer is being served, and for the link', async () => {
    const t = make({ now: new Date(2026, 11, 1, 10, 0), busy: true, online: false });
    const waiting = t.s.kick();
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(t.runs, []);
    t.goOnline();
    await waiting;
    assert.deepEqual(t.runs, [], 'still busy');
    t.state.busy = false;
    t.state.online = true;
    await t.s.kick();
    assert.deepEqual(t.runs, ['20261130']);
    t.s.stop();
  });

  it('a failed fetch is retried (the day stays open), a success closes it', async () => {
    const t = make({ now: new Date(2026, 11, 1, 10, 0), results: [{ kind: 'failed', stlDate: '20261130', cause: 'ECONNRESET' }] });
    await t.s.kick();
    assert.equal(t.s.last?.kind, 'failed');
    await t.s.kick();
    assert.equal(t.s.last?.kind, 'reconciled');
    await t.s.kick();
    assert.deepEqual(t.runs, ['20261130', '20261130']);
    t.s.stop();
  });
});
