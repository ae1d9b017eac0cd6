// Issue 24 §2: the kiosk's clock against the payment platform's, from the Date header and platDate of its answers.
import assert from 'node:assert/strict';
import { PlatformClock, span, zoneName, type ClockReading } from '../../src/umpay/platform-clock.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { FakeClock } from '../fake-clock.js';

const HOUR = 3600_000;
const TOLERANCE = 60_000;

describe('umpay platform clock: the kiosk against the platform (issue 24)', () => {
  let clock: FakeClock;
  let changes: ClockReading[];
  let pc: PlatformClock;
  /** The platform's true instant: the kiosk's wall clock minus how far it is off. */
  let kioskAhead: number;
  const platformNow = (): number => clock.wall() - kioskAhead;
  const httpDate = (ms: number): string => new Date(ms).toUTCString();
  const platDay = (ms: number): string => formatOrderTime(ms).slice(0, 8);

  beforeEach(() => {
    clock = new FakeClock();
    changes = [];
    kioskAhead = 0;
    pc = new PlatformClock(clock, TOLERANCE, { onChange: (r) => changes.push(r), zoneAt: () => 480 });
  });

  /** An answer stamped by the platform when the request arrived, taking `ms` there and back. */
  async function answer(ms = 40, fields: { date?: boolean; platDate?: string } = {}): Promise<void> {
    await clock.advance(ms / 2);
    const stamped = platformNow();
    await clock.advance(ms / 2);
    pc.observe({ date: fields.date === false ? undefined : httpDate(stamped), platDate: fields.platDate ?? platDay(stamped), elapsedMs: ms });
  }

  it('unknown until a signed answer; then ok within the tolerance (the Date header\'s second and the trip allowed)', async () => {
    assert.equal(pc.reading().state, 'unknown');
    assert.equal(pc.problem(), null, 'unknown is no reason to refuse: the first answer measures it');
    kioskAhead = 30_000;
    await answer(800);
    const r = pc.reading();
    assert.equal(r.state, 'ok', r.detail);
    assert.ok(Math.abs(r.offsetMs! - 30_000) <= 1500, `offset ${r.offsetMs}`);
    assert.ok(r.lowMs! <= 30_000 && r.highMs! >= 30_000, 'the true difference lies in what the evidence allows');
    assert.deepEqual(changes.map((c) => c.state), ['ok']);
  });

  for (const [ahead, words] of [[HOUR, /fast by 1 h 0 min/], [-HOUR, /slow by 1 h 0 min/], [8 * HOUR, /fast by 8 h 0 min/], [24 * HOUR, /fast by 1 d 0 h 0 min/]] as const) {
    it(`the kiosk ${ahead / HOUR} h off: wrong, and the reason says by how much`, async () => {
      kioskAhead = ahead;
      await answer();
      assert.equal(pc.reading().state, 'wrong');
      assert.match(pc.problem()!, words);
      assert.match(pc.problem()!, /no new payments until it agrees/);
    });
  }

  it('a slow answer is not taken for a wrong clock: only a difference the whole trip cannot explain is', async () => {
    kioskAhead = 50_000; // within the tolerance, on a 20 s trip
    await answer(20_000);
    assert.equal(pc.reading().state, 'ok', pc.reading().detail);
  });

  it('the kiosk\'s wall clock stepped after the answer (NTP, a person): the reading follows at once, without an answer', async () => {
    kioskAhead = 0;
    await answer();
    assert.equal(pc.reading().state, 'ok');
    clock.stepWall(HOUR);
    assert.equal(pc.reading().state, 'wrong');
    assert.match(pc.problem()!, /fast by 1 h/);
    clock.stepWall(-HOUR);
    assert.equal(pc.reading().state, 'ok');
  });

  it('put right, the next answer says so (the last evidence decides)', async () => {
    kioskAhead = HOUR;
    await answer();
    assert.equal(pc.reading().state, 'wrong');
    kioskAhead = 0;
    await answer();
    assert.equal(pc.reading().state, 'ok');
    assert.deepEqual(changes.map((c) => c.state), ['wrong', 'ok']);
  });

  it('no Date header: the platform\'s day (platDate, signed) against ours, the tolerance either side of midnight', async () => {
    kioskAhead = 24 * HOUR;
    await answer(40, { date: false });
    assert.equal(pc.reading().state, 'wrong');
    assert.match(pc.problem()!, /the platform's day is \d{8}, this kiosk's clock says \d{8}/);
    kioskAhead = 0;
    await answer(40, { date: false });
    assert.equal(pc.reading().state, 'unknown', 'the day agrees; the time is not known to the second');
    assert.equal(pc.problem(), null);
  });

  it('the time zone: a platform day that is not ours at the platform\'s own instant is the zone, whatever our clock says', async () => {
    // The platform says it is already tomorrow at an instant that is today here: it runs 8 h ahead of our zone.
    const tomorrow = formatOrderTime(platformNow() + 24 * HOUR).slice(0, 8);
    await answer(40, { platDate: tomorrow });
    assert.equal(pc.reading().state, 'wrong');
    assert.match(pc.problem()!, /time zone .* set the time zone to the platform's \(Asia\/Shanghai, UTC\+08:00\)/);
  });

  it('says whether the kiosk\'s own zone is the platform\'s (UTC+8)', () => {
    assert.equal(pc.reading().zone, '+08:00');
    assert.equal(pc.reading().zoneIsPlatform, true);
    const utc = new PlatformClock(clock, TOLERANCE, { zoneAt: () => 0 });
    assert.equal(utc.reading().zone, '+00:00');
    assert.equal(utc.reading().zoneIsPlatform, false);
  });

  it('words: zones and spans', () => {
    assert.equal(zoneName(-330), '-05:30');
    assert.equal(span(61_000), '1 min 1 s');
    assert.equal(span(-HOUR), '1 h 0 min 0 s');
  });
});
