// Vend request to approval over MDB, on the pty rig (issue 22 §5): the simulated machine writes its selection
// (`c,STATUS,VEND,1.00,2`) into a real pty (socat) whose other end the daemon's HAT driver holds through the native
// serialport binding; the moment the kiosk offers it a paid code is scanned (mock scanner binding: scan-to-wire
// measures the scanner's own pty); the span ends when the machine reads `C,VEND,1.00`. Parts: vend request → offer
// on the display, and scan → approval read by the machine (the payment: journal, sign, POST, verify, journal, then
// the journaled `vend-approved` and the line on the pty). Baseline in the same run: the same daemon wiring with the
// relay instead of the machine, a paid code scanned → the product released (the interaction's 'approve').
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialPortMock } from 'serialport';
import { testCode } from '../src/sandbox/index.js';
import { VmcSim } from '../src/hardware/sim/mdb-sim.js';
import { PtyPair } from '../test/hardware/pty.js';
import { BenchFixture, nextEvent, startWiring, type Wiring } from './fixture.js';
import { median, msSince, p99, runStandalone, type BenchRow } from './lib.js';

const SAMPLES = Number(process.env.BENCH_VENDS ?? 200);
const WARMUP = 20;
let nonce = Date.now() % 1_000_000;

/** The mock scanner's feed of one wiring. */
function feeder(w: Wiring): (line: string) => void {
  const port = (w.hardware.scanner as unknown as { serialPort: { port: { emitData(d: Buffer): void } } }).serialPort.port;
  return (line) => port.emitData(Buffer.from(`${line}\r`, 'latin1'));
}

interface Rig {
  w: Wiring;
  vmc: VmcSim | undefined;
  scan(line: string): void;
  close(): Promise<void>;
}

/** A daemon wiring with its mock scanner at `scannerPath`; `mdb`: the HAT on a real pty with the machine beyond it. */
async function rig(mdb: boolean, scannerPath: string): Promise<Rig> {
  const fx = await new BenchFixture().start();
  const pty = mdb ? new PtyPair() : undefined;
  let detach: () => void = () => undefined;
  let w: Wiring | undefined;
  const close = async () => {
    detach();
    await w?.close();
    await pty?.dispose();
    await fx.dispose();
  };
  try {
    SerialPortMock.binding.createPort(scannerPath, { echo: false, record: false });
    const vmc = mdb ? new VmcSim() : undefined;
    if (pty && vmc) {
      await pty.start();
      detach = pty.attach(vmc);
    }
    fx.writeConfig({ scanner: { driver: 'serial', path: scannerPath }, ...(pty ? { mdb: { path: pty.device } } : {}) });
    w = await startWiring(fx.configFile, { binding: SerialPortMock.binding, timing: { resultMs: 1, signalMs: 1 } });
    if (!w.hardware.scanner.connected) await nextEvent(w.hardware.scanner, 'connected');
    if (vmc && vmc.state === 'inactive') await nextEvent(vmc, 'command', (l: string) => l === 'C,1');
    return { w, vmc, scan: feeder(w), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** The relay: a paid code scanned → the product released. */
async function relaySample(r: Rig): Promise<number> {
  const { w } = r;
  if (w.interaction.state.name !== 'ready') await nextEvent<{ name: string }>(w.interaction, 'state', (s) => s.name === 'ready');
  const released = nextEvent(w.interaction, 'approve');
  const done = nextEvent(w.interaction, 'payment');
  const start = process.hrtime.bigint();
  r.scan(testCode('paid', 'wechat', nonce++));
  await released;
  const ms = msSince(start);
  await done;
  return ms;
}

/** The machine: vend request → offer, a scan at once, → C,VEND read by the machine. */
async function machineSample(r: Rig): Promise<{ total: number; offer: number; approval: number; written: number }> {
  const { w } = r;
  const vmc = r.vmc!;
  if (w.interaction.state.name !== 'idle') await nextEvent<{ name: string }>(w.interaction, 'state', (s) => s.name === 'idle');
  const offered = nextEvent<{ name: string }>(w.interaction, 'state', (s) => s.name === 'ready');
  const approved = nextEvent(vmc, 'approved');
  const written = nextEvent<{ dir: string; line: string }>(w.hardware.mdb!, 'line', (l) => l.dir === 'out' && l.line.startsWith('C,VEND'));
  const done = nextEvent(w.interaction, 'payment');
  const start = process.hrtime.bigint();
  vmc.select('1.00', '2');
  await offered;
  const offer = msSince(start);
  const scanned = process.hrtime.bigint();
  r.scan(testCode('paid', 'wechat', nonce++));
  await written;
  const writtenMs = msSince(scanned);
  await approved;
  const total = msSince(start);
  const approval = msSince(scanned);
  await done;
  return { total, offer, approval, written: writtenMs };
}

export async function run(): Promise<BenchRow[]> {
  // Both rigs up at once and sampled in turn: the machine's load varies, and both see the same.
  const relay = await rig(false, '/dev/bench-scanner-relay');
  let machine: Rig | undefined;
  const base: number[] = [];
  const m = { total: [] as number[], offer: [] as number[], approval: [] as number[], written: [] as number[] };
  try {
    machine = await rig(true, '/dev/bench-scanner-mdb');
    for (let i = 0; i < WARMUP + SAMPLES; i++) {
      const b = await relaySample(relay);
      const x = await machineSample(machine);
      if (i < WARMUP) continue;
      base.push(b);
      m.total.push(x.total);
      m.offer.push(x.offer);
      m.approval.push(x.approval);
      m.written.push(x.written);
    }
  } finally {
    await machine?.close();
    await relay.close();
    SerialPortMock.binding.reset();
  }
  const baseline = 'relay: paid code scanned → product released (same wiring)';
  const row = (name: string, s: number[], compare: boolean): BenchRow => ({
    name,
    unit: 'ms',
    median: median(s),
    p99: p99(s),
    ...(compare ? { baseline, ratio: median(s) / median(base) } : {}),
  });
  return [
    row(baseline, base, false),
    row('mdb: vend request → approval sent, paid code scanned at the offer (HAT on a real pty)', m.total, true),
    row('mdb: … of it, vend request → offer shown', m.offer, false),
    row('mdb: … of it, scan → C,VEND read by the machine', m.approval, true),
    row('mdb: … of that, scan → C,VEND written by the kiosk (before the pty)', m.written, true),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
