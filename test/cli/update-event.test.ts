// kiosk update-event: an update's outcome as a fleet event in the journal's outbox (the Mender module's
// report; test/field/mender.test.ts runs it through the real client), refused when malformed.
import assert from 'node:assert/strict';
import { run as updateEvent } from '../../src/cli/update-event.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

describe('kiosk update-event', () => {
  let k: TempKiosk;
  beforeEach(() => {
    k = tempKiosk();
  });
  afterEach(() => k.cleanup());

  const events = () => {
    const j = k.journal();
    try {
      return (j.db.prepare(`SELECT type, data FROM outbox ORDER BY seq`).all() as { type: string; data: string }[]).map((r) => ({ type: r.type, data: JSON.parse(r.data) as Record<string, unknown> }));
    } finally {
      j.close();
    }
  };

  it('with a fleet section: one `update` event with the outcome, the releases and a one-line reason', async () => {
    k.rewrite((raw) => (raw.fleet = { url: 'mqtt://127.0.0.1:1' }));
    const io = k.io();
    assert.equal(await updateEvent(['--outcome', 'rolled-back', '--release', '0.2.0-abc', '--previous', '0.1.0-def', '--why', 'did not answer\nready\u0007'], io), 0, io.stderr());
    assert.match(io.stdout(), /update rolled-back \(0\.2\.0-abc\): recorded for the fleet/);
    assert.deepEqual(events(), [{ type: 'update', data: { outcome: 'rolled-back', release: '0.2.0-abc', previous: '0.1.0-def', running: null, why: 'did not answer ready' } }]);
  });

  it('without a fleet section: says it is not recorded, writes nothing, exit 0', async () => {
    const io = k.io();
    assert.equal(await updateEvent(['--outcome', 'committed', '--release', '0.2.0-abc'], io), 0);
    assert.match(io.stdout(), /not recorded, the config has no fleet section/);
    assert.deepEqual(events(), []);
  });

  for (const [args, reason] of [
    [['--outcome', 'done', '--release', 'x'], /--outcome must be one of installed, committed, rolled-back, failed/],
    [['--outcome', 'committed', '--release', '../etc'], /--release must be a release id/],
    [['--outcome', 'committed'], /--release/],
  ] as const) {
    it(`refuses ${args.join(' ')} with exit 2 and writes nothing`, async () => {
      k.rewrite((raw) => (raw.fleet = { url: 'mqtt://127.0.0.1:1' }));
      const io = k.io();
      assert.equal(await updateEvent(args, io), 2);
      assert.match(io.stderr(), reason);
      assert.deepEqual(events(), []);
    });
  }
});
