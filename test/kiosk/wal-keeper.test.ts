import assert from 'node:assert/strict';
import { WalKeeper } from '../../src/kiosk/wal-keeper.js';
import { FakeClock } from '../hardware/fake-clock.js';

describe('WAL keeper: when the journal WAL is truncated', () => {
  let clock: FakeClock;
  let purges: number;
  let customer: boolean;
  let bytes: number;
  let keeper: WalKeeper;
  beforeEach(() => {
    clock = new FakeClock();
    purges = 0;
    customer = false;
    bytes = 0;
    keeper = new WalKeeper({ purge: () => purges++, walBytes: () => bytes, customerInProgress: () => customer, delayMs: 3000, maxBytes: 2 << 20, timers: clock });
  });

  it('3 s after the last commit, also while background work goes on (no idle ever)', () => {
    keeper.committed();
    clock.tick(2000);
    keeper.committed(); // a background retry: the timer starts again
    clock.tick(2999);
    assert.equal(purges, 0);
    clock.tick(1);
    assert.equal(purges, 1);
  });

  it('never during a customer payment: put off until it is over', () => {
    customer = true;
    keeper.committed();
    clock.tick(10_000);
    assert.equal(purges, 0);
    customer = false;
    clock.tick(3000);
    assert.equal(purges, 1);
  });

  it('a WAL past the limit is truncated at once at a commit outside a customer payment, never inside one', () => {
    bytes = 3 << 20;
    customer = true;
    keeper.committed();
    assert.equal(purges, 0, 'not in the customer\'s commit');
    customer = false;
    keeper.committed();
    assert.equal(purges, 1);
  });

  it('idle arms it too; stop cancels it', () => {
    keeper.idle();
    keeper.stop();
    clock.tick(10_000);
    assert.equal(purges, 0);
    keeper.committed();
    clock.tick(10_000);
    assert.equal(purges, 0);
  });
});
