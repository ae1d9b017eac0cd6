// Issue 20 §5, idle means asleep: the whole daemon (serial scanner on a real pty, the sandbox as gateway) on a
// fake clock. While nobody is at the kiosk no timer of the daemon repeats more often than every 5 s, and a minute
// of idle time fires about twenty timers, not one a second.
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
  let daemon: Daemon | undefined;
  beforeEach(async () => {
    fx = await new DaemonFixture().start();
    pty = new PtyPair();
    await pty.start();
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await pty.dispose();
    await fx.dispose();
  });

  it('sets no interval under 5 s and fires at most 24 timers in an idle minute', async () => {
    const clock = new FakeClock();
    const config = loadConfig(fx.writeConfig({ scanner: { driver: 'serial', path: pty.device } }));
    daemon = await Daemon.start(config, { log: silentLogger, clock });
    if (!daemon.hardware.scanner.connected) await once(daemon.hardware.scanner, 'connected');
    const short = clock.intervals().filter((ms) => ms < 5000);
    assert.deepEqual(short, [], `intervals under 5 s: ${short.join(', ')} ms`);

    const before = clock.fired;
    await clock.advance(60_000);
    const fired = clock.fired - before;
    // The journal watch every 5 s (12), the scanner's device-node check every 10 s (6), the link probe every
    // 30 s (2), the WAL purge after start (1), the daily settlement's minute check (1), and two spare. With the
    // device-node check every second (before) this was 76.
    assert.ok(fired <= 24, `${fired} timers fired in an idle minute`);
    assert.equal(daemon.hardware.scanner.connected, true);
    assert.equal(daemon.interaction.state.name, 'ready');
  });
});
