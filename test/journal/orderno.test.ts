import assert from 'node:assert/strict';
import { formatOrderNo, newRunId, parseOrderNo, RUN_ID_LENGTH } from '../../src/journal/orderno.js';

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
