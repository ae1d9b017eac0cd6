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
import { systemClock } from '../../src/clock.js';
import type { SettleDayResult } from '../../src/payment/settle-day.js';
import { testCode } from '../../src/sandbox/index.js';
import { ymd } from '../../src/sandbox/ledger.js';
import { run as report } from '../../src/cli/report.js';
import { run as settleCli } from '../../src/cli/settle.js';
import { call, micropayFields, SP } from '../sandbox/helpers.js';
import type { Journal } from '../../src/journal/journal.js';
import { fetchAndReconcile } from '../../src/payment/settle-day.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import type { HttpGateway } from '../../src/umpay/client.js';
import { DrillClock } from '../offline/world.js';
import { settleWorld } from '../sandbox/settle-world.js';
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
    const settleClock = { ...systemClock, wall: () => clock.getTime() };
    daemon = await Daemon.start(config, { log: capture.log, walPurgeIdleMs: 20, timing: { resultMs: 20 }, settleClock, settleTiming: { startDelayMs: 3_600_000 } });
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

  // The run checked "kiosk not busy" only when it started. What it writes (the file, its sync, the journal's
  // reconciliation, the fleet event) and what takes the CPU (parsing) must not run while a customer pays.
  it('a customer who scans while the file is downloading goes first: the journal write waits until the customer is served', async () => {
    await daemon!.stop();
    // The result shows for 300 ms: the customer is still in front of the kiosk when the file arrives.
    daemon = await Daemon.start(loadConfig(fx.configFile), { log: silentLogger, walPurgeIdleMs: 20, timing: { resultMs: 300 }, settleTiming: { startDelayMs: 3_600_000 } });
    const d = daemon;
    const seen: string[] = [];
    const record = d.journal.recordReconciliation.bind(d.journal);
    d.journal.recordReconciliation = (r) => {
      seen.push(`journal write while ${d.interaction.state.name}`);
      return record(r);
    };
    d.interaction.on('payment', (p: PaymentRecord) => seen.push(`payment ${p.result.kind}`));
    d.interaction.on('state', (st: { name: string }) => seen.push(st.name));
    // The customer comes the moment the platform has the download request (the run has started: the kiosk was free).
    fx.sandbox.on('request', (e: { path: string }) => {
      if (e.path === '/pay/downloadSettleFile') d.hardware.scanner.emit('code', testCode('paid', 'wechat'));
    });
    await d.settlement!.kick();
    assert.equal(d.settlement!.last?.kind, 'reconciled');
    assert.deepEqual(seen.filter((s) => s.startsWith('journal') || s.startsWith('payment')), ['payment approved', 'journal write while ready'], JSON.stringify(seen));
    assert.equal(seen.at(-2), 'ready', JSON.stringify(seen));
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
      firstDay: () => '20261130',
      log: silentLogger,
      clock: { ...systemClock, wall: () => state.now.getTime() },
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

// Days and retries on fake time (the wall clock for the day, monotonic timers), each fetch real: the sandbox's
// settlement file over HTTP on 127.0.0.1, reconciled into a real journal. DrillClock jumps only when no fetch is in
// flight.
describe('kiosk: DailySettlement across midnight and missed days (fake clock, the sandbox file)', function () {
  this.timeout(20_000);
  let platformNow = new Date();
  const world = settleWorld('settle-days-', { now: () => platformNow });
  let sb: Sandbox;
  let dir: string;
  let gw: HttpGateway;
  let journal: Journal;
  beforeEach(() => ({ sb, dir, gw, journal } = world));

  const HOUR = 3_600_000;
  /** A payment at the platform on `day` (so that its file has a row, and a dropped connection cuts it short). */
  const paidOn = async (day: Date) => {
    platformNow = day;
    const r = await call(sb, 'micropay', micropayFields(testCode('paid', 'wechat'), 'wechat', { orderNo: `OTHER${ymd(day)}${day.getDate()}`, txnAmt: '100' }));
    assert.equal(r.json!.respCode, '00');
  };
  function settlement(clock: DrillClock, o: { firstDay?: string; maxDaysBack?: number } = {}) {
    const results: Array<[string, string]> = [];
    const causes: string[] = [];
    const s = new DailySettlement({
      at: '22:00',
      run: (day) => clock.track(fetchAndReconcile({ download: (d, to) => gw.downloadSettleFile(d, to), journal, deviceId: 'TEST01', acqMerId: SP.acqMerId, dir: join(dir, 'files') }, day)),
      reconciled: (day) => journal.reconciled(day),
      firstDay: () => o.firstDay,
      online: () => true,
      whenOnline: () => Promise.resolve(),
      busy: () => false,
      log: silentLogger,
      clock,
      onResult: (r) => {
        results.push([r.kind, r.stlDate]);
        if (r.kind !== 'reconciled') causes.push(r.cause);
      },
      timing: { startDelayMs: 0, ...(o.maxDaysBack ? { maxDaysBack: o.maxDaysBack } : {}) },
    });
    return { s, results, causes };
  }

  it('a day whose fetch keeps failing until after midnight is still fetched, before the next day', async () => {
    const clock = new DrillClock(new Date(2026, 11, 1, 23, 55).getTime());
    await paidOn(new Date(2026, 10, 30, 12, 0));
    await paidOn(new Date(2026, 11, 1, 12, 0));
    sb.setFaults([{ kind: 'settle-drop', count: 3 }]);
    const { s, results } = settlement(clock, { firstDay: '20261130' });
    s.start();
    await clock.advance(HOUR); // 23:55 fails, 23:56 fails, 23:58 fails, 00:02 (2 December) the file comes
    assert.deepEqual(results, [['failed', '20261130'], ['failed', '20261130'], ['failed', '20261130'], ['reconciled', '20261130']]);
    assert.equal(journal.reconciled('20261130'), true);
    await clock.advance(22 * HOUR); // 2 December 22:00: 1 December's file
    assert.deepEqual(results.slice(4), [['reconciled', '20261201']]);
    s.stop();
  });

  it('after days switched off: every missed day, oldest first, no further back than maxDaysBack', async () => {
    const clock = new DrillClock(new Date(2026, 11, 10, 23, 0).getTime());
    const { s, results } = settlement(clock, { firstDay: '20261125' });
    s.start();
    await clock.advance(HOUR);
    assert.deepEqual(results, ['20261203', '20261204', '20261205', '20261206', '20261207', '20261208', '20261209'].map((d) => ['reconciled', d]));
    s.stop();
  });

  it('a day that never comes is given up once it is maxDaysBack old; the days after it are not held back', async () => {
    const clock = new DrillClock(new Date(2026, 11, 1, 23, 0).getTime());
    const { s, results, causes } = settlement(clock, { firstDay: '20261130', maxDaysBack: 2 });
    await paidOn(new Date(2026, 10, 30, 12, 0)); // only this day's file has a row to cut off: the others come whole
    sb.setFaults([{ kind: 'settle-drop', count: Infinity }]);
    s.start();
    await clock.advance(24 * HOUR); // 2 December 23:00: 30 November still failing
    assert.ok(results.filter(([, d]) => d === '20261130').length > 3);
    // 1 December (due at 22:00 on 2 December) is not held back, and comes after 30 November's try of that round.
    const dec1 = results.findIndex(([k, d]) => k === 'reconciled' && d === '20261201');
    assert.ok(dec1 > 0, JSON.stringify(results));
    assert.deepEqual(results[dec1 - 1], ['failed', '20261130']);
    await clock.advance(24 * HOUR); // 3 December 23:00: 30 November is 3 days old
    const gaveUp = causes.filter((c) => /given up/.test(c));
    assert.equal(gaveUp.length, 1, JSON.stringify(causes.slice(-3)));
    assert.match(gaveUp[0]!, /^not reconciled within 2 days: given up \(kiosk settle --fetch --date 2026-11-30 tries again\)$/);
    assert.equal(journal.reconciled('20261130'), false);
    assert.deepEqual([journal.reconciled('20261201'), journal.reconciled('20261202')], [true, true]);
    await clock.advance(24 * HOUR);
    assert.equal(causes.filter((c) => /given up/.test(c)).length, 1, 'said once');
    s.stop();
  });
});
