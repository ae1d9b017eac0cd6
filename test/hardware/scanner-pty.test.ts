// The serial scanner through a real pty pair (socat) and the native serialport binding: codes, unplug, replug.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { openSync, writeSync, closeSync } from 'node:fs';
import { SerialScanner } from '../../src/hardware/pi/serial-scanner.js';
import type { ScannerFault } from '../../src/hardware/scanner.js';
import { PtyPair } from './pty.js';
import { ALIPAY, WECHAT } from './codes.js';

function send(path: string, text: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

describe('hardware/scanner (real pty, native binding)', function () {
  this.timeout(10_000);
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
});
