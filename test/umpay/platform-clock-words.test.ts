// The platform clock's exact readings and words (issue 21 mutation run): the numbers `kiosk status` shows, the
// boundaries of "wrong" (the tolerance, the day around midnight, the platform's instant), and what evidence is
// ignored. platform-clock.test.ts has the scenarios; this file pins their arithmetic.
import assert from 'node:assert/strict';
import { PlatformClock, span, zoneName, zoneNote, PLATFORM_UTC_OFFSET_MIN, type ClockReading } from '../../src/umpay/platform-clock.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { FakeClock } from '../fake-clock.js';

const TOLERANCE = 60_000;
const httpDate = (ms: number): string => new Date(ms).toUTCString();
const day = (ms: number): string => formatOrderTime(ms).slice(0, 8);

describe('umpay platform clock: readings and words', () => {
  let clock: FakeClock;
  let changes: ClockReading[];
  let pc: PlatformClock;
  beforeEach(() => {
    clock = new FakeClock(); // 2026-06-01 10:00:00 local, a whole second
    changes = [];
    pc = new PlatformClock(clock, TOLERANCE, { onChange: (r) => changes.push(r), zoneAt: () => 480 });
  });

  it('before any answer: unknown, with the zone, and no problem', () => {
    assert.deepEqual(pc.reading(), { toleranceMs: TOLERANCE, zone: '+08:00', zoneIsPlatform: true, state: 'unknown', detail: 'not compared yet: no signed answer from the platform since the start' });
    assert.equal(pc.problem(), null);
    assert.equal(pc.toleranceMs, TOLERANCE);
  });

  it('a Date header of this very second and an instant trip: the difference is within (−1 s, 0], said in words', () => {
    const at = clock.wall();
    pc.observe({ date: httpDate(at), elapsedMs: 0 });
    assert.deepEqual(pc.reading(), {
      toleranceMs: TOLERANCE,
      zone: '+08:00',
      zoneIsPlatform: true,
      offsetMs: -500,
      lowMs: -1000,
      highMs: 0,
      checkedAt: new Date(at).toISOString(),
      state: 'ok',
      detail: "agrees with the payment platform's within 1 min 0 s (slow by 1 s, ±1 s)",
    });
    assert.deepEqual(changes.map((c) => c.state), ['ok']);
  });

  it('the trip widens the range by its duration; a negative duration counts as none', () => {
    const at = clock.wall();
    pc.observe({ date: httpDate(at - 10_000), elapsedMs: 4000 });
    const r = pc.reading();
    // sent at wall − 4 s; stamped 10 s before wall: the difference lies in (6 s − 1 s, 10 s].
    assert.deepEqual([r.lowMs, r.highMs, r.offsetMs], [5000, 10_000, 7500]);
    assert.equal(r.detail, "agrees with the payment platform's within 1 min 0 s (fast by 8 s, ±3 s)");
    pc.observe({ date: httpDate(at - 10_000), elapsedMs: -4000 });
    assert.deepEqual([pc.reading().lowMs, pc.reading().highMs], [9000, 10_000]);
  });

  it('the tolerance is the edge: a range reaching back to it is still ok, one that lies wholly beyond is wrong', () => {
    const at = clock.wall();
    // low = 60 s exactly (stamped 61 s before, no trip): ok.
    pc.observe({ date: httpDate(at - 61_000), elapsedMs: 0 });
    assert.deepEqual([pc.reading().lowMs, pc.reading().state], [60_000, 'ok']);
    pc.observe({ date: httpDate(at - 62_000), elapsedMs: 0 });
    assert.deepEqual([pc.reading().lowMs, pc.reading().state], [61_000, 'wrong']);
    assert.equal(
      pc.problem(),
      "this kiosk's clock is fast by 1 min 2 s against the payment platform's (its answer's Date header; tolerance 1 min 0 s): fix the time (NTP) — no new payments until it agrees",
    );
    // Slow: high = −60 s exactly is ok, −61 s is wrong.
    pc.observe({ date: httpDate(at + 60_000), elapsedMs: 0 });
    assert.deepEqual([pc.reading().highMs, pc.reading().state], [-60_000, 'ok']);
    pc.observe({ date: httpDate(at + 61_000), elapsedMs: 0 });
    assert.deepEqual([pc.reading().highMs, pc.reading().state], [-61_000, 'wrong']);
    assert.match(pc.problem()!, /^this kiosk's clock is slow by 1 min 2 s against/);
    assert.deepEqual(changes.map((c) => c.state), ['ok', 'wrong', 'ok', 'wrong']);
  });

  it('a difference of exactly zero is "fast by 0 s"; a first answer that leaves it unknown tells nothing', () => {
    const at = clock.wall();
    // Stamped a second before, a trip of a second: the range is (−1 s, 1 s], its middle 0.
    pc.observe({ date: httpDate(at - 1000), elapsedMs: 1000 });
    assert.deepEqual([pc.reading().offsetMs, pc.reading().detail], [0, "agrees with the payment platform's within 1 min 0 s (fast by 0 s, ±1 s)"]);
    const quiet = new PlatformClock(clock, TOLERANCE, { onChange: (r) => changes.push(r), zoneAt: () => 480 });
    changes.length = 0;
    quiet.observe({ platDate: day(at), elapsedMs: 0 });
    assert.deepEqual([quiet.reading().state, changes.length], ['unknown', 0]);
    // A platDate that is not exactly 8 digits is not compared, whatever it holds.
    for (const bad of ['x20260601', '202606011', '20260601x']) {
      quiet.observe({ platDate: bad, elapsedMs: 0 });
      assert.equal(quiet.problem(), null, bad);
    }
  });

  it('the system\'s zone, east of UTC as positive', () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Asia/Shanghai';
      assert.deepEqual([new PlatformClock(clock, TOLERANCE).reading().zone, new PlatformClock(clock, TOLERANCE).reading().zoneIsPlatform], ['+08:00', true]);
      process.env.TZ = 'America/New_York';
      assert.equal(new PlatformClock(clock, TOLERANCE).reading().zone, '-04:00');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('only a change of state is told; evidence without a usable Date or platDate is ignored', () => {
    const at = clock.wall();
    pc.observe({ date: 'not a date', elapsedMs: 10 });
    pc.observe({ date: null, elapsedMs: 10 });
    pc.observe({ elapsedMs: 10 });
    assert.equal(pc.reading().state, 'unknown');
    assert.equal(pc.reading().checkedAt, undefined);
    pc.observe({ date: httpDate(at), elapsedMs: 0 });
    pc.observe({ date: httpDate(at), elapsedMs: 0 });
    assert.equal(changes.length, 1);
  });

  it('a wall-clock step moves the range and the time of the evidence by as much', () => {
    const at = clock.wall();
    pc.observe({ date: httpDate(at), elapsedMs: 0 });
    clock.stepWall(30_000);
    const r = pc.reading();
    assert.deepEqual([r.offsetMs, r.lowMs, r.highMs, r.checkedAt], [29_500, 29_000, 30_000, new Date(at + 30_000).toISOString()]);
    assert.equal(r.state, 'ok');
    clock.stepWall(-60_000);
    assert.deepEqual([pc.reading().offsetMs, pc.reading().lowMs, pc.reading().highMs], [-30_500, -31_000, -30_000]);
  });

  it('platDate alone: the day within the tolerance either side agrees; otherwise the words name both days', async () => {
    const at = clock.wall();
    pc.observe({ platDate: day(at), elapsedMs: 20 });
    assert.deepEqual(pc.reading(), {
      toleranceMs: TOLERANCE,
      zone: '+08:00',
      zoneIsPlatform: true,
      checkedAt: new Date(at).toISOString(),
      state: 'unknown',
      detail: "the platform's answers carry no Date header: only its day (platDate) is compared, and it agrees",
    });
    pc.observe({ platDate: '20260602', elapsedMs: 20 });
    assert.equal(pc.problem(), "the platform's day is 20260602, this kiosk's clock says 20260601");
    pc.observe({ platDate: '20260531', elapsedMs: 20 });
    assert.equal(pc.problem(), "the platform's day is 20260531, this kiosk's clock says 20260601");
    // A malformed platDate is not compared.
    pc.observe({ platDate: '2026060', elapsedMs: 20 });
    assert.equal(pc.problem(), null);
    // 30 s before midnight, the platform already in tomorrow: within the tolerance after our now.
    clock.setWall(new Date(2026, 5, 1, 23, 59, 30).getTime());
    pc.observe({ platDate: '20260602', elapsedMs: 0 });
    assert.equal(pc.problem(), null);
    // 30 s after midnight, the platform still in yesterday: within the tolerance before the request was sent.
    clock.setWall(new Date(2026, 5, 2, 0, 0, 30).getTime());
    pc.observe({ platDate: '20260601', elapsedMs: 0 });
    assert.equal(pc.problem(), null);
    // 2 minutes after midnight: outside.
    clock.setWall(new Date(2026, 5, 2, 0, 2, 0).getTime());
    pc.observe({ platDate: '20260601', elapsedMs: 0 });
    assert.equal(pc.problem(), "the platform's day is 20260601, this kiosk's clock says 20260602");
    await clock.advance(0);
  });

  it('platDate with the Date header: the day at the platform\'s own instant, one second before to two after', () => {
    const midnight = new Date(2026, 5, 2, 0, 0, 0).getTime();
    clock.setWall(midnight);
    // Stamped 1 s before midnight: yesterday and today are both the platform's day at that instant.
    pc.observe({ date: httpDate(midnight - 1000), platDate: '20260601', elapsedMs: 0 });
    assert.equal(pc.reading().state, 'ok', pc.reading().detail);
    pc.observe({ date: httpDate(midnight - 1000), platDate: '20260602', elapsedMs: 0 });
    assert.equal(pc.reading().state, 'ok', pc.reading().detail);
    // Stamped 2 s before midnight: today is two seconds away; 3 s before, it is not.
    pc.observe({ date: httpDate(midnight - 2000), platDate: '20260602', elapsedMs: 0 });
    assert.equal(pc.reading().state, 'ok', pc.reading().detail);
    pc.observe({ date: httpDate(midnight - 3000), platDate: '20260602', elapsedMs: 0 });
    assert.equal(
      pc.problem(),
      "the platform's day is 20260602, this kiosk's time zone (UTC+08:00) makes it 20260601 at the same instant: set the time zone to the platform's (Asia/Shanghai, UTC+08:00)",
    );
    // Stamped at midnight: yesterday is one second away.
    pc.observe({ date: httpDate(midnight), platDate: '20260601', elapsedMs: 0 });
    assert.equal(pc.reading().state, 'ok', pc.reading().detail);
    pc.observe({ date: httpDate(midnight + 1000), platDate: '20260601', elapsedMs: 0 });
    assert.equal(pc.reading().state, 'wrong');
    // A day problem with a time that agrees: wrong, and the day is what is said.
    assert.match(pc.problem()!, /^the platform's day is 20260601, this kiosk's time zone/);
  });

  it('the zone: from the system when not given; words for any offset; the note only when it is not the platform\'s', () => {
    const sys = new PlatformClock(clock, TOLERANCE);
    assert.equal(sys.reading().zone, zoneName(-new Date(clock.wall()).getTimezoneOffset()));
    assert.equal(PLATFORM_UTC_OFFSET_MIN, 480);
    assert.deepEqual([0, 480, 345, -60, -570, 59].map(zoneName), ['+00:00', '+08:00', '+05:45', '-01:00', '-09:30', '+00:59']);
    assert.equal(zoneNote({ zone: '+08:00', zoneIsPlatform: true }), '');
    assert.equal(zoneNote({ zone: '+01:00', zoneIsPlatform: false }), "time zone UTC+01:00 is not the platform's (UTC+08:00): orderTime is sent in local time, set Asia/Shanghai");
    const utc = new PlatformClock(clock, TOLERANCE, { zoneAt: () => 0 });
    utc.observe({ date: httpDate(clock.wall()), elapsedMs: 0 });
    assert.deepEqual([utc.reading().zone, utc.reading().zoneIsPlatform], ['+00:00', false]);
  });

  it('spans: rounded to the second, parts from the largest present down', () => {
    const cases: [number, string][] = [
      [0, '0 s'],
      [499, '0 s'],
      [500, '1 s'],
      [-1499, '1 s'],
      [59_000, '59 s'],
      [60_000, '1 min 0 s'],
      [3_600_000, '1 h 0 min 0 s'],
      [3_605_000, '1 h 0 min 5 s'],
      [86_400_000, '1 d 0 h 0 min 0 s'],
      [90_061_000, '1 d 1 h 1 min 1 s'],
      [2 * 86_400_000 + 59_000, '2 d 0 h 0 min 59 s'],
    ];
    for (const [ms, words] of cases) assert.equal(span(ms), words, String(ms));
  });
});
