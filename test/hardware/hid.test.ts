// USB keyboard (HID) scanners: input_event streams (24-byte and 16-byte layouts) through the decoder, and the
// driver on a fake device file (a FIFO) with a fake grab: codes, noise, unplug and replug, a refused grab.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeSync } from 'node:fs';
import { open as openAsync } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectRecordSize, encodeRecords, EV_KEY, EV_SYN, HidDecoder, nativeRecordSize, typedEvents, type RecordSize } from '../../src/hardware/hid.js';
import { HidScanner, type GrabFn } from '../../src/hardware/pi/hid-scanner.js';
import type { BadScan, ScannerFault } from '../../src/hardware/scanner.js';
import { ALIPAY, WECHAT } from './codes.js';
import { bound } from '../wait.js';

function decode(stream: Buffer, size?: RecordSize, chunk = stream.length) {
  const lines: string[] = [];
  const over: number[] = [];
  const d = new HidDecoder({ recordSize: size, onLine: (l) => lines.push(l), onOverlong: (n) => over.push(n) });
  for (let i = 0; i < stream.length; i += chunk) d.push(stream.subarray(i, i + chunk));
  return { lines, over, size: d.recordSize };
}

describe('hardware/hid decoder', () => {
  it('reads a hand-written 24-byte (64-bit) record stream: "1" then Enter', () => {
    // sec 1700000000, usec 123456, then type/code/value, little-endian (struct input_event on x86-64/aarch64).
    const rec = (type: number, code: number, value: number) =>
      Buffer.concat([Buffer.from('00f1536500000000', 'hex'), Buffer.from('40e2010000000000', 'hex'), Buffer.from([type, 0, code, 0, value, 0, 0, 0])]);
    const stream = Buffer.concat([rec(1, 2, 1), rec(0, 0, 0), rec(1, 2, 0), rec(0, 0, 0), rec(1, 28, 1), rec(0, 0, 0), rec(1, 28, 0), rec(0, 0, 0)]);
    assert.equal(stream.length, 8 * 24);
    assert.equal(detectRecordSize(stream), 24);
    assert.equal(decode(stream, undefined, 5).size, 24);
    assert.deepEqual(decode(stream).lines, ['1']);
  });

  it('reads a hand-written 16-byte (32-bit armhf) record stream', () => {
    const rec = (type: number, code: number, value: number) => Buffer.concat([Buffer.from('00f15365', 'hex'), Buffer.from('40e20100', 'hex'), Buffer.from([type, 0, code, 0, value, 0, 0, 0])]);
    const stream = Buffer.concat([rec(4, 4, 0x7001e), rec(1, 11, 1), rec(0, 0, 0), rec(1, 11, 0), rec(0, 0, 0), rec(1, 96, 1), rec(0, 0, 0), rec(1, 96, 0), rec(0, 0, 0)]);
    assert.equal(detectRecordSize(stream.subarray(0, 96)), 16);
    assert.equal(decode(stream, undefined, 3).size, 16);
    assert.deepEqual(decode(stream).lines, ['0']);
  });

  for (const size of [24, 16] as const) {
    it(`${size}-byte records: whole codes in any chunking, size detected from the data`, () => {
      const stream = Buffer.concat([encodeRecords(typedEvents(WECHAT), size), encodeRecords(typedEvents(ALIPAY, 'kpenter'), size, 500_000)]);
      for (const chunk of [stream.length, size, 7, 1, 100]) {
        const r = decode(stream, undefined, chunk);
        assert.deepEqual(r.lines, [WECHAT, ALIPAY], `chunk ${chunk}`);
      }
      assert.equal(decode(stream).size, size);
    });
  }

  it('a non-digit key makes the line unusable, never a digit; releases and repeats are not keys', () => {
    const stream = encodeRecords([...typedEvents('13q4', 'none'), { type: EV_KEY, code: 2, value: 2 }, { type: EV_SYN, code: 0, value: 0 }, ...typedEvents('5')], 24);
    assert.deepEqual(decode(stream).lines, ['13?45']);
  });

  it('memory is bounded: an endless line is dropped and reported once', () => {
    const stream = encodeRecords(typedEvents('1'.repeat(5000)), 24);
    const r = decode(stream, 24, 24 * 10);
    assert.deepEqual(r.lines, []);
    assert.deepEqual(r.over, [5000]);
  });

  it('the process word size is the fallback', () => {
    assert.equal(nativeRecordSize('arm'), 16);
    assert.equal(nativeRecordSize('arm64'), 24);
    assert.equal(nativeRecordSize('x64'), 24);
  });
});

describe('hardware/hid scanner on a fake device file', function () {
  this.timeout(bound(5000));
  let dir: string;
  let fifo: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-hid-'));
    fifo = join(dir, 'event-kbd');
    execFileSync('mkfifo', [fifo]);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const grabs: string[] = [];
  const fakeGrab: GrabFn = (_fd, req) => void grabs.push(req);

  it('grabs, reads codes and noise, survives unplug and replug', async () => {
    const s = new HidScanner({ path: fifo, grab: fakeGrab, reopenMinMs: 20, reopenMaxMs: 50 });
    const codes: string[] = [];
    const bad: BadScan[] = [];
    s.on('code', (c: string) => codes.push(c));
    s.on('bad', (b: BadScan) => bad.push(b));
    // The "device" appears: the writer's open completes when the driver opens the FIFO (on the thread pool; a
    // blocking open on this thread would stall the driver's retry timer).
    // FileHandles closed through themselves (a raw close would leave the handle to fail at garbage collection).
    const opened = s.open();
    let h = await openAsync(fifo, 'w');
    let w = h.fd;
    await opened;
    assert.equal(s.connected, true);
    assert.equal(grabs.at(-1), 'grab');
    const got = once(s, 'code');
    writeSync(w, encodeRecords([...typedEvents('12q4567'), ...typedEvents(WECHAT)], 24));
    await got;
    assert.deepEqual(codes, [WECHAT]);
    assert.equal(bad.length, 1);
    // Unplug: half a code, then the device is gone. The half must not join the next code.
    const fault = once(s, 'fault');
    writeSync(w, encodeRecords(typedEvents('1345', 'none'), 24));
    await h.close();
    assert.match(((await fault)[0] as ScannerFault).reason, /end of file/);
    const back = once(s, 'connected');
    h = await openAsync(fifo, 'w');
    w = h.fd;
    await back;
    const again = once(s, 'code');
    writeSync(w, encodeRecords(typedEvents(ALIPAY), 24));
    assert.equal((await again)[0], ALIPAY);
    assert.deepEqual(codes, [WECHAT, ALIPAY]);
    await s.close();
    await h.close();
  });

  it('never reads a device it cannot grab exclusively', async () => {
    const s = new HidScanner({
      path: fifo,
      grab: (_fd, req) => {
        if (req === 'grab') throw new Error('ioctl EVIOCGRAB failed: EBUSY (another program holds the scanner)');
      },
      reopenMinMs: 10_000,
    });
    const fault = once(s, 'fault');
    const opened = s.open();
    const h = await openAsync(fifo, 'w');
    await opened;
    assert.match(((await fault)[0] as ScannerFault).reason, /cannot take the scanner exclusively: .*EBUSY/);
    assert.equal(s.connected, false);
    await s.close();
    await h.close();
  });
});
