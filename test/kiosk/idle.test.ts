// Issue 20 §5, idle means asleep: the whole daemon (serial scanner on a real pty, the sandbox as gateway; then with
// the MDB HAT on a second pty) on a fake clock. While nobody is at the kiosk no timer of the daemon repeats more often
// than every 5 s, and a minute of idle time fires about twenty timers, not one a second.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import { silentLogger } from '../../src/log.js';
import { FakeClock } from '../fake-clock.js';
import { PtyPair } from '../hardware/pty.js';
import { DaemonFixture } from './daemon-helpers.js';

describe('kiosk daemon at idle: no timer more often than every 5 s (issue 20 §5)', function () {
  this.timeout(20_000);
  let fx: DaemonFixture;
  let pty: PtyPair;
  let hatPty: PtyPair;
  let daemon: Daemon | undefined;
  beforeEach(async () => {
    fx = await new DaemonFixture().start();
    pty = new PtyPair();
    hatPty = new PtyPair();
    await pty.start();
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await hatPty.dispose();
    await pty.dispose();
    await fx.dispose();
  });

  /** The daemon on `config`, connected: no interval under 5 s; then the timers fired in an idle minute. */
  async function idleMinute(config: Record<string, unknown>): Promise<number> {
    const clock = new FakeClock();
    daemon = await Daemon.start(loadConfig(fx.writeConfig(config)), { log: silentLogger, clock });
    const { scanner, mdb } = daemon.hardware;
    if (!scanner.connected) await once(scanner, 'connected');
    if (mdb && !mdb.connected) await once(mdb, 'connected');
    const short = clock.intervals().filter((ms) => ms < 5000);
    assert.deepEqual(short, [], `intervals under 5 s: ${short.join(', ')} ms`);
    const before = clock.fired;
    await clock.advance(60_000);
    return clock.fired - before;
  }

  it('sets no interval under 5 s and fires at most 24 timers in an idle minute', async () => {
    const fired = await idleMinute({ scanner: { driver: 'serial', path: pty.device } });
    // The journal watch every 5 s (12), the scanner's device-node check every 10 s (6), the link probe every
    // 30 s (2), the WAL purge after start (1), the daily settlement's minute check (1), and two spare. With the
    // device-node check every second (before) this was 76.
    assert.ok(fired <= 24, `${fired} timers fired in an idle minute`);
    assert.equal(daemon!.hardware.scanner.connected, true);
    assert.equal(daemon!.interaction.state.name, 'ready');
  });

  it('with the MDB HAT too: its device-node check at the same pace, at most 30 timers in an idle minute', async () => {
    await hatPty.start();
    const fired = await idleMinute({ scanner: { driver: 'serial', path: pty.device }, mdb: { path: hatPty.device } });
    // The above and the HAT's device-node check every 10 s (6). With the HAT's check every second (before) 81.
    assert.ok(fired <= 30, `${fired} timers fired in an idle minute`);
    assert.equal(daemon!.hardware.mdb!.connected, true);
  });
});
