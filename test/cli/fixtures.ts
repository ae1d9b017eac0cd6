// A kiosk on disk for the technician command tests: a temp folder with a config, keys and a journal.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal, type Journal, type OrderRow, type OrderState } from '../../src/journal/journal.js';
import { captureIo } from '../../src/cli/tech/format.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import { systemClock } from '../../src/clock.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { kindOf } from '../../src/journal/states.js';

// dist/test/cli/ → test/fixtures/umpay/ (the platform's published test key and certificate)
export const SHARED = fileURLToPath(new URL('../../../test/fixtures/umpay/', import.meta.url));

export interface TempKiosk {
  dir: string;
  configFile: string;
  journalPath: string;
  raw: Record<string, any>;
  env: NodeJS.ProcessEnv;
  io(): ReturnType<typeof captureIo>;
  journal(): Journal;
  /** Rewrites the config with changes applied to the raw object. */
  rewrite(change: (raw: Record<string, any>) => void): void;
  cleanup(): void;
}

export interface KioskOptions {
  deviceId?: string;
  baseUrl?: string;
  privateKey?: string;
  platformCert?: string;
  extra?: (raw: Record<string, any>) => void;
}

/** For one describe block: a sandbox and a temp kiosk configured for it, started before its tests, removed after. */
export function sandboxKiosk(options: KioskOptions = {}, seed?: (k: TempKiosk) => void): { readonly sandbox: Sandbox; readonly k: TempKiosk } {
  const rig = {} as { sandbox: Sandbox; k: TempKiosk };
  before(async () => {
    rig.sandbox = await startSandbox();
    rig.k = tempKiosk({ baseUrl: rig.sandbox.baseUrl, privateKey: rig.sandbox.merchantKeyPath!, platformCert: rig.sandbox.platformCertPath, ...options });
    seed?.(rig.k);
  });
  after(async () => {
    rig.k?.cleanup();
    await rig.sandbox?.close();
  });
  return rig;
}

export function tempKiosk(options: KioskOptions = {}): TempKiosk {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-cli-'));
  mkdirSync(join(dir, 'keys'), { mode: 0o700 });
  mkdirSync(join(dir, 'data'), { mode: 0o700 });
  const key = join(dir, 'keys/merchant.key.p8');
  const cert = join(dir, 'keys/platform.cert.crt');
  copyFileSync(options.privateKey ?? join(SHARED, 'test-merchant.key.p8'), key);
  chmodSync(key, 0o600);
  copyFileSync(options.platformCert ?? join(SHARED, 'test-platform.cert.crt'), cert);
  const journalPath = join(dir, 'data/journal.sqlite');
  const raw: Record<string, any> = {
    deviceId: options.deviceId ?? 'K1',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'keys/merchant.key.p8', goodsId: 'VEND', goodsInfo: 'Vending' },
    gateway: { baseUrl: options.baseUrl ?? 'http://127.0.0.1:9/entry-provider-plat-client', platformCert: 'keys/platform.cert.crt', connectTimeoutMs: 500, timeoutMs: 2000 },
    journal: { path: 'data/journal.sqlite' },
    scanner: { driver: 'sim' },
    pricing: { mode: 'fixed', amountFen: 150 },
  };
  options.extra?.(raw);
  const configFile = join(dir, 'config.json');
  const write = () => writeFileSync(configFile, JSON.stringify(raw, null, 2));
  write();
  // Create the journal (schema) once, as the daemon would.
  openJournal(journalPath).close();
  const env = { KIOSK_CONFIG: configFile };
  return {
    dir,
    configFile,
    journalPath,
    raw,
    env,
    io: () => captureIo(env),
    journal: () => openJournal(journalPath),
    rewrite(change) {
      change(raw);
      write();
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const wire = (d: Date): string => formatOrderTime(d);

/** The path each final or waiting state is reached by (the journal checks only that `from` is current). */
const PATHS: Record<OrderState, OrderState[]> = {
  created: [],
  unknown: ['unknown'],
  paid: ['paid'],
  delivering: ['paid', 'delivering'],
  delivered: ['paid', 'delivering', 'delivered'],
  failed: ['failed'],
  'failed-not-sent': ['failed-not-sent'],
  reversing: ['unknown', 'reversing'],
  reversed: ['unknown', 'reversing', 'reversed'],
  refunding: ['paid', 'refunding'],
  refunded: ['paid', 'refunding', 'refunded'],
  attention: ['unknown', 'reversing', 'attention'],
};

/** Writes one order reaching `state` at `at`, with a payment code, like the engine would. */
export function seedOrder(
  journal: Journal,
  o: { state: OrderState; amountFen?: number; orderType?: 'wechat' | 'alipay' | 'unionpay'; at?: Date; authCode?: string; refundFen?: number; transactionId?: string; deviceId?: string; reason?: string },
): OrderRow {
  const at = o.at ?? new Date();
  const iso = at.toISOString();
  const authCode = o.authCode ?? '134567890123456789';
  let row = journal.createOrder({
    deviceId: o.deviceId ?? 'K1',
    date: wire(at).slice(0, 8),
    orderTime: wire(at),
    txnAmt: String(o.amountFen ?? 150),
    orderType: o.orderType ?? 'wechat',
    authCode,
    authMask: `wechat…${authCode.slice(-4)}`,
    goodsId: 'VEND',
    goodsInfo: 'Vending',
    acqSpId: 'Y471790403',
    acqMerId: '41509208',
    scannedAt: at.getTime(),
    // As the daemon journals it: the scan on this boot's monotonic clock, as long ago as `at`.
    scannedMono: systemClock.mono() - (Date.now() - at.getTime()),
    bootId: systemClock.bootId,
    at: iso,
  });
  let from: OrderState = 'created';
  for (const to of PATHS[o.state]) {
    const patch: Record<string, unknown> = {};
    if (to === 'paid') patch.transactionId = o.transactionId ?? `T${row.orderNo}`;
    if (to === 'refunding') {
      patch.refundNo = `${row.orderNo}R1`;
      patch.refundAmt = String(o.refundFen ?? o.amountFen ?? 150);
      patch.refundTime = wire(at);
    }
    if (to === 'attention') Object.assign(patch, { reason: o.reason ?? 'reversal refused', resumeState: 'reversing' });
    row = journal.transition(row.orderNo, [{ from, to, event: { kind: kindOf(from, to), cause: 'test' }, patch }], iso);
    from = to;
  }
  return row;
}
