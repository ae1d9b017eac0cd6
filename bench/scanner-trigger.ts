// Command trigger vs continuous reading: what the kiosk's triggering adds to a scan. A simulated GM module on
// the far end of a real pty (socat), the SerialScanner with its module session on the near end (native binding).
// Rows (medians over SAMPLES): a continuous-mode module, present → code event (baseline); a command-mode module
// already armed, present → code; a command-mode module with the code already held up, arm → code (the kiosk
// becoming ready: trigger command, its answer, the read); and arm → the module's read window open (the trigger's
// round trip). A pty has no baud pacing: at 9600 baud 8N1 add 1.04 ms per byte on the wire (GM trigger 9 bytes
// out + 7 bytes answer ≈ 17 ms; a 18-digit code + CR ≈ 20 ms, the same in both modes).
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerialScanner } from '../src/hardware/pi/serial-scanner.js';
import { GmSim } from '../src/hardware/sim/gm-sim.js';
import { testCode } from '../src/sandbox/index.js';
import { PtyPair } from '../test/hardware/pty.js';
import { median, msSince, p99, runStandalone, type BenchRow } from './lib.js';

const SAMPLES = Number(process.env.BENCH_TRIGGERS ?? 40);
let nonce = 1;

async function rig(trigger: 'continuous' | 'command'): Promise<{ scanner: SerialScanner; sim: GmSim; close(): Promise<void> }> {
  const pty = new PtyPair();
  await pty.start();
  const sim = new GmSim({ model: 'GM65' });
  const detach = pty.attach(sim);
  const scanner = new SerialScanner({ path: pty.device, module: 'gm', model: 'GM65', trigger, readWindowMs: 5000, presenceCheckMs: 0 });
  await scanner.open();
  if (scanner.moduleStatus?.state !== 'ready') throw new Error(`module not ready: ${scanner.moduleStatus?.error}`);
  return {
    scanner,
    sim,
    close: async () => {
      await scanner.close();
      detach();
      await pty.dispose();
    },
  };
}

async function timed(samples: number, f: () => Promise<number>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples + 5; i++) {
    const ms = await f();
    if (i >= 5) out.push(ms); // warm-up
  }
  return out;
}

export async function run(): Promise<BenchRow[]> {
  const cont = await rig('continuous');
  const baseline = await timed(SAMPLES, async () => {
    const got = once(cont.scanner, 'code');
    const t = process.hrtime.bigint();
    cont.sim.present(testCode('paid', 'wechat', nonce++));
    await got;
    return msSince(t);
  });
  await cont.close();

  const cmd = await rig('command');
  const s = cmd.scanner;
  const armed = await timed(SAMPLES, async () => {
    s.arm(true);
    if (!cmd.sim.windowOpen) await once(cmd.sim, 'window');
    const got = once(s, 'code');
    s.once('code', () => s.arm(false)); // as the daemon: processing disarms inside the handler
    const t = process.hrtime.bigint();
    cmd.sim.present(testCode('paid', 'wechat', nonce++));
    await got;
    return msSince(t);
  });
  const waiting = await timed(SAMPLES, async () => {
    cmd.sim.present(testCode('paid', 'wechat', nonce++));
    const got = once(s, 'code');
    s.once('code', () => s.arm(false));
    const t = process.hrtime.bigint();
    s.arm(true);
    await got;
    return msSince(t);
  });
  const roundTrip = await timed(SAMPLES, async () => {
    const opened = once(cmd.sim, 'window');
    const t = process.hrtime.bigint();
    s.arm(true);
    await opened;
    const ms = msSince(t);
    s.arm(false);
    return ms;
  });
  await cmd.close();

  const b = median(baseline);
  const row = (name: string, v: number[], note: string): BenchRow => ({ name, unit: 'ms', median: median(v), p99: p99(v), baseline: 'trigger: continuous present→code', ratio: median(v) / b, note });
  return [
    { name: 'trigger: continuous present→code', unit: 'ms', median: b, p99: p99(baseline), note: 'pty, module reads at once' },
    row('trigger: command armed present→code', armed, 'window already open: no added latency expected'),
    row('trigger: command arm→code (code held up)', waiting, 'kiosk becomes ready with a phone already held up'),
    row('trigger: command arm→window open', roundTrip, 'trigger command to the module (pty, no baud pacing)'),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
