// What each import costs at start: fresh processes (node's boot is not counted), each importing, in the order
// `kiosk run` loads them, the packages and our layers one after the other and timing each step, so a step's
// time is what it adds to what came before (a package shared with an earlier step is not counted twice). The
// packages `kiosk run` must not load without their driver or section (mqtt, serialport, …) are timed alone,
// each in its own process. Medians of BENCH_IMPORT_RUNS (default 9) processes, steps interleaved; the
// baseline is `node -e ''` measured in the same run. Rows are for the record (docs/performance.md), no budget.
// The steps import tsc's output, one module per file (what `kiosk run` loaded before the start path was
// bundled, and still loads after a bare `npx tsc`); the bundle `npm run build` writes (scripts/bundle.ts) is
// timed alone: what `kiosk run` loads now instead of all the steps but the native and CommonJS packages.
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { median, msSince, runStandalone, type BenchRow } from './lib.js';

const RUNS = Number(process.env.BENCH_IMPORT_RUNS ?? 9);
const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const ours = (file: string) => pathToFileURL(path.join(SRC, file)).href;

/** `kiosk run`'s imports in the order it loads them: each step's own cost comes on top of the ones above. */
export const RUN_STEPS: ReadonlyArray<{ name: string; spec: string }> = [
  { name: 'zod', spec: 'zod' },
  { name: 'the config schema (src/config, umpay field rules)', spec: ours('config/index.js') },
  { name: 'pino', spec: 'pino' },
  { name: 'better-sqlite3', spec: 'better-sqlite3' },
  { name: 'the journal (src/journal)', spec: ours('journal/journal.js') },
  { name: 'koffi (the journal lock: flock)', spec: 'koffi' },
  { name: 'node-fetch', spec: 'node-fetch' },
  { name: 'lossless-json', spec: 'lossless-json' },
  { name: 'the gateway client (src/umpay)', spec: ours('umpay/client.js') },
  { name: 'the payment engine (src/payment)', spec: ours('payment/engine.js') },
  { name: 'the hardware factory (src/hardware/index)', spec: ours('hardware/index.js') },
  { name: 'the daemon (src/kiosk)', spec: ours('kiosk/daemon.js') },
];

/** The start path as `npm run build` bundles it (dist/src/cli/run.js and its chunks, packages outside it). */
export const BUNDLE = { name: '`kiosk run` as bundled (dist/src/cli/run.js and its chunks)', spec: ours('cli/run.js') };

/** Loaded only by the driver, section or command that needs them: each timed alone. */
export const ALONE: readonly string[] = ['mqtt', 'serialport', 'onoff', 'i2c-bus', 'johnny-five', 'pino-pretty', 'zod', 'pino', 'node-fetch', 'koffi'];

const CHILD = `
const specs = JSON.parse(process.argv[1]);
const out = [];
for (const s of specs) { const t = performance.now(); await import(s); out.push(performance.now() - t); }
process.stdout.write(JSON.stringify(out));
process.exit(0);
`;

function timeImports(specs: readonly string[]): Promise<number[]> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--input-type=module', '-e', CHILD, JSON.stringify(specs)], { cwd: SRC }, (err, stdout, stderr) =>
      err ? reject(new Error(`importing ${specs.join(', ')}: ${stderr || err.message}`)) : resolve(JSON.parse(stdout) as number[]),
    );
  });
}

function nodeEmpty(): Promise<number> {
  const start = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    p.on('error', reject);
    p.on('exit', () => resolve(msSince(start)));
  });
}

export async function run(): Promise<BenchRow[]> {
  const base: number[] = [];
  const steps: number[][] = RUN_STEPS.map(() => []);
  const alone: number[][] = ALONE.map(() => []);
  const bundled: number[] = [];
  await timeImports(RUN_STEPS.map((s) => s.spec)); // page cache
  for (let i = 0; i < RUNS; i++) {
    base.push(await nodeEmpty());
    (await timeImports(RUN_STEPS.map((s) => s.spec))).forEach((ms, n) => steps[n]!.push(ms));
    for (const [n, spec] of ALONE.entries()) alone[n]!.push((await timeImports([spec]))[0]!);
    bundled.push((await timeImports([BUNDLE.spec]))[0]!);
  }
  const b = median(base);
  const BASE = "imports baseline: node -e ''";
  const row = (name: string, samples: number[], note?: string): BenchRow => ({ name, unit: 'ms', median: median(samples), baseline: BASE, ratio: median(samples) / b, ...(note ? { note } : {}) });
  const totals = steps[0]!.map((_, run) => steps.reduce((sum, s) => sum + s[run]!, 0));
  return [
    { name: BASE, unit: 'ms', median: b },
    ...RUN_STEPS.map((s, n) => row(`import, kiosk run's order: + ${s.name}`, steps[n]!)),
    row("import, kiosk run's order: all of the above", totals, 'the sum per process, median over processes'),
    row(`import alone: ${BUNDLE.name}`, bundled, 'what kiosk run imports now, packages outside the bundle included'),
    ...ALONE.map((spec, n) => row(`import alone: ${spec}`, alone[n]!)),
  ];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
