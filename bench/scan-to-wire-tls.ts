// Scan to wire over TLS after idle (issue 20 §4): the customer who comes after a quiet spell, when the gateway
// has closed the kept-alive connection, against the customer right after another (the connection kept alive).
// The daemon in-process (Daemon.start) with the mock serial binding, the sandbox over https with its own CA
// (gateway.ca). "After 60 s idle" is made without waiting 60 s: the sandbox closes every idle connection
// (closeIdleConnections, what its 5 s keep-alive timeout or a gateway's 60–75 s one does), the bench waits until
// the kiosk has seen the close ('cold'), and, with keepWarm, until it has opened its next connection ('warm', paced
// at most once a minute in production: warmMinIntervalMs 0 here so each sample need not wait). What 60 s would
// add beyond that, nothing in the kiosk does: no timer, and the TLS session cache outlives it (5 min). Every
// customer, back-to-back ones too, comes after QUIET_MS of quiet.
// Variants: keepWarm (the default), keepWarm false (the connection opened at the scan, beside the journal
// commit), and no warm-up at all (before). Budget: keepWarm's p99 within 1.2x the back-to-back p99.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { SerialPortMock } from 'serialport';
import type { WarmMode } from '../src/umpay/warm.js';
import { BenchFixture, nextEvent, startWiring, type Wiring } from './fixture.js';
import { median, p99, runStandalone, type BenchRow } from './lib.js';
import { customer } from './scan-to-wire.js';

const SAMPLES = Number(process.env.BENCH_TLS_SCANS ?? 100);
const WARMUP = 10;
const BUDGET = 1.2;
/**
 * Quiet before every customer, in every variant: what follows a handshake (the server's side of it, TLS 1.3's
 * session tickets) is long over after 60 s, and must not be billed to the next customer here either.
 */
const QUIET_MS = 30;

type Variant = 'back-to-back' | 'after idle, keepWarm' | 'after idle, warm-up at the scan' | 'after idle, no warm-up (before)';
const MODES: Record<Variant, WarmMode> = {
  'back-to-back': 'keep',
  'after idle, keepWarm': 'keep',
  'after idle, warm-up at the scan': 'customer',
  'after idle, no warm-up (before)': 'off',
};

/** The gateway closes the idle connections; the kiosk sees it, and with keepWarm opens its next one. */
async function quietSpell(w: Wiring, fx: BenchFixture, mode: WarmMode): Promise<void> {
  const cold = nextEvent(w.http.warmer, 'cold');
  fx.sandbox.closeIdleConnections();
  await cold;
  if (mode === 'keep' && !w.http.warmer.ready) await nextEvent(w.http.warmer, 'warm');
}

async function variant(v: Variant): Promise<{ samples: number[]; connections: number }> {
  const fx = await new BenchFixture().start({ tls: true });
  let w: Wiring | undefined;
  const devicePath = '/dev/bench-tls-scanner';
  try {
    SerialPortMock.binding.createPort(devicePath, { echo: false, record: false });
    fx.writeConfig({ scanner: { driver: 'serial', path: devicePath } });
    const mode = MODES[v];
    w = await startWiring(fx.configFile, { binding: SerialPortMock.binding, timing: { resultMs: 1, signalMs: 1 }, gateway: { warm: mode, warmMinIntervalMs: 0 } });
    const wiring = w;
    if (!wiring.hardware.scanner.connected) await nextEvent(wiring.hardware.scanner, 'connected');
    const port = (wiring.hardware.scanner as unknown as { serialPort: { port: { emitData(d: Buffer): void } } }).serialPort.port;
    const feed = (b: Buffer) => port.emitData(b);
    const samples: number[] = [];
    const before = fx.sandbox.stats().connections;
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      if (v !== 'back-to-back') await quietSpell(wiring, fx, mode);
      await sleep(QUIET_MS);
      const ms = await customer(wiring, fx, feed);
      if (i >= WARMUP) samples.push(ms);
    }
    return { samples, connections: fx.sandbox.stats().connections - before };
  } finally {
    await w?.close();
    SerialPortMock.binding.reset();
    await fx.dispose();
  }
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const base = await variant('back-to-back');
  const baseName = 'scan-to-wire TLS: back-to-back (kept-alive connection)';
  rows.push({ name: baseName, unit: 'ms', median: median(base.samples), p99: p99(base.samples), note: `${base.connections} new connections in ${WARMUP + SAMPLES} customers` });
  for (const v of ['after idle, keepWarm', 'after idle, warm-up at the scan', 'after idle, no warm-up (before)'] as const) {
    const r = await variant(v);
    const ratio = p99(r.samples) / p99(base.samples);
    const row: BenchRow = { name: `scan-to-wire TLS: ${v}`, unit: 'ms', median: median(r.samples), p99: p99(r.samples), baseline: baseName, ratio, note: `ratio of p99s; median ratio ${(median(r.samples) / median(base.samples)).toFixed(2)}x` };
    if (v === 'after idle, keepWarm') Object.assign(row, { budget: `p99 <= ${BUDGET}x back-to-back`, ok: ratio <= BUDGET });
    rows.push(row);
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
