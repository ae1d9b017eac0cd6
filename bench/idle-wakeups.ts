// Idle wakeups: how often `kiosk run` wakes up while nobody is at the kiosk. The daemon is forked as in
// cold-start (`node dist/src/cli/kiosk.js run`), left to settle after 'ready' (the first link probe, the WAL
// purge a few seconds after start), then the voluntary context switches of all its threads
// (/proc/PID/task/*/status, voluntary_ctxt_switches: each one is a sleep, so each is followed by a wakeup)
// are counted over a few windows; the row is the median window, per minute. Baseline in the same run: a bare
// node process that only keeps its event loop alive (`setInterval(() => {}, 2**30)`), the floor of V8's and
// libuv's own housekeeping. Three configs: the sim scanner; the serial driver on a real pty (socat) through the
// native binding, where the presence check of the device node lives; and that with the MDB HAT on a second pty
// (its own device-node check, at the same pace now that a hangup is seen by the port itself).
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { PtyPair } from '../test/hardware/pty.js';
import { BenchFixture, KIOSK_JS } from './fixture.js';
import { median, runStandalone, type BenchRow } from './lib.js';

const WINDOW_S = Number(process.env.BENCH_IDLE_WINDOW_S ?? 10);
const WINDOWS = Number(process.env.BENCH_IDLE_WINDOWS ?? 3);
const SETTLE_MS = 5_000;
/** Fewer than one a second: a timer every 5 s is 12 a minute, the link probe 2, each device-node check 6; each
 *  wakes one thread or two (a stat also wakes a thread-pool worker). The scanner's device-node check every second
 *  was 222; the HAT's was every second until a hangup was seen by the port (hangup-binding.ts). */
const BUDGET_PER_MIN = 60;

/** Voluntary and all context switches of every thread of `pid`. */
export function switchesOf(pid: number): { voluntary: number; total: number } {
  let voluntary = 0;
  let total = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
    } catch {
      continue; // a thread that ended meanwhile
    }
    const v = Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(text)?.[1] ?? 0);
    const n = Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(text)?.[1] ?? 0);
    voluntary += v;
    total += v + n;
  }
  return { voluntary, total };
}

/** Voluntary switches per minute of `pid`, one number per window. */
async function perMinute(pid: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < WINDOWS; i++) {
    const a = switchesOf(pid).voluntary;
    await sleep(WINDOW_S * 1000);
    out.push(((switchesOf(pid).voluntary - a) * 60) / WINDOW_S);
  }
  return out;
}

function stop(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    p.once('exit', () => resolve());
    p.kill('SIGTERM');
  });
}

async function bareNode(): Promise<number[]> {
  const p = spawn(process.execPath, ['-e', 'setInterval(() => {}, 2 ** 30)'], { stdio: 'ignore' });
  try {
    await sleep(1000);
    return await perMinute(p.pid!);
  } finally {
    await stop(p);
  }
}

async function daemon(configFile: string): Promise<number[]> {
  const p = fork(KIOSK_JS, ['run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
  let stderr = '';
  p.stderr!.on('data', (d) => (stderr += d));
  try {
    await new Promise<void>((resolve, reject) => {
      p.on('message', (m) => m === 'ready' && resolve());
      p.once('exit', (code) => reject(new Error(`kiosk run exited ${code} before ready: ${stderr.slice(-2000)}`)));
    });
    p.disconnect(); // the IPC channel is not part of a kiosk at idle
    await sleep(SETTLE_MS);
    return await perMinute(p.pid!);
  } finally {
    await stop(p);
  }
}

export async function run(): Promise<BenchRow[]> {
  const baseName = 'idle wakeups baseline: bare node, event loop kept alive';
  const base = await bareNode();
  const rows: BenchRow[] = [{ name: baseName, unit: '/min', median: median(base), note: `voluntary context switches of all threads, median of ${WINDOWS} windows of ${WINDOW_S} s` }];
  const fx = await new BenchFixture().start();
  const pty = new PtyPair();
  const hatPty = new PtyPair();
  try {
    await pty.start();
    await hatPty.start();
    const serial = { scanner: { driver: 'serial', path: pty.device } };
    for (const [label, config] of [
      ['sim scanner', { scanner: { driver: 'sim' } }],
      ['serial scanner on a pty', serial],
      ['serial scanner and MDB HAT on ptys', { ...serial, mdb: { path: hatPty.device } }],
    ] as const) {
      fx.writeConfig({ ...config, log: { level: 'warn' } });
      const s = await daemon(fx.configFile);
      rows.push({
        name: `idle wakeups: kiosk run, ${label}`,
        unit: '/min',
        median: median(s),
        baseline: baseName,
        ratio: median(s) / Math.max(1, median(base)),
        budget: `<= ${BUDGET_PER_MIN}/min`,
        ok: median(s) <= BUDGET_PER_MIN,
        note: `windows: ${s.map((x) => x.toFixed(0)).join(', ')} /min`,
      });
    }
  } finally {
    await hatPty.dispose();
    await pty.dispose();
    await fx.dispose();
  }
  return rows;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
