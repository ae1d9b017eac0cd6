// `npm run test:crash -- --kills 1000 [--seed N] [--lanes N]`: the long randomised crash run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSandbox } from '../../src/sandbox/index.js';
import { randomRun } from './harness.js';
import { randomCode } from './codes.js';

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`test:crash: --${name} must be a whole number ≥ 1, got ${JSON.stringify(v)}\n`);
    process.exit(2);
  }
  return n;
}

const kills = flag('kills', 100);
const seed = flag('seed', Date.now() % 100000);
const lanes = flag('lanes', 2);
const sandbox = await startSandbox();
const dir = mkdtempSync(join(tmpdir(), 'crash-run-'));
try {
  process.stdout.write(`crash run: ${kills} kills, seed ${seed}, ${lanes} lanes\n`);
  const res = await randomRun(sandbox, sandbox.merchantKeyPath!, { kills, seed, dir, lanes, onProgress: (n) => n % 100 === 0 && process.stdout.write(`  ${n} kills\n`) }, randomCode);
  const problems = res.verdicts.flatMap((v) => v.problems);
  const states: Record<string, number> = {};
  for (const v of res.verdicts) for (const [k, n] of Object.entries(v.byState)) states[k] = (states[k] ?? 0) + n;
  process.stdout.write(
    `${res.kills} kills (${res.killedMidWork} mid-work), ${res.children} child runs, ${(res.ms / 1000).toFixed(1)} s (${res.msPerCycle.toFixed(0)} ms per kill cycle)\n` +
      `orders: ${JSON.stringify(states)}; ledger orders charged twice: ${sandbox.ledger().orders.filter((o) => o.charged > 1).length}\n`,
  );
  if (problems.length) {
    process.stdout.write(`INVARIANTS BROKEN (seed ${seed}):\n${problems.map((p) => '  ' + p).join('\n')}\n`);
    process.exitCode = 1;
  } else process.stdout.write('invariants hold\n');
} finally {
  await sandbox.close();
  rmSync(dir, { recursive: true, force: true });
}
