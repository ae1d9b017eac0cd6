// The serial scanner through a real pty pair (socat) and the native serialport binding: codes, unplug, replug.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openSync, writeSync, closeSync, rmSync } from 'node:fs';
import { SerialScanner } from '../../src/hardware/pi/serial-scanner.js';
import { PRESENCE_CHECK_MS } from '../../src/hardware/pi/presence.js';
import { FakeClock } from '../fake-clock.js';
import type { ScannerFault } from '../../src/hardware/scanner.js';
import { PtyPair } from './pty.js';
import { ALIPAY, WECHAT } from './codes.js';
import { bound } from '../wait.js';

function send(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

describe('hardware/scanner (real pty, native binding)', function () {
  this.timeout(bound(10_000));
  let pty: PtyPair;
  let scanner: SerialScanner | null = null;

  beforeEach(async () => {
    pty = new PtyPair();
    await pty.start();
  });
  afterEach(async () => {
    await scanner?.close();
    scanner = null;
    await pty.dispose();
  });

  it('reads a code, shows a fault on unplug, and reads again after replug', async () => {
    scanner = new SerialScanner({ path: pty.device, baudRate: 9600, terminator: 'CRLF', reopenMinMs: 20, reopenMaxMs: 100, presenceCheckMs: 20 });
    let connected = once(scanner, 'connected');
    await scanner.open();
    await connected;

    let code = once(scanner, 'code');
    send(pty.feeder, `${WECHAT}\r\n`);
    assert.deepEqual(await code, [WECHAT]);

    const fault = once(scanner, 'fault');
    await pty.stop(); // unplug
    const [f] = (await fault) as [ScannerFault];
    assert.equal(f.path, pty.device);
    assert.equal(scanner.connected, false);

    connected = once(scanner, 'connected');
    await pty.start(); // replug: new pty behind the same link
    await connected;
    assert.equal(scanner.connected, true);

    code = once(scanner, 'code');
    send(pty.feeder, `${ALIPAY}\r\n`);
    assert.deepEqual(await code, [ALIPAY]);
  });

  /** A scanner with the default device-node check, its timers on `clock`, connected. */
  const openOn = async (clock: FakeClock): Promise<SerialScanner> => {
    const s = new SerialScanner({ path: pty.device, baudRate: 9600, terminator: 'CRLF', timers: clock });
    const connected = once(s, 'connected');
    await s.open();
    await connected;
    return s;
  };

  // Idle means asleep (issue 20 §5): the port's own error/close tells an unplug; the device-node check that is
  // left for what the port cannot tell runs at most every 5 s. On a fake clock that never moves, the fault can
  // only come from the port.
  it('sees an unplug from the port itself, with its device-node check no more often than every 5 s', async () => {
    const clock = new FakeClock();
    scanner = await openOn(clock);
    assert.deepEqual(clock.intervals(), [PRESENCE_CHECK_MS]);
    assert.ok(PRESENCE_CHECK_MS >= 5000);

    const fault = once(scanner, 'fault');
    await pty.stop(); // unplug
    const [f] = (await fault) as [ScannerFault];
    assert.equal(f.path, pty.device);
    assert.equal(scanner.connected, false);
    assert.equal(clock.fired, 0, 'no timer fired: the port said it');
    assert.deepEqual(clock.intervals(), [], 'the check stops with the port');
  });

  it('the slower check still notices a device node that is gone while the port says nothing', async () => {
    const clock = new FakeClock();
    scanner = await openOn(clock);
    rmSync(pty.device); // the link only: the pty stays open, so the port sees nothing
    const fault = once(scanner, 'fault');
    clock.tick(PRESENCE_CHECK_MS - 1);
    assert.equal(scanner.connected, true);
    clock.tick(1);
    const [f] = (await fault) as [ScannerFault];
    assert.match(f.reason, /ENOENT/);
    assert.equal(scanner.connected, false);
  });
});
