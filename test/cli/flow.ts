// Real payments for the technician command tests: the sandbox gateway on 127.0.0.1, the HttpGateway and
// the payment engine writing a temp kiosk's journal, exactly as the daemon wires them.
import { Writable } from 'node:stream';
import { startSandbox, testCode, type Behaviour, type Sandbox } from '../../src/sandbox/index.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey, loadPublicKey } from '../../src/umpay/keys.js';
import { PaymentEngine, type CustomerResult } from '../../src/payment/engine.js';
import { createLogger, type Logger } from '../../src/log.js';
import type { Journal } from '../../src/journal/journal.js';
import type { OrderType } from '../../src/umpay/types.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

export interface Flow {
  sandbox: Sandbox;
  kiosk: TempKiosk;
  journal: Journal;
  engine: PaymentEngine;
  gateway: HttpGateway;
  /** Every payment code scanned so far. */
  codes: string[];
  pay(behaviour: Behaviour, opts?: { amountFen?: number; orderType?: OrderType; deliverFails?: boolean; queries?: number }): Promise<CustomerResult>;
  close(): Promise<void>;
}

/** A log sink that keeps every line (for the log-leak test); pass `lines` to collect. */
export function lineSink(lines: string[]): Writable {
  return new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean));
      cb();
    },
  });
}

export async function startFlow(options: { log?: Logger; sandboxLog?: Logger } = {}): Promise<Flow> {
  const sandbox = await startSandbox({ log: options.sandboxLog });
  const kiosk = tempKiosk({ baseUrl: sandbox.baseUrl, privateKey: sandbox.merchantKeyPath!, platformCert: sandbox.platformCertPath });
  const journal = kiosk.journal();
  const log = options.log ?? createLogger({ level: 'silent' });
  const gateway = new HttpGateway({
    baseUrl: sandbox.baseUrl,
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208' },
    privateKey: loadPrivateKey(`${kiosk.dir}/keys/merchant.key.p8`),
    platformKey: loadPublicKey(`${kiosk.dir}/keys/platform.cert.crt`),
    connectTimeoutMs: 500,
    timeoutMs: 1000,
    log,
  });
  const engine = new PaymentEngine({
    journal,
    gateway,
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208' },
    deviceId: 'K1',
    goods: { goodsId: 'VEND', goodsInfo: 'Vending' },
    // Short waits: the sandbox answers at once; these keep a pending order to a few queries.
    timing: { customerWindowMs: 400, queryIntervalMs: 20, backoffBaseMs: 10, backoffMaxMs: 50, minRequestIntervalMs: 0 },
    clockCheck: () => null,
    random: () => 0.5,
    log,
  });
  await engine.start();
  const codes: string[] = [];
  return {
    sandbox,
    kiosk,
    journal,
    engine,
    gateway,
    codes,
    async pay(behaviour, opts = {}) {
      const code = testCode(behaviour, opts.orderType ?? 'wechat', undefined, { queries: opts.queries });
      codes.push(code);
      return engine.pay(
        { authCode: code, amountFen: opts.amountFen ?? 150 },
        {
          deliver: async () => {
            if (opts.deliverFails) throw new Error('vend motor jammed');
          },
        },
      );
    },
    async close() {
      await engine.stop(100);
      gateway.close();
      journal.close();
      await sandbox.close();
      kiosk.cleanup();
    },
  };
}
