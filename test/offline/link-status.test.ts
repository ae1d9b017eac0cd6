// What the link monitor (src/payment/link.ts) tells the technician and the daemon, on a fake clock: the snapshot and
// `kiosk status` fields, the cause and timing of each change and its log line, what counts as evidence and why,
// bursts coalesced both ways, whenOnline and stop().
import assert from 'node:assert/strict';
import { Halted } from '../../src/clock.js';
import { bindIndicator, DEFAULT_LINK_TIMING, LINK_STATES, linkEvidence, LinkMonitor, linkStatus, type LinkChange } from '../../src/payment/link.js';
import type { CallResult } from '../../src/umpay/types.js';
import { logCapture } from '../payment/fakes.js';
import { FakeClock } from '../fake-clock.js';

const base = { call: 'queryOrder', request: {}, plaintext: '', elapsedMs: 1 } as const;
const signed = { ...base, outcome: { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'none' }, delivery: 'answered', signatureValid: true } as CallResult;
const refused = { ...base, outcome: { kind: 'UNKNOWN', cause: 'ECONNREFUSED' }, delivery: 'not-sent', cause: 'connect ECONNREFUSED' } as CallResult;

describe('link monitor: what it tells the technician (fake clock)', () => {
  let clock: FakeClock;
  let cap: ReturnType<typeof logCapture>;
  let up: boolean;
  let m: LinkMonitor;
  let changes: LinkChange[];
  const T0 = new Date(2026, 5, 1, 10, 0, 0).getTime();
  const iso = (ms: number): string => new Date(T0 + ms).toISOString();

  beforeEach(() => {
    clock = new FakeClock();
    cap = logCapture();
    up = true;
    changes = [];
    m = new LinkMonitor({ clock, log: cap.log, probe: async () => (up ? signed : refused) });
    m.on('change', (c: LinkChange) => changes.push(c));
  });
  afterEach(async () => {
    const s = m.stop();
    await clock.advance(0);
    await s;
  });

  it('the defaults are the documented pace and thresholds', () => {
    const documented = { onlineProbeMs: 30_000, degradedProbeMs: 5_000, offlineProbeMs: 5_000, failuresToOffline: 3, successesToOnline: 2, coalesceMs: 1_000, signedProbeMs: 3_600_000 };
    assert.deepEqual(DEFAULT_LINK_TIMING, documented);
    assert.deepEqual(m.timing, DEFAULT_LINK_TIMING);
    assert.deepEqual(LINK_STATES, ['online', 'degraded', 'offline']);
  });

  it('probes at the pace of each state: degraded and offline may differ', async () => {
    const at: number[] = [];
    m = new LinkMonitor({ clock, probe: async () => (at.push(clock.mono()), refused), timing: { onlineProbeMs: 30_000, degradedProbeMs: 2_000, offlineProbeMs: 7_000, failuresToOffline: 3 } });
    m.start();
    await clock.advance(20_000);
    assert.deepEqual(at, [0, 2_000, 4_000, 11_000, 18_000]);
  });

  it('the first probe goes at once even after evidence came in before start()', async () => {
    let n = 0;
    m = new LinkMonitor({ clock, probe: async () => (n++, signed) });
    m.record(signed);
    m.start();
    await clock.advance(0);
    assert.equal(n, 1);
  });

  it('with a reachability check: signed at once, then hourly; a failed real call (not a failed probe) makes the next probe signed', async () => {
    const signedAt: number[] = [];
    let ok = true;
    m = new LinkMonitor({ clock, probe: async () => (signedAt.push(clock.mono()), ok ? signed : refused), reach: async () => ({ ok: true, cause: 'connects' }) });
    m.start();
    await clock.advance(3_600_000);
    assert.deepEqual(signedAt, [0, 3_600_000]);
    ok = false;
    await clock.advance(3_600_000);
    assert.equal(signedAt.at(-1), 7_200_000, 'a failed signed probe does not ask for another signed one');
    assert.equal(signedAt.length, 3);
    m.record(refused, 'cancelOrder');
    await clock.advance(5_000);
    assert.equal(signedAt.at(-1), 7_205_000, 'after a failed real call: signed');
    m.record(signed, 'cancelOrder');
    await clock.advance(60_000);
    assert.equal(signedAt.length, 4, 'a successful real call asks for nothing');
  });

  it('a probe that throws anything is a failure in words; bindIndicator stops telling the kiosk once unbound', async () => {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a probe may reject with anything
    m = new LinkMonitor({ clock, probe: () => Promise.reject(undefined), timing: { failuresToOffline: 1 } });
    m.on('change', (c: LinkChange) => changes.push(c));
    const told: boolean[] = [];
    const unbind = bindIndicator(m, { linkOnline: (o) => void told.push(o) });
    m.start();
    await clock.advance(0);
    assert.deepEqual(changes.map((c) => c.cause), ['probe: probe threw: undefined']);
    assert.deepEqual(told, [true, false]);
    unbind();
    m.observe(true, 'ok');
    clock.tick(1_000);
    m.observe(true, 'ok');
    assert.equal(m.state, 'online');
    assert.deepEqual(told, [true, false]);
  });


  it('the snapshot: state and since, the last success and failure (when and why), probes and changes', async () => {
    assert.deepEqual(m.snapshot(), { state: 'online', since: iso(0), lastOkAt: null, lastFailureAt: null, lastFailure: null, probes: 0, signedProbes: 0, changes: 0 });
    m.start();
    await clock.advance(0);
    up = false;
    await clock.advance(30_000);
    const s = m.snapshot();
    assert.deepEqual(s, { state: 'degraded', since: iso(30_000), lastOkAt: iso(0), lastFailureAt: iso(30_000), lastFailure: 'queryOrder: connect ECONNREFUSED (not-sent)', probes: 2, signedProbes: 2, changes: 1 });
    assert.equal(m.since, T0 + 30_000);
    assert.equal(m.offline, false);
    const status = linkStatus(m, { unfinishedSummary: () => ({ count: 2, oldestCreatedAt: iso(-60_000) }) });
    assert.deepEqual(status, { link: { state: 'degraded', since: iso(30_000), lastOkAt: iso(0), lastFailure: 'queryOrder: connect ECONNREFUSED (not-sent)' }, waiting: { count: 2, since: iso(-60_000), heldCalls: 0 } });
  });

  it('each change says what tipped it and how long the state held; offline is a warning, the rest info', async () => {
    m.start();
    await clock.advance(0);
    up = false;
    await clock.advance(30_000 + 5_000 + 5_000);
    up = true;
    await clock.advance(10_000);
    assert.deepEqual(changes.map((c) => [c.from, c.to, c.at - T0, c.cause]), [
      ['online', 'degraded', 30_000, 'probe: queryOrder: connect ECONNREFUSED (not-sent)'],
      ['degraded', 'offline', 40_000, 'probe: queryOrder: connect ECONNREFUSED (not-sent)'],
      ['offline', 'degraded', 45_000, 'probe: queryOrder answered (signed)'],
      ['degraded', 'online', 50_000, 'probe: queryOrder answered (signed)'],
    ]);
    const lines = cap.lines.filter((l) => l.event === 'link');
    assert.deepEqual(lines.map((l) => [l.from, l.to, l.afterMs, l.level]), [
      ['online', 'degraded', 30_000, 30],
      ['degraded', 'offline', 10_000, 40],
      ['offline', 'degraded', 5_000, 30],
      ['degraded', 'online', 5_000, 30],
    ]);
    assert.equal(lines[1]!.msg, 'payment platform link degraded → offline (probe: queryOrder: connect ECONNREFUSED (not-sent))');
    assert.equal(lines[1]!.cause, 'probe: queryOrder: connect ECONNREFUSED (not-sent)');
  });

  it('every observation is an evidence event with its source', () => {
    const seen: unknown[] = [];
    m.on('evidence', (e) => seen.push(e));
    m.record(signed);
    m.record(refused, 'cancelOrder');
    m.observe(false, 'ECONNRESET', 'reach');
    m.observe(true, 'connects');
    assert.deepEqual(seen.slice(3), [{ ok: true, cause: 'connects', source: 'call' }]);
    assert.deepEqual(seen.slice(0, 3), [
      { ok: true, cause: 'queryOrder answered (signed)', source: 'call' },
      { ok: false, cause: 'queryOrder: connect ECONNREFUSED (not-sent)', source: 'cancelOrder' },
      { ok: false, cause: 'ECONNRESET', source: 'reach' },
    ]);
  });

  it('why an answer is not proof: its cause, else the outcome\'s, else the HTTP status, else "no verified answer"', () => {
    const answered = { ...base, delivery: 'answered' } as const;
    assert.deepEqual(linkEvidence({ ...answered, outcome: { kind: 'DONE' } } as unknown as CallResult), { ok: true, cause: 'queryOrder answered' });
    assert.deepEqual(linkEvidence({ ...answered, outcome: { kind: 'UNKNOWN', cause: 'no sign field' } }), { ok: false, cause: 'queryOrder: no sign field (answered)' });
    assert.deepEqual(linkEvidence({ ...answered, outcome: { kind: 'UNKNOWN' }, httpStatus: 503 } as unknown as CallResult), { ok: false, cause: 'queryOrder: HTTP 503 (answered)' });
    assert.deepEqual(linkEvidence({ ...answered, outcome: { kind: 'UNKNOWN' } } as unknown as CallResult), { ok: false, cause: 'queryOrder: no verified answer (answered)' });
    assert.deepEqual(linkEvidence({ ...answered, outcome: { kind: 'PAID' }, signatureValid: false } as unknown as CallResult), { ok: false, cause: 'queryOrder: signature does not verify (answered)' });
    assert.equal(linkEvidence({ ...base, delivery: 'maybe-sent', outcome: { kind: 'DONE' } } as unknown as CallResult).ok, false, 'a classified outcome without an answer is no proof');
    assert.equal(linkEvidence({ ...answered, outcome: { kind: 'UNKNOWN', cause: '37', rateLimited: true }, signatureValid: false }).ok, false);
    assert.equal(linkEvidence({ ...base, delivery: 'maybe-sent', outcome: { kind: 'DONE' }, signatureValid: true } as unknown as CallResult).ok, false, 'only an answer proves');
  });

  it('a burst is one observation both ways; evidence a coalescing interval apart counts again', () => {
    const t = { ...DEFAULT_LINK_TIMING, failuresToOffline: 2, successesToOnline: 2 };
    m = new LinkMonitor({ clock, probe: async () => signed, timing: t });
    m.on('change', (c: LinkChange) => changes.push(c));
    m.record(refused);
    m.record(refused);
    clock.tick(999);
    m.record(refused);
    assert.equal(m.state, 'degraded', 'three failures within a second are one');
    clock.tick(1);
    m.record(refused);
    assert.equal(m.state, 'offline');
    m.record(signed);
    m.record(signed);
    clock.tick(999);
    m.record(signed);
    assert.equal(m.state, 'degraded');
    clock.tick(1);
    m.record(signed);
    assert.equal(m.state, 'online');
    // A success in between starts the failures again.
    m.record(refused);
    clock.tick(1_000);
    m.record(signed);
    clock.tick(1_000);
    m.record(refused);
    assert.equal(m.state, 'degraded');
  });

  it('whenOnline: at once when online; rejects (Halted) when its signal aborts, also when aborted before', async () => {
    await m.whenOnline();
    m.record(refused);
    const stop = new AbortController();
    const waiting = m.whenOnline(stop.signal);
    stop.abort();
    await assert.rejects(waiting, Halted);
    await assert.rejects(m.whenOnline(stop.signal), Halted);
    assert.equal(m.listenerCount('change'), 1, 'the aborted waits left no listener');
    let online = false;
    void m.whenOnline(new AbortController().signal).then(() => (online = true));
    m.record(refused);
    clock.tick(2_000);
    m.record(signed);
    clock.tick(2_000);
    m.record(signed);
    await clock.advance(0);
    assert.equal(online, true);
    assert.equal(m.listenerCount('change'), 1);
  });

  it('a reachability probe is evidence from "reach"; the change it tips says so', async () => {
    const seen: Array<{ source: string }> = [];
    m = new LinkMonitor({ clock, log: cap.log, probe: async () => signed, reach: async () => ({ ok: false, cause: 'connect ECONNREFUSED' }) });
    m.on('change', (c: LinkChange) => changes.push(c));
    m.on('evidence', (e: { source: string }) => seen.push(e));
    m.start();
    await clock.advance(0);
    assert.deepEqual(seen.map((e) => e.source), ['probe'], 'the first probe is signed');
    await clock.advance(30_000);
    assert.deepEqual(seen.map((e) => e.source), ['probe', 'reach']);
    assert.deepEqual(changes.map((c) => c.cause), ['reach: connect ECONNREFUSED']);
  });

  it('start() twice is one loop: one timer, none left after stop()', async () => {
    m.start();
    m.start();
    await clock.advance(0);
    assert.equal(clock.pending, 1);
    await m.stop();
    assert.equal(clock.pending, 0);
  });

  it('stop() ends the probing; start() twice is one loop; a probe in flight is not waited for', async () => {
    let calls = 0;
    let answer: ((r: CallResult) => void) | undefined;
    m = new LinkMonitor({ clock, probe: () => (calls++, new Promise((r) => (answer = r))) });
    m.start();
    m.start();
    await clock.advance(0);
    assert.equal(calls, 1);
    await m.stop();
    answer!(refused);
    await clock.advance(0);
    assert.equal(m.state, 'degraded', 'its result is still recorded');
    await clock.advance(60_000);
    assert.equal(calls, 1, 'no probe after stop()');
    assert.equal(m.probeNow(), m.probeNow(), 'one probe at a time');
  });
});
