// Local cost of one payment: the durable path (journal insert, paid+delivering, delivered: three fsync'd
// commits, plus sign + POST + verify) against the sandbox with zero latency, compared with a bare
// sign → POST → verify loop through the same HTTP client, in the same run (interleaved). Budget ≤ 1.5×.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal } from '../src/journal/journal.js';
import { PaymentEngine } from '../src/payment/engine.js';
import { formatOrderTime } from '../src/umpay/messages.js';
import { startSandbox, testCode } from '../src/sandbox/index.js';
import { HttpGateway } from '../src/umpay/client.js';
import { loadPrivateKey } from '../src/umpay/keys.js';
import { median, msSince, p99, runStandalone, type BenchRow } from './lib.js';

const SAMPLES = Number(process.env.BENCH_PAYMENTS ?? 300);
const WARMUP = 30;
const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
// The platform's published test merchant key (RSA-1024), kept in the repo.
const TEST_KEY = fileURLToPath(new URL('../../test/fixtures/umpay/test-merchant.key.p8', import.meta.url));

export async function run(): Promise<BenchRow[]> {
  const useTestKey = existsSync(TEST_KEY);
  const sandbox = await startSandbox(useTestKey ? { merchantPublicKey: TEST_KEY } : {});
  const dir = mkdtempSync(join(tmpdir(), 'bench-payment-'));
  const journal = openJournal(join(dir, 'journal.db'));
  const keyFile = useTestKey ? TEST_KEY : sandbox.merchantKeyPath!;
  const gateway = new HttpGateway({ baseUrl: sandbox.baseUrl, merchant, privateKey: loadPrivateKey(keyFile), platformKey: sandbox.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 5000 });
  const engine = new PaymentEngine({ journal, gateway, merchant, deviceId: 'BENCH', goods: { goodsId: 'G1', goodsInfo: 'bench' }, clockCheck: () => null });
  await engine.start();
  const durable: number[] = [];
  const bare: number[] = [];
  const commits: number[] = [];
  let nonce = Date.now() % 1_000_000_000;
  let bareSeq = 0;
  try {
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      let t = process.hrtime.bigint();
      const r = await engine.pay({ authCode: testCode('paid', 'wechat', nonce++), amountFen: 100 }, { deliver: async () => undefined });
      const d = msSince(t);
      if (r.kind !== 'approved') throw new Error(`bench payment not approved: ${JSON.stringify(r)}`);
      t = process.hrtime.bigint();
      const b = await gateway.micropay({ orderTime: formatOrderTime(Date.now()), orderNo: `BARE${process.pid}${bareSeq++}`, txnAmt: '100', orderType: 'wechat', authCode: testCode('paid', 'wechat', nonce++), goodsId: 'G1', goodsInfo: 'bench' });
      const m = msSince(t);
      if (b.outcome.kind !== 'PAID') throw new Error(`bare call not paid: ${JSON.stringify(b.outcome)}`);
      if (i >= WARMUP) {
        durable.push(d);
        bare.push(m);
      }
    }
    // What one durable transition costs here (the floor of the durable path is three of these).
    const probe = journal.list({ limit: 1 })[0]!.orderNo;
    for (let i = 0; i < 200; i++) {
      const t = process.hrtime.bigint();
      journal.note(probe, 'delivered', { kind: 'settlement', cause: 'bench' }, new Date().toISOString());
      commits.push(msSince(t));
    }
  } finally {
    await engine.stop(0);
    gateway.close();
    journal.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const ratio = median(durable) / median(bare);
  return [
    { name: 'journal: one fsync\'d transition (synchronous=FULL)', unit: 'ms', median: median(commits), p99: p99(commits) },
    { name: 'payment: bare sign → POST → verify', unit: 'ms', median: median(bare), p99: p99(bare), note: useTestKey ? 'RSA-1024 published test key' : 'RSA-1024 sandbox key' },
    {
      name: 'payment: durable path (3 fsync commits + sign + POST + verify)',
      unit: 'ms',
      median: median(durable),
      p99: p99(durable),
      baseline: 'payment: bare sign → POST → verify',
      ratio,
      budget: '<= 1.5x',
      ok: ratio <= 1.5,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runStandalone(run);
