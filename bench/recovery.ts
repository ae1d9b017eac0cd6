// Recovery of 1,000 unfinished orders against the sandbox with its rate limit on: a third charged (paid,
// never delivered), a third still "paying", a third never seen by the platform. Reports the time until
// all are final, requests sent, `37` answers, and the most requests in flight at once.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal } from '../src/journal/journal.js';
import { PaymentEngine } from '../src/payment/engine.js';
import { formatOrderTime } from '../src/umpay/messages.js';
import { systemClock } from '../src/clock.js';
import { startSandbox, testCode, type Behaviour } from '../src/sandbox/index.js';
import type { OrderType } from '../src/umpay/types.js';
import { msSince, runStandalone, sandboxGateway, type BenchRow } from './lib.js';

const ORDERS = Number(process.env.BENCH_RECOVERY_ORDERS ?? 1000);
const RATE = { perSecond: 200, burst: 20 };
const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

export async function run(): Promise<BenchRow[]> {
  const sandbox = await startSandbox({ rateLimit: RATE });
  const dir = mkdtempSync(join(tmpdir(), 'bench-recovery-'));
  const journal = openJournal(join(dir, 'journal.db'));
  const gateway = sandboxGateway(sandbox, merchant);
  try {
    // Seed: orders as a crash would leave them, made real at the sandbox where they were sent.
    const scannedAt = Date.now() - 120_000;
    const orderTime = formatOrderTime(scannedAt);
    const kinds: Array<[Behaviour | 'unsent', OrderType]> = [['paid', 'wechat'], ['paid', 'unionpay'], ['pending-forever', 'alipay'], ['pending-forever', 'unionpay'], ['unsent', 'wechat'], ['unsent', 'unionpay']];
    sandbox.setFaults([]);
    for (let i = 0; i < ORDERS; i++) {
      const [behaviour, orderType] = kinds[i % kinds.length]!;
      const authCode = testCode(behaviour === 'unsent' ? 'paid' : behaviour, orderType, 500000 + i);
      const o = journal.createOrder({ deviceId: 'REC', date: orderTime.slice(0, 8), orderTime, txnAmt: '100', orderType, authCode, authMask: 'x', goodsId: 'G1', goodsInfo: 'bench', acqSpId: merchant.acqSpId, acqMerId: merchant.acqMerId, scannedAt, scannedMono: systemClock.mono() - 120_000, bootId: systemClock.bootId, at: new Date(scannedAt).toISOString() });
      if (behaviour === 'unsent') continue; // left in `created`: may or may not have been sent
      for (;;) {
        const r = await gateway.micropay({ orderTime, orderNo: o.orderNo, txnAmt: '100', orderType, authCode, goodsId: 'G1', goodsInfo: 'bench' });
        if (!(r.outcome.kind === 'UNKNOWN' && r.outcome.rateLimited)) break;
        await new Promise((res) => setTimeout(res, 20));
      }
      if (behaviour === 'paid') journal.transition(o.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'seed' } }], new Date().toISOString());
      else journal.transition(o.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'answer', cause: 'seed' } }], new Date().toISOString());
    }
    const before = sandbox.stats();
    const engine = new PaymentEngine({ journal, gateway, merchant, deviceId: 'REC', goods: { goodsId: 'G1', goodsInfo: 'bench' }, clockCheck: () => null, timing: { minRequestIntervalMs: 0 } });
    const t = process.hrtime.bigint();
    await engine.start();
    await engine.whenIdle();
    const ms = msSince(t);
    await engine.stop(0);
    const after = sandbox.stats();
    const left = journal.unfinished().length;
    if (left) throw new Error(`${left} orders not final after recovery`);
    const sent = after.total - before.total;
    const rateLimited = after.rateLimited - before.rateLimited;
    const note = `${sent} requests (${(sent / (ms / 1000)).toFixed(0)}/s, sandbox limit ${RATE.perSecond}/s burst ${RATE.burst}), ${rateLimited} answered 37, at most ${engine.stats.maxInFlight} in flight (sandbox saw ${after.maxInFlight})`;
    return [
      { name: `recovery: ${ORDERS} unfinished orders → all final`, unit: 's', median: ms / 1000, note },
      { name: 'recovery: requests sent', unit: 'requests', median: sent },
      { name: 'recovery: most requests in flight at once', unit: 'requests', median: engine.stats.maxInFlight },
      { name: 'recovery: 37 (rate limit) answers', unit: 'answers', median: rateLimited },
    ];
  } finally {
    gateway.close();
    journal.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const rows = await run();
  await runStandalone(async () => rows);
  for (const r of rows) if (r.note) process.stdout.write(`${r.name}: ${r.note}\n`);
}
