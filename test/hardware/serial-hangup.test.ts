// A hangup on a real pty (socat gone: the master closed, as a USB adapter unplugged hangs up its tty) through the
// native binding: the serial drivers see it from the port at once, do not spin, and reconnect when the pty is back.
// The hangup is made to fall between the port's open and its first read: the moment @serialport/bindings-cpp 13
// reads 0 bytes for ever (61,608 reads in 10 s measured, a core). A hangup while the read waits in poll() mostly
// comes as a poll error instead (the flaky "unplug" of scanner-pty.test.ts, which failed when it did not).
// Timers are on a fake clock that never moves unless told: a fault can only come from the port. (The HAT writes `C,1`
// on every open, and a write to a hung-up tty fails with EIO, so its hangup test would pass on that alone: the read
// path both drivers share, reconnecting-port.ts, is pinned by the scanner's.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { SerialPort } from 'serialport';
import { SerialScanner } from '../../src/hardware/pi/serial-scanner.js';
import { MdbHat } from '../../src/hardware/pi/mdb-hat.js';
import { PRESENCE_CHECK_MS } from '../../src/hardware/pi/presence.js';
import { FakeClock } from '../fake-clock.js';
import { PtyPair } from './pty.js';
import { WECHAT } from './codes.js';
import { bound } from '../wait.js';

/** read(2)-type system calls of this process so far, all threads (/proc/self/io). */
const readCalls = (): number => Number(/^syscr:\s*(\d+)/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);

type Device = SerialScanner | MdbHat;
type Open = (opts: { path: string; baudRate: number }) => Promise<unknown>;

describe('hardware/serial hangup (real pty, native binding)', function () {
  this.timeout(bound(10_000));
  let pty: PtyPair;
  let device: Device | null = null;
  beforeEach(async () => {
    pty = new PtyPair();
    await pty.start();
  });
  afterEach(async () => {
    await device?.close();
    device = null;
    await pty.dispose();
  });

  /** The native binding; its first open hangs the pty up once the port is open, before the stream reads. */
  function hangingUpOnce(): { binding: unknown; hungUp: () => { at: number; reads: number } | null } {
    let hungUp: { at: number; reads: number } | null = null;
    const native = SerialPort.binding as unknown as { open: Open };
    const binding = Object.create(native) as { open: Open };
    binding.open = async (opts) => {
      const port = await native.open(opts);
      if (hungUp === null) {
        await pty.stop(); // socat has exited: the pty's master is closed
        hungUp = { at: performance.now(), reads: readCalls() };
      }
      return port;
    };
    return { binding, hungUp: () => hungUp };
  }

  /** The fault, within `ms` of the hangup, or a failure naming how many reads the process made meanwhile. */
  async function faultWithin(d: Device, hungUp: () => { at: number; reads: number } | null, ms: number): Promise<{ reason: string; ms: number; reads: number }> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const h = hungUp();
        reject(new Error(`no fault ${ms} ms after the hangup${h ? `; ${readCalls() - h.reads} read calls meanwhile` : ''}`));
      }, ms);
    });
    try {
      const [f] = (await Promise.race([once(d, 'fault'), late])) as [{ reason: string }];
      const h = hungUp();
      assert.ok(h, 'the fault came after the hangup');
      return { reason: f.reason, ms: performance.now() - h.at, reads: readCalls() - h.reads };
    } finally {
      clearTimeout(timer);
    }
  }

  /** Replug: the pty back behind the same path, the retry fired on the fake clock. */
  async function replug(d: Device, clock: FakeClock): Promise<void> {
    await pty.start();
    const connected = once(d, 'connected');
    clock.tick(10_000);
    await connected;
    assert.equal(d.connected, true);
  }

  it('the scanner: the unplug reported at once, a few reads (no spin), the scanner back on replug', async () => {
    const clock = new FakeClock();
    const hup = hangingUpOnce();
    const scanner = new SerialScanner({ path: pty.device, baudRate: 9600, terminator: 'CRLF', binding: hup.binding, timers: clock, presenceCheckMs: PRESENCE_CHECK_MS });
    device = scanner;
    const fault = faultWithin(scanner, hup.hungUp, bound(2000));
    await scanner.open();
    const f = await fault;
    assert.match(f.reason, /hung up/);
    assert.ok(f.ms < bound(1000), `seen after ${f.ms.toFixed(0)} ms (the device-node check is every ${PRESENCE_CHECK_MS} ms)`);
    assert.ok(f.reads < 100, `${f.reads} read calls between the hangup and the fault`);
    assert.equal(scanner.connected, false);
    assert.equal(clock.fired, 0, 'no timer fired: the port said it');

    await replug(scanner, clock);
    const code = once(scanner, 'code');
    const fd = openSync(pty.feeder, 'w');
    writeSync(fd, `${WECHAT}\r\n`);
    closeSync(fd);
    assert.deepEqual(await code, [WECHAT]);
  });

  it('the MDB HAT: the unplug reported at once, a few reads (no spin), the HAT back on replug', async () => {
    const clock = new FakeClock();
    const hup = hangingUpOnce();
    const hat = new MdbHat({ path: pty.device, baudRate: 115200, binding: hup.binding, timers: clock, presenceCheckMs: PRESENCE_CHECK_MS });
    device = hat;
    const fault = faultWithin(hat, hup.hungUp, bound(2000));
    await hat.open();
    const f = await fault;
    assert.ok(f.ms < bound(1000), `seen after ${f.ms.toFixed(0)} ms`);
    assert.ok(f.reads < 100, `${f.reads} read calls between the hangup and the fault`);
    assert.equal(hat.connected, false);
    assert.equal(clock.fired, 0);
    await replug(hat, clock);
  });

  it('the MDB HAT with the native binding: one device-node check every 5 s or slower, an unplug seen from the port', async () => {
    const clock = new FakeClock();
    const hat = new MdbHat({ path: pty.device, baudRate: 115200, timers: clock });
    device = hat;
    const connected = once(hat, 'connected');
    await hat.open();
    await connected;
    assert.deepEqual(clock.intervals(), [PRESENCE_CHECK_MS]);
    assert.ok(PRESENCE_CHECK_MS >= 5000);
    const fault = once(hat, 'fault');
    await pty.stop();
    await fault;
    assert.equal(hat.connected, false);
    assert.equal(clock.fired, 0, 'no timer fired: the port said it');
    assert.deepEqual(clock.intervals(), [], 'the check stops with the port');
    await replug(hat, clock);
  });
});
