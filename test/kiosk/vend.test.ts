// Vend confirmation: the relay pulse proven by a drop sensor, with a fake clock and a fake sensor.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Vend, VendError } from '../../src/kiosk/vend.js';
import { FakeClock } from './fakes.js';

class FakeSensor extends EventEmitter {
  active = false;
  set(v: boolean): void {
    this.active = v;
    this.emit('change', v);
  }
}

/** A relay whose pulse lasts `ms` on the fake clock; `onPulse` runs when it starts (a product may fall). */
function relay(clock: FakeClock, onPulse: (n: number) => void = () => {}) {
  const r = { pulses: 0, pulse: (ms: number) => new Promise<void>((res) => (r.pulses++, onPulse(r.pulses), clock.setTimeout(res, ms))) };
  return r;
}
const flush = () => new Promise((r) => setImmediate(r));

describe('kiosk vend confirmation', () => {
  it('no sensor: the pulse alone, as before', async () => {
    const clock = new FakeClock();
    const approve = relay(clock);
    const v = new Vend({ approve, pulseMs: 500, clock });
    const p = v.release('K1');
    clock.advance(500);
    await p;
    assert.equal(approve.pulses, 1);
  });

  it('a drop during the pulse: evidence reported at once, resolved when the pulse ends', async () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const approve = relay(clock, () => clock.setTimeout(() => (sensor.set(true), sensor.set(false)), 100));
    const v = new Vend({ approve, pulseMs: 500, sensor, clock, confirm: { confirmWithinMs: 2000 } });
    const sensed: number[] = [];
    let done = false;
    const p = v.release('K1', { sensed: () => sensed.push(clock.now()) }).then(() => (done = true));
    clock.advance(100);
    assert.deepEqual(sensed, [100], 'journaled as it happens, before the pulse is over');
    await flush();
    assert.equal(done, false);
    clock.advance(400);
    await p;
    assert.equal(v.fault, null);
  });

  it('no drop within confirmWithinMs after the pulse: VEND_FAILED, nothing sensed', async () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const v = new Vend({ approve: relay(clock), pulseMs: 500, sensor, clock, confirm: { confirmWithinMs: 2000 } });
    const sensed: string[] = [];
    const p = v.release('K1', { sensed: () => sensed.push('x') });
    const failed = assert.rejects(p, (e: VendError) => e.code === 'VEND_FAILED' && /2000 ms/.test(e.message));
    clock.advance(500);
    await flush();
    clock.advance(1999);
    await flush();
    clock.advance(1);
    await failed;
    assert.deepEqual(sensed, []);
  });

  it('a late drop inside the window after the pulse still confirms', async () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const v = new Vend({ approve: relay(clock), pulseMs: 500, sensor, clock, confirm: { confirmWithinMs: 2000 } });
    const p = v.release('K1');
    clock.advance(500);
    await flush();
    clock.advance(1500);
    sensor.set(true);
    await p;
  });

  it('retry: a second pulse when the first saw nothing; the drop after it confirms', async () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const approve = relay(clock, (n) => n === 2 && clock.setTimeout(() => sensor.set(true), 50));
    const v = new Vend({ approve, pulseMs: 500, sensor, clock, confirm: { confirmWithinMs: 1000, retry: true } });
    const p = v.release('K1');
    clock.advance(500);
    await flush();
    clock.advance(1000);
    await flush();
    clock.advance(500);
    await p;
    assert.equal(approve.pulses, 2);
  });

  it('no drop in brokenAfter vends in a row: fault, and the next vend is refused unpulsed; a drop clears it', async () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const approve = relay(clock);
    const v = new Vend({ approve, pulseMs: 100, sensor, clock, confirm: { confirmWithinMs: 100, brokenAfter: 2 } });
    const faults: (string | null)[] = [];
    v.on('fault', (f: string | null) => faults.push(f));
    for (let i = 0; i < 2; i++) {
      const p = assert.rejects(v.release(`K${i}`), /saw no product/);
      clock.advance(100);
      await flush();
      clock.advance(100);
      await p;
    }
    assert.match(v.fault!, /no drop in 2 vends/);
    await assert.rejects(v.release('K3'), (e: VendError) => e.code === 'VEND_SENSOR_FAULT');
    assert.equal(approve.pulses, 2);
    sensor.set(true);
    sensor.set(false);
    assert.equal(v.fault, null);
    assert.deepEqual(faults, [faults[0], null]);
  });

  it('stuck active with no vend going on: fault after stuckAfterMs; cleared when it goes inactive', () => {
    const clock = new FakeClock();
    const sensor = new FakeSensor();
    const v = new Vend({ approve: relay(clock), pulseMs: 100, sensor, clock, confirm: { stuckAfterMs: 5000 } });
    sensor.set(true);
    clock.advance(4999);
    assert.equal(v.fault, null);
    clock.advance(1);
    assert.match(v.fault!, /stuck active/);
    sensor.set(false);
    assert.equal(v.fault, null);
  });
});
