import assert from 'node:assert/strict';
import { formatOrderNo, MAX_ORDER_NO, newRunId, OrderNoError, orderNoPrefix, parseOrderNo, RUN_ID_LENGTH } from '../../src/journal/orderno.js';

describe('journal/orderno: order numbers', () => {
  it('a run id uses all 5 bits of each random byte (50 bits in all): every symbol of the alphabet is reachable', () => {
    const from = (bytes: number[]) => newRunId((n) => Buffer.from(bytes.slice(0, n)));
    assert.equal(from([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]), '0123456789');
    assert.equal(from([31, 30, 29, 28, 27, 26, 25, 24, 23, 22]), 'zyxwvtsrqp');
    assert.equal(from([10, 11, 12, 13, 14, 15, 16, 17, 18, 19]), 'abcdefghjk');
    assert.equal(from([20, 21, 255, 224, 32, 63, 64, 95, 96, 127]), 'mnz00z0z0z');
  });

  it('run ids drawn from the system random source do not repeat in 5,000 draws', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      const id = newRunId();
      assert.match(id, new RegExp(`^[0-9a-hjkmnp-tv-z]{${RUN_ID_LENGTH}}$`));
      assert.ok(!seen.has(id), `${id} drawn twice`);
      seen.add(id);
    }
  });

  it('formats and parses back', () => {
    const no = formatOrderNo('kiosk-07', '20260601', 42, 'k3m9q2x7ab');
    assert.equal(no, 'kiosk0720260601000042_k3m9q2x7ab');
    assert.deepEqual(parseOrderNo(no, 'kiosk-07'), { date: '20260601', seq: 42, runId: 'k3m9q2x7ab' });
  });
});

describe('journal/orderno: the edges of the form', () => {
  it('the device part: letters and digits only, at most 32', () => {
    assert.equal(orderNoPrefix('kiosk-07 / hall B'), 'kiosk07hallB');
    assert.equal(orderNoPrefix('x'.repeat(40)), 'x'.repeat(32));
    assert.throws(() => orderNoPrefix('-_-'), (e: unknown) => e instanceof OrderNoError && e.code === 'BAD_DEVICE_ID' && e.message === 'deviceId "-_-" has no letters or digits to build order numbers from' && e.name === 'OrderNoError');
  });

  it('the date is 8 digits; the sequence 6 digits at least; 58 characters at most (room for a refund serial)', () => {
    assert.equal(formatOrderNo('K1', '20260601', 1234567, 'k3m9q2x7ab'), 'K1202606011234567_k3m9q2x7ab');
    for (const date of ['2026060', '202606011', '2026-6-1', 'x20260601']) {
      assert.throws(() => formatOrderNo('K1', date, 1, 'k3m9q2x7ab'), (e: unknown) => e instanceof OrderNoError && e.code === 'BAD_DATE' && e.message === `order date ${JSON.stringify(date)} is not yyyyMMdd`);
    }
    const device = 'd'.repeat(32);
    assert.equal(MAX_ORDER_NO, 64);
    assert.equal(formatOrderNo(device, '20260601', 1_000_000, 'k3m9q2x7ab').length, 58);
    assert.throws(
      () => formatOrderNo(device, '20260601', 10_000_000, 'k3m9q2x7ab'),
      (e: unknown) => e instanceof OrderNoError && e.code === 'ORDER_NO_TOO_LONG' && e.message === `order number ${device}2026060110000000_k3m9q2x7ab is longer than 58 characters`,
    );
  });

  it('parses only numbers of this device with a real month and day, 6+ digits of sequence and a well-formed run id', () => {
    assert.deepEqual(parseOrderNo('K12026013100000001', 'K-1'), { date: '20260131', seq: 1 });
    assert.deepEqual(parseOrderNo('K12026120100000001234_abcdefghjk', 'K1'), { date: '20261201', seq: 1234, runId: 'abcdefghjk' });
    for (const no of ['K12026003100000001', 'K12026133100000001', 'K12026010000000001', 'K12026013200000001', 'K1202601310000x', 'K12026013100001', 'K12026013100000001_ABCDEFGHJK', 'K12026013100000001_abc', 'K12026013100000001x', 'xK12026013100000001', 'K2202601310000001']) {
      assert.equal(parseOrderNo(no, 'K1'), undefined, no);
    }
    assert.equal(parseOrderNo('12026013100000001', '--'), undefined, 'no device part: nothing is ours');
    assert.equal(parseOrderNo('undefined2026013100000001', '--'), undefined, 'not even a number that spells the missing part');
    // Only the date right after the device part: not one further on.
    assert.equal(parseOrderNo('K1x2026013100000001', 'K1'), undefined);
  });
});
