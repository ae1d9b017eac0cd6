// Cold start: `node dist/src/cli/kiosk.js run --config FILE` forked with an IPC channel, from the fork
// to the daemon's process.send('ready') (the message pm2's wait_ready waits for), against `node -e ''`
// to its exit in the same run. Config: sim scanner, log indicator, no keypad/approve, the sandbox as the
// gateway, a fresh journal per start (a kiosk's first boot; recovery of an empty journal is instant).
import { fork, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BenchFixture, KIOSK_JS } from './fixture.js';
import { median, msSince, p99, runStandalone, type BenchRow } from './lib.js';

const RUNS = Number(process.env.BENCH_STARTS ?? 15);
const BUDGET_MS = 400;

function nodeEmpty(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', () => resolve(msSince(start)));
  });
}

/** Time to 'ready'; then SIGTERM and wait for the exit, so runs do not overlap. */
export function daemonToReady(configFile: string, execArgv: string[] = []): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = fork(KIOSK_JS, ['run', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv });
    let stderr = '';
    let ms: number | undefined;
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('message', (m) => {
      if (m !== 'ready' || ms !== undefined) return;
      ms = msSince(start);
      p.kill('SIGTERM');
    });
    p.on('error', reject);
    p.on('exit', (code) => (ms === undefined ? reject(new Error(`kiosk run exited ${code} before ready: ${stderr}`)) : resolve(ms)));
  });
}

export async function run(): Promise<BenchRow[]> {
  const fx = await new BenchFixture().start();
  try {
    fx.writeConfig();
    const base: number[] = [];
    const ours: number[] = [];
    await nodeEmpty();
    await daemonToReady(fx.configFile); // warm the page cache for both
    for (let i = 0; i < RUNS; i++) {
      rmSync(fx.journalPath, { force: true });
      rmSync(`${fx.journalPath}-wal`, { force: true });
      rmSync(`${fx.journalPath}-shm`, { force: true });
      base.push(await nodeEmpty());
      ours.push(await daemonToReady(fx.configFile));
    }
    return [
      { name: "cold-start baseline: node -e ''", unit: 'ms', median: median(base), p99: p99(base) },
      {
        name: 'cold-start: kiosk run to ready',
        unit: 'ms',
        median: median(ours),
        p99: p99(ours),
        baseline: "cold-start baseline: node -e ''",
        ratio: median(ours) / median(base),
        budget: `<= ${BUDGET_MS} ms`,
        ok: median(ours) <= BUDGET_MS,
        note: 'budget on the median of fresh starts',
      },
    ];
  } finally {
    await fx.dispose();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
