// Scanner: line splitting, stripping, bad input and reconnect, through @serialport/binding-mock at the port boundary.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SerialPortMock } from 'serialport';
import { SerialScanner, type SerialScannerOptions } from '../../src/hardware/pi/serial-scanner.js';
import type { BadScan, ScannerFault } from '../../src/hardware/scanner.js';
import { ScanParser } from '../../src/hardware/scanner.js';
import { FakeClock } from '../fake-clock.js';
import { ALIPAY, UNIONPAY, WECHAT } from './codes.js';

// serialport re-exports the @serialport/binding-mock binding (with its types) as SerialPortMock.binding.
const MockBinding = SerialPortMock.binding;
const SENTINEL = '6299999999999999999';

interface Run { codes: string[]; bad: BadScan[] }

async function openMock(opts: Partial<SerialScannerOptions> = {}): Promise<SerialScanner> {
  MockBinding.createPort('/dev/mockscan', { echo: false, record: false });
  const scanner = new SerialScanner({ path: '/dev/mockscan', binding: MockBinding, ...opts });
  const connected = once(scanner, 'connected');
  await scanner.open();
  await connected;
  return scanner;
}

/** Feeds chunks into the mock port, then waits for a sentinel code so every earlier byte has been parsed. */
async function feed(scanner: SerialScanner, chunks: (string | Buffer)[], end = '\r'): Promise<Run> {
  const run: Run = { codes: [], bad: [] };
  const onCode = (c: string) => run.codes.push(c);
  const onBad = (b: BadScan) => run.bad.push(b);
  scanner.on('code', onCode).on('bad', onBad);
  const port = scanner.serialPort!.port as unknown as { emitData(d: Buffer): void };
  const done = new Promise<void>((resolve) => scanner.on('code', (c: string) => c === SENTINEL && resolve()));
  for (const c of chunks) port.emitData(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'));
  port.emitData(Buffer.from(SENTINEL + end));
  await done;
  scanner.off('code', onCode).off('bad', onBad);
  run.codes.pop();
  return run;
}

describe('hardware/scanner (mock serial binding)', () => {
  afterEach(() => MockBinding.reset());

  for (const [terminator, end] of [['CR', '\r'], ['LF', '\n'], ['CRLF', '\r\n']] as const) {
    it(`emits codes ended by ${terminator}`, async () => {
      const s = await openMock({ terminator });
      const run = await feed(s, [WECHAT + end + ALIPAY + end, UNIONPAY + end], end);
      assert.deepEqual(run.codes, [WECHAT, ALIPAY, UNIONPAY]);
      assert.deepEqual(run.bad, []);
      await s.close();
    });
  }

  it('joins codes split across chunks, byte by byte', async () => {
    const s = await openMock({ terminator: 'CRLF' });
    const run = await feed(s, [...(WECHAT + '\r\n')].map((ch) => ch), '\r\n');
    assert.deepEqual(run.codes, [WECHAT]);
    await s.close();
  });

  it('strips prefix and suffix', async () => {
    const s = await openMock({ prefix: ']Q1', suffix: '#' });
    const run = await feed(s, [`]Q1${WECHAT}#\r`, `${ALIPAY}\r`]);
    assert.deepEqual(run.codes, [WECHAT, ALIPAY]);
    await s.close();
  });

  it('drops an overlong line without buffering it whole, with one bad event', async () => {
    const s = await openMock({ maxLineLength: 64 });
    const noise = Buffer.alloc(10_240, 0x37); // 10 kB of '7', no terminator until the end
    const chunks: Buffer[] = [];
    for (let i = 0; i < noise.length; i += 100) chunks.push(noise.subarray(i, i + 100));
    let maxBuffered = 0;
    s.on('bad', () => {});
    const port = s.serialPort!;
    port.on('data', () => (maxBuffered = Math.max(maxBuffered, s.parser.buffered)));
    const run = await feed(s, [...chunks, '\r', WECHAT + '\r']);
    assert.equal(run.bad.length, 1);
    assert.match(run.bad[0]!.reason, /too long \(10240 bytes, at most 64\)/);
    assert.deepEqual(run.codes, [WECHAT]);
    assert.ok(maxBuffered <= 64 + 2, `buffered ${maxBuffered}`);
    await s.close();
  });

  it('reports binary noise and text as bad with masked samples; hands digit strings over whole', async () => {
    const s = await openMock();
    const text = 'x' + WECHAT.slice(0, 16);
    const run = await feed(s, [Buffer.from([0x00, 0xff, 0x31, 0x0d]), 'hello\r', text + '\r', '99345\r', WECHAT.slice(0, 17) + '\r', '\r\r']);
    // Whether a digit string is a payment code is the kiosk's decision (test/kiosk/interaction.test.ts).
    assert.deepEqual(run.codes, ['99345', WECHAT.slice(0, 17)]);
    assert.deepEqual(run.bad.map((b) => b.reason), ['binary noise (non-printable bytes)', 'not all digits', 'not all digits']);
    assert.deepEqual(run.bad.map((b) => b.sample), ['3 bytes', 'code…(5 chars)', `code…(${text.length} chars)`]);
    await s.close();
  });

  it('a missing device is a fault, retried with exponential backoff, then connected', async () => {
    const clock = new FakeClock();
    const s = new SerialScanner({ path: '/dev/absent', binding: MockBinding, timers: clock, reopenMinMs: 100, reopenMaxMs: 400 });
    const faults: ScannerFault[] = [];
    s.on('fault', (f: ScannerFault) => faults.push(f));
    await s.open(); // resolves: the daemon goes on without a scanner
    assert.equal(faults.length, 1);
    assert.equal(faults[0]!.path, '/dev/absent');
    assert.match(faults[0]!.reason, /does not exist/);
    assert.equal(s.connected, false);
    const attempts: number[] = [];
    const orig = MockBinding.open.bind(MockBinding);
    MockBinding.open = (o: Parameters<typeof orig>[0]) => (attempts.push(clock.mono()), orig(o));
    for (let i = 0; i < 200; i++) {
      clock.tick(10); // small steps: each failed open settles asynchronously before the next is scheduled
      await new Promise((r) => setImmediate(r));
    }
    MockBinding.open = orig;
    // 100, 200, 400, 400... after the first failure at t=0
    assert.deepEqual(attempts.slice(0, 3), [100, 300, 700]);
    assert.equal(faults.length, 1, 'one fault per outage');
    MockBinding.createPort('/dev/absent', { echo: false, record: false });
    const connected = once(s, 'connected');
    clock.tick(400);
    await connected;
    assert.equal(s.connected, true);
    await s.close();
    assert.equal(clock.pending, 0);
  });
});

describe('hardware/scanner parser', () => {
  it('drops a half line when reset (port lost mid-code)', () => {
    const codes: string[] = [];
    const p = new ScanParser({}, (c) => codes.push(c), () => {});
    p.push(WECHAT.slice(0, 9));
    p.reset();
    p.push(WECHAT + '\r');
    assert.deepEqual(codes, [WECHAT]);
  });

  it('maxLineLength counts the code itself: with 18 a 19-digit code is refused, an 18-digit one taken', () => {
    // The byte limit allows a stray CR/LF and the prefix/suffix; this is the check on the code's own length.
    const codes: string[] = [];
    const bad: BadScan[] = [];
    const p = new ScanParser({ maxLineLength: 18 }, (c) => codes.push(c), (b) => bad.push(b));
    p.push(UNIONPAY + '\r');
    assert.deepEqual(codes, []);
    assert.equal(bad.length, 1);
    assert.match(bad[0]!.reason, /line too long \(19 characters, at most 18\)/);
    p.push(WECHAT + '\r');
    assert.deepEqual(codes, [WECHAT]);
  });
});
