// Scan to wire: from the scanner line's last byte to the micropay request arriving at the sandbox
// (its 'request' event, fired once the body is read). Two scanner boundaries: @serialport/binding-mock
// (bytes handed to the binding in-process) and a real pty pair from socat through the native binding
// (bytes written to the other end of the pty). Everything in between is the daemon's own wiring: parser,
// interaction, engine (journal insert fsync'd before the send), sign, HTTP. Baseline: a bare loopback
// HTTP POST of the same body size to a plain node:http server, from request start to its 'request' body end.
import { closeSync, openSync, writeSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPortMock } from 'serialport';
import { testCode, type SandboxEvent } from '../src/sandbox/index.js';
import { PtyPair } from '../test/hardware/pty.js';
import { BenchFixture, nextEvent, startWiring, type Wiring } from './fixture.js';
import { median, msSince, p99, runStandalone, type BenchRow } from './lib.js';

const SAMPLES = Number(process.env.BENCH_SCANS ?? 200);
const WARMUP = 20;
const BUDGET_MS = 5;
let nonce = Date.now() % 1_000_000;

/** One customer: feed the line, time until the micropay arrives, then wait until the kiosk is ready again. */
export async function customer(w: Wiring, fx: BenchFixture, feed: (bytes: Buffer) => void): Promise<number> {
  const code = testCode('paid', 'wechat', nonce++);
  let start = 0n;
  const arrived = nextEvent<SandboxEvent>(fx.sandbox, 'request', (e) => e.path === '/pay/micropay').then(() => msSince(start));
  const done = nextEvent(w.interaction, 'payment');
  start = process.hrtime.bigint();
  feed(Buffer.from(`${code}\r`, 'latin1'));
  const ms = await arrived;
  await done;
  if (w.interaction.state.name !== 'ready') await nextEvent<{ name: string }>(w.interaction, 'state', (s) => s.name === 'ready');
  return ms;
}

async function variant(kind: 'mock' | 'pty'): Promise<number[]> {
  const fx = await new BenchFixture().start();
  let pty: PtyPair | undefined;
  let fd: number | undefined;
  let w: Wiring | undefined;
  try {
    const MockBinding = SerialPortMock.binding;
    let devicePath = '/dev/bench-scanner';
    if (kind === 'mock') MockBinding.createPort(devicePath, { echo: false, record: false });
    else {
      pty = new PtyPair();
      await pty.start();
      devicePath = pty.device;
    }
    fx.writeConfig({ scanner: { driver: 'serial', path: devicePath } });
    w = await startWiring(fx.configFile, { binding: kind === 'mock' ? MockBinding : undefined, timing: { resultMs: 1, signalMs: 1 } });
    const wiring = w;
    if (!wiring.hardware.scanner.connected) await nextEvent(wiring.hardware.scanner, 'connected');
    let feed: (b: Buffer) => void;
    if (kind === 'mock') {
      const port = (wiring.hardware.scanner as unknown as { serialPort: { port: { emitData(d: Buffer): void } } }).serialPort.port;
      feed = (b) => port.emitData(b);
    } else {
      const out = openSync(pty!.feeder, 'w');
      fd = out;
      feed = (b) => writeSync(out, b);
    }
    const samples: number[] = [];
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const ms = await customer(wiring, fx, feed);
      if (i >= WARMUP) samples.push(ms);
    }
    return samples;
  } finally {
    if (fd !== undefined) closeSync(fd);
    await w?.close();
    if (kind === 'mock') SerialPortMock.binding.reset();
    await pty?.dispose();
    await fx.dispose();
  }
}

/** Bare loopback POST of a micropay-sized body to node:http, keep-alive, same measuring point. */
async function baseline(bodyBytes: number): Promise<number[]> {
  let onArrive: () => void = () => undefined;
  const server = http.createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => {
      onArrive();
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"respCode":"00"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const agent = new http.Agent({ keepAlive: true });
  const body = Buffer.alloc(bodyBytes, 'a');
  const samples: number[] = [];
  try {
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const start = process.hrtime.bigint();
      const arrived = new Promise<number>((r) => (onArrive = () => r(msSince(start))));
      const answered = new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/pay/micropay', agent, headers: { 'content-type': 'application/json', 'content-length': body.length } }, (res) => {
          res.resume();
          res.on('end', resolve);
        });
        req.on('error', reject);
        req.end(body);
      });
      const ms = await arrived;
      await answered;
      if (i >= WARMUP) samples.push(ms);
    }
  } finally {
    agent.destroy();
    await new Promise((r) => server.close(r));
  }
  return samples;
}

export async function run(): Promise<BenchRow[]> {
  // A signed micropay body is about 600 bytes (fields + base64 RSA-1024 signature).
  const base = await baseline(600);
  const rows: BenchRow[] = [{ name: 'scan-to-wire baseline: bare loopback POST', unit: 'ms', median: median(base), p99: p99(base) }];
  for (const kind of ['mock', 'pty'] as const) {
    let s: number[];
    try {
      s = await variant(kind);
    } catch (err) {
      rows.push({ name: `scan-to-wire (${kind === 'mock' ? 'mock binding' : 'real pty'})`, unit: 'ms', median: NaN, budget: `p99 <= ${BUDGET_MS} ms`, ok: false, note: `failed: ${(err as Error).message}` });
      continue;
    }
    rows.push({
      name: `scan-to-wire (${kind === 'mock' ? 'mock binding' : 'real pty'})`,
      unit: 'ms',
      median: median(s),
      p99: p99(s),
      baseline: rows[0]!.name,
      ratio: median(s) / median(base),
      budget: `p99 <= ${BUDGET_MS} ms`,
      ok: p99(s) <= BUDGET_MS,
    });
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
