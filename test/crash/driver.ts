// The engine in a child process, for the crash harness: opens the journal, recovers, pays the codes it is
// given (one customer after another), waits until nothing is left to do, exits 0. KIOSK_CRASH_AT makes it
// SIGKILL itself at a named step; the parent may also SIGKILL it at any instant.
//
// env: CRASH_DB, CRASH_BASE_URL, CRASH_MERCHANT_KEY, CRASH_PLATFORM_CERT, CRASH_DEVICE, CRASH_CODES
// (comma-separated), CRASH_TIMING (JSON, Partial<Timing>), CRASH_DELIVER_FAIL=1 (the relay fails),
// CRASH_DELIVER_SENSED=1 (a vend sensor sees each drop during the pulse), CRASH_DELIVER_APPROVED=1 (MDB: each
// payment is for product 1, and the vend approval is journaled before the machine would be told).
import { openJournal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';
import { PaymentEngine } from '../../src/payment/engine.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey, loadPublicKey } from '../../src/umpay/keys.js';

const env = (k: string): string => {
  const v = process.env[k];
  if (!v) throw new Error(`driver: ${k} is not set`);
  return v;
};

export const CRASH_MERCHANT = { acqSpId: 'Y471790403', acqMerId: '41509208' };

async function main(): Promise<void> {
  const journal = openJournal(env('CRASH_DB'));
  // Telemetry on, as a daemon with a `fleet` section runs: the kills also check the outbox (harness.ts).
  new Outbox(journal).captureOrderEvents();
  const gateway = new HttpGateway({
    baseUrl: env('CRASH_BASE_URL'),
    merchant: CRASH_MERCHANT,
    privateKey: loadPrivateKey(env('CRASH_MERCHANT_KEY')),
    platformKey: loadPublicKey(env('CRASH_PLATFORM_CERT')),
    connectTimeoutMs: 500,
    timeoutMs: Number(process.env.CRASH_CALL_TIMEOUT_MS ?? 1000),
  });
  const engine = new PaymentEngine({
    journal,
    gateway,
    merchant: CRASH_MERCHANT,
    deviceId: env('CRASH_DEVICE'),
    goods: { goodsId: 'G1', goodsInfo: 'crash test' },
    timing: JSON.parse(process.env.CRASH_TIMING ?? '{}'),
    clockCheck: () => null,
  });
  await engine.start();
  // The parent times a random kill from here, so that it lands in the engine's work, not in module loading.
  process.stdout.write('ready\n');
  const failDeliver = process.env.CRASH_DELIVER_FAIL === '1';
  const sensed = process.env.CRASH_DELIVER_SENSED === '1';
  const mdb = process.env.CRASH_DELIVER_APPROVED === '1';
  for (const code of (process.env.CRASH_CODES ?? '').split(',').filter(Boolean)) {
    const r = await engine.pay({ authCode: code, amountFen: 100 + (code.charCodeAt(code.length - 1) % 7), ...(mdb ? { productId: '1' } : {}) }, {
      deliver: async (_orderNo, evidence) => {
        if (failDeliver) throw new Error('relay fault (test)');
        if (sensed) evidence.sensed();
        if (mdb) evidence.approving('C,VEND,1.00');
      },
    });
    process.stdout.write(JSON.stringify(r) + '\n');
  }
  await engine.whenIdle();
  await engine.stop(0);
  gateway.close();
  journal.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`driver: ${(err as Error)?.stack ?? err}\n`);
    process.exit(1);
  },
);
