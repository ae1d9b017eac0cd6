// `kiosk sandbox`: the local UMPay gateway for the demo, tests, benchmarks and fault drills.
// `kiosk sandbox settle-file --state DIR --date yyyy-mm-dd`: the settlement CSV of a persisted sandbox ledger.
// `kiosk sandbox codes`: one fresh test code per behaviour and wallet.
import { readFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createLogger } from '../log.js';
import { parseFaultFlag, type Fault } from '../sandbox/faults.js';
import type { LedgerSnapshot } from '../sandbox/ledger.js';
import { isLoopbackHost, startSandbox } from '../sandbox/start.js';
import { settlementCsv } from '../sandbox/settlement.js';
import { testCodeExamples } from '../sandbox/codes.js';
import { intFlag, parseCommand, stringFlag, subcommand, UsageError } from './args.js';
import { fsProblem } from './tech/format.js';


function defaultStateDir(): string {
  return join(tmpdir(), `kiosk-sandbox-${userInfo().username}`);
}

export async function main(argv: string[]): Promise<number> {
  const sub = subcommand('sandbox', argv);
  if (sub === 'settle-file') return settleFile(argv.slice(1));
  if (sub === 'codes') {
    parseCommand('sandbox codes', argv.slice(1));
    process.stdout.write(JSON.stringify(testCodeExamples(), null, 1) + '\n');
    return 0;
  }
  const args = parseCommand('sandbox', argv);
  const host = stringFlag(args, 'host') ?? '127.0.0.1';
  if (!isLoopbackHost(host) && args.flags['allow-remote'] !== true) throw new UsageError(`--host ${host} is not a loopback address; the sandbox serves 127.0.0.1 only unless --allow-remote`);
  const port = intFlag(args, 'port', 0)!;
  if (port < 0 || port > 65535) throw new UsageError(`--port must be 0–65535, got ${port}`);
  const stateDir = stringFlag(args, 'state') ?? defaultStateDir();
  const faults: Fault[] = [];
  const latency = intFlag(args, 'latency');
  if (latency !== undefined) {
    if (latency < 0) throw new UsageError('--latency must be ≥ 0 ms');
    faults.push({ kind: 'latency', ms: latency, count: Infinity });
  }
  for (const spec of (stringFlag(args, 'fault') ?? '').split(',').filter(Boolean)) {
    try {
      faults.push(parseFaultFlag(spec));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
  }
  const perSecond = stringFlag(args, 'rate-limit');
  let rateLimit: { perSecond: number; burst?: number } | undefined;
  if (perSecond !== undefined) {
    const n = Number(perSecond);
    if (!(n > 0)) throw new UsageError(`--rate-limit must be a number of requests per second > 0, got ${JSON.stringify(perSecond)}`);
    rateLimit = { perSecond: n, burst: intFlag(args, 'burst') };
  }
  const merchantKeys = stringFlag(args, 'merchant-key-pub')?.split(',').filter(Boolean);
  const rule = stringFlag(args, 'signing-rule') ?? 'both';
  if (rule !== 'doc' && rule !== 'java' && rule !== 'both') throw new UsageError(`--signing-rule must be doc, java or both, got ${JSON.stringify(rule)}`);
  const log = createLogger({ name: 'sandbox', destination: pino.destination({ dest: 2, sync: true }) });

  let sandbox;
  try {
    sandbox = await startSandbox({
      port,
      host,
      stateDir,
      ledgerFile: join(stateDir, 'ledger.json'),
      merchantPublicKey: merchantKeys,
      platformPrivateKey: stringFlag(args, 'platform-key'),
      rateLimit,
      seed: intFlag(args, 'seed'),
      refundQueriesUntilDone: intFlag(args, 'refund-queries'),
      signingRules: rule === 'both' ? ['doc', 'java'] : [rule],
      refundOrderType: args.flags['refund-order-type'] === true,
      faults,
      log,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    process.stderr.write(`kiosk sandbox: ${e.code === 'EADDRINUSE' ? `port ${port} on ${host} is already in use` : e.message}\n`);
    return e.code === 'EADDRINUSE' ? 1 : 2;
  }
  process.stdout.write(
    JSON.stringify({ baseUrl: sandbox.baseUrl, platformCert: sandbox.platformCertPath, merchantKey: sandbox.merchantKeyPath ?? null, stateDir, ledger: join(stateDir, 'ledger.json') }) + '\n',
  );
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log.info({ signal }, 'sandbox stopping');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  await sandbox.close();
  return 0;
}

function settleFile(argv: string[]): Promise<number> {
  const args = parseCommand('sandbox settle-file', argv);
  const given = stringFlag(args, 'state');
  const stateDir = given ?? defaultStateDir();
  const date = stringFlag(args, 'date');
  if (!date) throw new UsageError('missing --date yyyy-mm-dd');
  const file = join(stateDir, 'ledger.json');
  let ledger: LedgerSnapshot;
  const fail = (why: string) => {
    process.stderr.write(`kiosk sandbox settle-file: ${why}\n`);
    return Promise.resolve(2);
  };
  try {
    ledger = JSON.parse(readFileSync(file, 'utf8')) as LedgerSnapshot;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return fail(`no sandbox ledger in ${stateDir}${given ? '' : " (the default: where `kiosk sandbox` keeps it without --state)"}: give --state DIR, the folder of a sandbox that persisted its ledger`);
    }
    return fail(err instanceof SyntaxError ? `${file}: not a sandbox ledger (not JSON)` : fsProblem(file, err));
  }
  try {
    process.stdout.write(settlementCsv({ orders: ledger.orders ?? [], refunds: ledger.refunds ?? [] }, date, { acqSpId: stringFlag(args, 'sp'), header: args.flags.header === true }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return Promise.resolve(0);
}
