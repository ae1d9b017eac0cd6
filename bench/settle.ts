// The synchronous step of the daily settlement (the comparison of a day's file with the journal, before its commit):
// a scan that comes during it waits for it. A provider's file of 20,300 rows (300 of them this kiosk's orders, in
// the journal). Before: every row looked up in that step (one query each). Now: which rows the journal has is found
// beforehand in slices between which a customer goes first (ordersKnown, not timed here: it yields), and the step
// reads only the orders the journal has. Rounds interleaved; the findings must be the same.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal } from '../src/journal/journal.js';
import { compareDay, localYmd, ordersKnown } from '../src/payment/settle-day.js';
import { settlementCsv } from '../src/sandbox/settlement.js';
import type { LedgerOrder } from '../src/sandbox/ledger.js';
import { parseSettlementPaced } from '../src/umpay/settlement.js';
import { median, p99, runStandalone, type BenchRow } from './lib.js';
import { run as loopHolds } from './settle-loop.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 15);
const OTHERS = 20_000;
const OURS = 300;

export async function run(): Promise<BenchRow[]> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-settle-'));
  const journal = openJournal(path.join(dir, 'journal.sqlite'));
  try {
    const now = new Date();
    const day = localYmd(now);
    const at = now.toISOString();
    const ours: string[] = [];
    for (let i = 0; i < OURS; i++) {
      ours.push(journal.createOrder({ deviceId: 'TEST01', date: day, orderTime: `${day}100000`, txnAmt: '100', orderType: 'wechat', authCode: '134567890123456789', authMask: 'wechat…6789', goodsId: 'G1', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at }).orderNo);
    }
    const order = (orderNo: string, i: number) =>
      ({ orderNo, acqSpId: 'Y471790403', acqMerId: '41509208', orderType: 'wechat', txnAmt: 100, charged: true, transactionId: `T${i}`, paySeq: `S${i}`, payTime: `${day}100000`, reversedFen: 0, createdAt: at, updatedAt: at }) as unknown as LedgerOrder;
    const orders = [...Array.from({ length: OTHERS }, (_, i) => order(`OTHER${day}${i}`, i)), ...ours.map((no, i) => order(no, OTHERS + i))];
    const parsed = await parseSettlementPaced(settlementCsv({ orders, refunds: [] }, day, { acqSpId: 'Y471790403' }));
    const known = await ordersKnown(journal, parsed.rows, () => Promise.resolve());
    const candidates: [string, () => unknown][] = [
      [`settlement compare, ${parsed.rows.length} rows: a lookup per row (before)`, () => compareDay(journal, parsed.rows, day, 'TEST01', '41509208')],
      [`settlement compare, ${parsed.rows.length} rows: known rows found beforehand`, () => compareDay(journal, parsed.rows, day, 'TEST01', '41509208', known)],
    ];
    const [a, b] = candidates.map(([, fn]) => JSON.stringify((fn() as { findings: unknown[] }).findings));
    if (a !== b) throw new Error('the two ways of looking orders up give different findings');
    const samples = candidates.map(() => [] as number[]);
    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < candidates.length; j++) {
        const i = (r + j) % candidates.length;
        const start = process.hrtime.bigint();
        candidates[i]![1]();
        samples[i]!.push(Number(process.hrtime.bigint() - start) / 1e6);
      }
    }
    const base = median(samples[0]!);
    const compare = candidates.map(([name], i): BenchRow => {
      const row: BenchRow = { name, unit: 'ms', median: median(samples[i]!), p99: p99(samples[i]!) };
      if (i > 0) {
        row.baseline = candidates[0]![0];
        row.ratio = row.median / base;
        row.budget = '<= 0.5x';
        row.ok = row.ratio <= 0.5;
      }
      return row;
    });
    return [...compare, ...(await loopHolds())];
  } finally {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await runStandalone(run);
}
