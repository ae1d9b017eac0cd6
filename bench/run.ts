// `npm run bench [-- --only NAME[,NAME]]`: runs every benchmark module in turn, prints one table and
// writes bench/results.json (gitignored). Each module exports `run(): Promise<BenchRow[]>` and also runs
// alone (`node dist/bench/<name>.js`). A module that is absent or fails gives a row saying so, and the
// exit code is 1 when any budget is missed or any module failed.
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable, type BenchRow } from './lib.js';

export const MODULES = ['sign', 'payment', 'scan-to-wire', 'cold-start', 'imports', 'memory', 'recovery', 'fleet', 'scanner-trigger', 'settle', 'idle-wakeups', 'scan-to-wire-tls', 'mdb-vend'] as const;

const RESULTS = fileURLToPath(new URL('../../bench/results.json', import.meta.url));

async function runModule(name: string): Promise<BenchRow[]> {
  let mod: { run?: () => Promise<BenchRow[]> };
  try {
    mod = (await import(`./${name}.js`)) as typeof mod;
  } catch (err) {
    const e = err as Error & { code?: string };
    const missing = e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes(`${name}.js`);
    return [{ name, unit: '', median: NaN, ok: false, note: missing ? `bench/${name}.ts is missing (not built)` : `could not load: ${e.message}` }];
  }
  if (typeof mod.run !== 'function') return [{ name, unit: '', median: NaN, ok: false, note: `bench/${name}.ts exports no run()` }];
  try {
    return await mod.run();
  } catch (err) {
    return [{ name, unit: '', median: NaN, ok: false, note: `failed: ${(err as Error).stack ?? String(err)}` }];
  }
}

export async function main(argv: string[]): Promise<number> {
  const i = argv.indexOf('--only');
  const only = i >= 0 ? (argv[i + 1] ?? '').split(',').filter(Boolean) : [...MODULES];
  const unknown = only.filter((n) => !(MODULES as readonly string[]).includes(n));
  if (i >= 0 && (only.length === 0 || unknown.length > 0)) {
    process.stderr.write(`bench: --only takes one or more of ${MODULES.join(', ')} (comma-separated); got ${JSON.stringify(argv[i + 1] ?? '')}\n`);
    return 2;
  }
  const rows: BenchRow[] = [];
  const timings: Record<string, number> = {};
  for (const name of only) {
    process.stderr.write(`bench: ${name}…\n`);
    const started = Date.now();
    const r = await runModule(name);
    timings[name] = Date.now() - started;
    rows.push(...r);
  }
  process.stdout.write(formatTable(rows) + '\n');
  const notes = rows.filter((r) => r.note);
  if (notes.length) process.stdout.write('\n' + notes.map((r) => `- ${r.name}: ${r.note}`).join('\n') + '\n');
  const results = {
    at: new Date().toISOString(),
    machine: { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpu: os.cpus()[0]?.model, memMB: Math.round(os.totalmem() / 1048576), loadavg: os.loadavg() },
    modulesMs: timings,
    rows: rows.map((r) => ({ ...r, median: Number.isNaN(r.median) ? null : r.median })),
  };
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
  process.stdout.write(`\nwritten: ${path.relative(process.cwd(), RESULTS) || RESULTS}\n`);
  return rows.some((r) => r.ok === false) ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
