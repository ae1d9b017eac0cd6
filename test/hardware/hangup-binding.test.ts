// hangup-binding.ts through fakes: the unix read (scripted read(2) results and a fake poller) tells a hangup (0 bytes)
// from a port with nothing to read yet (EAGAIN: it waits on the poller), and a mock binding whose read gives 0 bytes
// makes the serial scanner report the unplug and reconnect. The same on a real pty: serial-hangup.test.ts.
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { SerialPortMock } from 'serialport';
import { HangupError, hangupAware, readUnix, type FsRead, type UnixPort } from '../../src/hardware/pi/hangup-binding.js';
import { SerialScanner } from '../../src/hardware/pi/serial-scanner.js';
import type { ScannerFault } from '../../src/hardware/scanner.js';
import { FakeClock } from '../fake-clock.js';
import { WECHAT } from './codes.js';

const MockBinding = SerialPortMock.binding;
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code });

/** A bindings-cpp-like unix port on fd 7 whose read(2) results are `script`, in order. */
function fakeUnix(script: (number | NodeJS.ErrnoException)[]): { port: UnixPort; poller: EventEmitter; reads: () => number; read: FsRead } {
  const poller = new EventEmitter();
  let reads = 0;
  const port = { fd: 7, isOpen: true, poller, read: () => Promise.reject(new Error('not the binding’s own read')) } as unknown as UnixPort;
  const read: FsRead = (fd, buffer, offset) => {
    assert.equal(fd, 7);
    const next = script[reads++];
    if (next === undefined) return Promise.reject(new Error('read past the script'));
    if (typeof next !== 'number') return Promise.reject(next);
    buffer.fill(0x31, offset, offset + next);
    return Promise.resolve(next);
  };
  return { port, poller, reads: () => reads, read };
}

const settled = (p: Promise<unknown>): Promise<boolean> => Promise.race([p.then(() => true, () => true), new Promise<boolean>((r) => setImmediate(() => r(false)))]);

describe('hardware/hangup-binding (fakes)', () => {
  it('nothing to read yet (EAGAIN) waits for the poller, then returns the bytes: never a hangup', async () => {
    const f = fakeUnix([errno('EAGAIN'), 3]);
    const buf = Buffer.alloc(8);
    const p = readUnix(f.port, f.read)(buf, 0, 8);
    assert.equal(await settled(p), false, 'waiting on the poller');
    assert.equal(f.reads(), 1, 'one read, then no more until readable');
    f.poller.emit('readable', null);
    assert.deepEqual(await p, { bytesRead: 3, buffer: buf });
    assert.equal(f.reads(), 2);
  });

  it('0 bytes is a hangup: one read, a disconnect error, no retry', async () => {
    const f = fakeUnix([0]);
    const err = await readUnix(f.port, f.read)(Buffer.alloc(8), 0, 8).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof HangupError);
    assert.equal(err.disconnect, true);
    assert.equal(err.code, 'EOF');
    assert.equal(f.reads(), 1);
  });

  it('a close while waiting is a cancel (not a disconnect); other errors pass as they are', async () => {
    const f = fakeUnix([errno('EAGAIN')]);
    const p = readUnix(f.port, f.read)(Buffer.alloc(8), 0, 8);
    await settled(p);
    const cancel = Object.assign(new Error('Canceled'), { canceled: true });
    f.poller.emit('readable', cancel);
    await assert.rejects(p, (e) => e === cancel);

    const g = fakeUnix([errno('EIO')]);
    await assert.rejects(readUnix(g.port, g.read)(Buffer.alloc(8), 0, 8), { code: 'EIO' });

    const h = fakeUnix([]);
    h.port.isOpen = false;
    await assert.rejects(readUnix(h.port, h.read)(Buffer.alloc(8), 0, 8), { canceled: true });
    assert.equal(h.reads(), 0);
  });

  it('wraps once, and leaves everything but read to the binding and its ports', async () => {
    const wrapped = hangupAware(MockBinding);
    assert.equal(hangupAware(wrapped), wrapped);
    MockBinding.createPort('/dev/hup-pass', { echo: false, record: true });
    try {
      const port = await wrapped.open({ path: '/dev/hup-pass', baudRate: 9600 });
      await port.write(Buffer.from('C,1\n'));
      assert.equal(port.recording.toString(), 'C,1\n');
      port.emitData(Buffer.from('ab'));
      const buf = Buffer.alloc(4);
      assert.equal((await port.read(buf, 0, 4)).bytesRead, 2);
      await port.close();
      assert.equal(port.isOpen, false);
    } finally {
      MockBinding.reset();
    }
  });
});

describe('hardware/scanner: a 0-byte read through a mock binding', () => {
  afterEach(() => MockBinding.reset());

  /** MockBinding whose open port reads 0 bytes (end of file) from `hangUp()` until it is reopened. */
  function eofOnDemand(): { binding: typeof MockBinding; hangUp(): void; eofReads: () => number } {
    let hangUp = (): void => {};
    let eofReads = 0;
    const binding = Object.create(MockBinding) as typeof MockBinding;
    binding.open = async (opts) => {
      const p = await MockBinding.open(opts);
      const read = p.read.bind(p);
      let hung = false;
      const hungUp = new Promise<void>((resolve) => (hangUp = () => ((hung = true), resolve())));
      const eof = (buffer: Buffer) => () => (eofReads++, { bytesRead: 0, buffer });
      // A read waiting for data when the hangup comes returns, with 0 bytes, as a tty's does.
      p.read = (buffer, offset, length) => (hung ? Promise.resolve(eof(buffer)()) : Promise.race([read(buffer, offset, length), hungUp.then(eof(buffer))]));
      return p;
    };
    return { binding, hangUp: () => hangUp(), eofReads: () => eofReads };
  }

  it('is an unplug: fault at once, the port closed, reconnected with backoff', async () => {
    MockBinding.createPort('/dev/hup-scan', { echo: false, record: false });
    const clock = new FakeClock();
    const dev = eofOnDemand();
    const scanner = new SerialScanner({ path: '/dev/hup-scan', binding: dev.binding, timers: clock, reopenMinMs: 500 });
    let connected = once(scanner, 'connected');
    await scanner.open();
    await connected;
    try {
      const fault = once(scanner, 'fault');
      dev.hangUp();
      const [f] = (await fault) as [ScannerFault];
      assert.match(f.reason, /hung up/);
      assert.equal(scanner.connected, false);
      assert.equal(scanner.serialPort, null);
      assert.equal(dev.eofReads(), 1, 'one read of the end of file, then the port is closed');

      connected = once(scanner, 'connected');
      clock.tick(500);
      await connected;
      assert.equal(scanner.connected, true);
      const code = once(scanner, 'code');
      (scanner.serialPort!.port as unknown as MockPort).emitData(Buffer.from(`${WECHAT}\r`));
      assert.deepEqual(await code, [WECHAT]);
    } finally {
      await scanner.close();
    }
  });
});
