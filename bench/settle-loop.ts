// Issue 21 §11: no step of the settlement may hold the event loop more than 20 ms. A provider's file of 41 MB, and
// the hostile shapes (an unclosed quote, `""` then text, lone \r line ends) each in a file of 8 MB, read and parsed
// while a ticker (setImmediate) measures the longest time the loop did not turn. Baseline in the same run: the same
// file read, decoded and parsed (paced, yielding every 5 ms) on the loop itself, as the daemon did before the worker.
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { decodeSettlementFile, parseSettlementPaced } from '../src/umpay/settlement.js';
import { parseSettlementFile } from '../src/umpay/settle-parse.js';
import { median, p99, type BenchRow } from './lib.js';

const ROUNDS = Number(process.env.BENCH_SETTLE_LOOP_ROUNDS ?? 3);
const BUDGET_MS = 20;

const row = (i: number): string =>
  `TEST0120261204000${String(i).padStart(7, '0')},20261204100000,41509208,T1,S1,O1,Shop,P${i},CARD,SUCCESS,100,0,wechat,scene,1,0.6,T1,99,0,0,PS${i},TS${i},K,,,,,R${i}`;

/**
 * Writes `head`, rows of about `mb` megabytes joined by `sep`, and `tail` to `file`, a thousand rows at a time: no
 * file-sized string is made here (its garbage would be collected on the loop while it is measured).
 */
function writeRows(file: string, mb: number, sep: string, head = '', tail = ''): void {
  const fd = openSync(file, 'w');
  try {
    writeSync(fd, head);
    const count = Math.ceil((mb * 1e6) / (row(0).length + sep.length));
    for (let i = 0; i < count; i += 1000) {
      const n = Math.min(1000, count - i);
      writeSync(fd, Array.from({ length: n }, (_, k) => row(i + k)).join(sep) + (i + n < count ? sep : ''));
    }
    writeSync(fd, tail);
  } finally {
    closeSync(fd);
  }
}

/** The longest the event loop did not turn while `work` ran, ms. */
async function longestHold(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  let on = true;
  const tick = (): void => {
    const t = performance.now();
    longest = Math.max(longest, t - last);
    last = t;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  await work();
  on = false;
  const t = performance.now();
  return Math.max(longest, t - last);
}

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-settle-loop-'));
  try {
    const file = path.join(dir, 'Y471790403_20261204.csv');
    const shapes: Array<[string, () => void]> = [
      ['a valid file of 41 MB', () => writeRows(file, 41, '\r\n', '', '\r\n')],
      ['an unclosed quote (8 MB)', () => writeRows(file, 8, '\n', `${row(0)}\n"`, '\n')],
      ['"" then text (8 MB)', () => writeRows(file, 8, ' ', '""')],
      ['lone \\r line ends (8 MB)', () => writeRows(file, 8, '\r')],
    ];
    const out: BenchRow[] = [];
    for (const [what, write] of shapes) {
      write();
      const before = async (): Promise<unknown> => {
        const { text: t } = decodeSettlementFile(readFileSync(file));
        return parseSettlementPaced(t, 'Y471790403_20261204.csv');
      };
      const after = (): Promise<unknown> => parseSettlementFile(file, 'Y471790403_20261204.csv');
      const samples: [number[], number[]] = [[], []];
      for (let r = 0; r < ROUNDS; r++) {
        // Interleaved, each first in turn.
        for (const k of r % 2 ? [1, 0] : [0, 1]) samples[k]!.push(await longestHold(k === 0 ? before : after));
      }
      const base = `settlement, ${what}: longest event-loop hold, read and parsed on the loop (paced; before)`;
      out.push({ name: base, unit: 'ms', median: median(samples[0]), p99: p99(samples[0]) });
      const m = median(samples[1]);
      out.push({ name: `settlement, ${what}: longest event-loop hold, read and parsed in a worker thread`, unit: 'ms', median: m, p99: p99(samples[1]), baseline: base, ratio: m / median(samples[0]), budget: `<= ${BUDGET_MS} ms`, ok: m <= BUDGET_MS });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
