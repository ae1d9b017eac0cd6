// Whether the wall clock may be used for orderTime (src/payment/clock-check.ts), with the filesystem faked: the build
// date floor and systemd-timesyncd's flag, in the words the kiosk shows.
import assert from 'node:assert/strict';
import { BUILD_DATE_MS, defaultClockCheck } from '../../src/payment/clock-check.js';

describe('clock check', () => {
  const none = (): boolean => false;
  const synced = (): boolean => true;
  const unsynced = (p: string): boolean => p === '/run/systemd/timesync';

  it('a clock before this build is not set yet, whatever timesyncd says', () => {
    assert.equal(BUILD_DATE_MS, Date.UTC(2026, 0, 1));
    assert.equal(defaultClockCheck(0, synced), 'clock reads 1970-01-01T00:00:00.000Z, before this build (2026-01-01): not set yet');
    assert.match(defaultClockCheck(BUILD_DATE_MS - 1, synced) ?? '', /^clock reads 2025-12-31T23:59:59\.999Z, before this build/);
    assert.equal(defaultClockCheck(BUILD_DATE_MS, synced), null);
  });

  it('timesyncd present but not synchronised: refused; synchronised, or no timesyncd to ask: trusted', () => {
    const now = Date.UTC(2026, 5, 1);
    assert.equal(defaultClockCheck(now, unsynced), 'clock not yet synchronised (systemd-timesyncd has not confirmed the time)');
    const asked: string[] = [];
    assert.equal(defaultClockCheck(now, (p) => (asked.push(p), true)), null);
    assert.deepEqual(asked, ['/run/systemd/timesync', '/run/systemd/timesync/synchronized']);
    assert.equal(defaultClockCheck(now, none), null);
  });
});
