// Shared by every benchmark: one row shape, order statistics, and a table printer.
// Benchmarks report medians and ratios against a baseline measured in the same run: absolute numbers
// differ between this machine and a Pi Zero 2 (10-20x slower), ratios much less.
import { createRequire } from 'node:module';
import type { Sandbox } from '../src/sandbox/index.js';
import { HttpGateway } from '../src/umpay/client.js';
import { loadPrivateKey } from '../src/umpay/keys.js';

/** The node flags production runs the daemon with (pm2's node_args; systemd/kiosk.service says the same). */
export const PRODUCTION_FLAGS: readonly string[] = (createRequire(import.meta.url)('../../ecosystem.config.cjs') as { apps: { node_args?: string[] }[] }).apps[0]!.node_args ?? [];

export interface BenchRow {
  name: string;
  unit: string; // e.g. 'ms', 'ops/s', 'MB'
  median: number;
  p99?: number;
  /** Name of the row this one is compared with (measured in the same run). */
  baseline?: string;
  /** median / baseline median (for times), or the throughput ratio; see `better`. */
  ratio?: number;
  /** The budget, as text (e.g. '>= 0.9x', '<= 5 ms'). */
  budget?: string;
  /** Whether the budget was met, when there is one. */
  ok?: boolean;
  note?: string;
}

export function quantile(samples: readonly number[], q: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[idx]!;
}

export const median = (s: readonly number[]): number => quantile(s, 0.5);
export const p99 = (s: readonly number[]): number => quantile(s, 0.99);

/** Elapsed milliseconds from a process.hrtime.bigint() start. */
export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

function fmt(n: number | undefined): string {
  if (n === undefined || Number.isNaN(n)) return '';
  if (Math.abs(n) >= 1000) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(3);
}

export function formatTable(rows: readonly BenchRow[]): string {
  const head = ['benchmark', 'median', 'p99', 'unit', 'vs baseline', 'ratio', 'budget', 'ok'];
  const body = rows.map((r) => [
    r.name,
    fmt(r.median),
    fmt(r.p99),
    r.unit,
    r.baseline ?? '',
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}x`,
    r.budget ?? '',
    r.ok === undefined ? '' : r.ok ? 'yes' : 'NO',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** Runs a benchmark module's rows standalone (`node dist/bench/x.js`). */
export async function runStandalone(run: () => Promise<BenchRow[]>): Promise<void> {
  const rows = await run();
  process.stdout.write(formatTable(rows) + '\n');
}

/** A gateway client of `sandbox` with the bench's timeouts (1 s connect, 5 s total). */
export function sandboxGateway(sandbox: Sandbox, merchant: { acqSpId: string; acqMerId: string }): HttpGateway {
  return new HttpGateway({
    baseUrl: sandbox.baseUrl,
    merchant,
    privateKey: loadPrivateKey(sandbox.merchantKeyPath!),
    platformKey: sandbox.platformPublicKey,
    connectTimeoutMs: 1000,
    timeoutMs: 5000,
  });
}
