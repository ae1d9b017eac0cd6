// What several benchmarks share: a sandbox in a temp folder, a valid kiosk config for it, and the daemon's
// wiring built in-process (for a scanner binding the daemon cannot take: MockBinding).
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config/index.js';
import { createHardware, type Hardware } from '../src/hardware/index.js';
import { openJournal, type Journal } from '../src/journal/journal.js';
import { Interaction, type InteractionTiming } from '../src/kiosk/interaction.js';
import { pricingOf } from '../src/kiosk/daemon.js';
import type { Pattern } from '../src/kiosk/ports.js';
import { silentLogger, type Logger } from '../src/log.js';
import { PaymentEngine } from '../src/payment/engine.js';
import { DaemonFixture } from '../test/kiosk/daemon-helpers.js';
import { HttpGateway } from '../src/umpay/client.js';
import { loadPrivateKey, loadPublicKey } from '../src/umpay/keys.js';

export const KIOSK_JS = fileURLToPath(new URL('../src/cli/kiosk.js', import.meta.url));
export const DAEMON_CHILD_JS = fileURLToPath(new URL('./daemon-child.js', import.meta.url));

/** The kiosk tests' fixture (a sandbox in a temp folder and a valid config for it), quiet logs by default. */
export class BenchFixture extends DaemonFixture {
  override writeConfig(overrides: { scanner?: Record<string, unknown>; [k: string]: unknown } = {}): string {
    return super.writeConfig({ deviceId: 'BENCH01', log: { level: 'warn' }, ...overrides });
  }
}

export interface Wiring {
  config: Config;
  journal: Journal;
  gateway: HttpGateway;
  engine: PaymentEngine;
  hardware: Hardware;
  interaction: Interaction;
  close(): Promise<void>;
}

/**
 * The daemon's wiring (src/kiosk/daemon.ts Daemon.start: journal → gateway → engine → hardware →
 * interaction), minus the lock, with a serialport binding passed to the scanner. Daemon.start takes no
 * binding, so this repeats its steps; keep it in step with the daemon.
 */
export async function startWiring(configFile: string, o: { binding?: unknown; timing?: Partial<InteractionTiming>; log?: Logger } = {}): Promise<Wiring> {
  const config = loadConfig(configFile);
  const log = o.log ?? silentLogger;
  const journal = openJournal(config.journal.path);
  const gateway = new HttpGateway({
    baseUrl: config.gateway.baseUrl,
    merchant: { acqSpId: config.merchant.acqSpId, acqMerId: config.merchant.acqMerId },
    privateKey: loadPrivateKey(config.merchant.privateKey),
    platformKey: loadPublicKey(config.gateway.platformCert),
    connectTimeoutMs: config.gateway.connectTimeoutMs,
    timeoutMs: config.gateway.timeoutMs,
    log,
  });
  const engine = new PaymentEngine({
    journal,
    gateway,
    merchant: { acqSpId: config.merchant.acqSpId, acqMerId: config.merchant.acqMerId },
    deviceId: config.deviceId,
    goods: { goodsId: config.merchant.goodsId, goodsInfo: config.merchant.goodsInfo },
    timing: {
      customerWindowMs: config.payment.customerWindowMs,
      queryIntervalMs: config.payment.queryIntervalMs,
      codeValidityMs: config.payment.codeValidityMs,
      concurrency: config.payment.recoveryConcurrency,
    },
    log,
  });
  const hardware = await createHardware(config, { log, binding: o.binding });
  const interaction = new Interaction({
    pricing: pricingOf(config),
    engine,
    indicator: { show: (pattern: Pattern, info?: { orderNo?: string }) => hardware.indicator.show(pattern, info ?? {}) },
    approve: hardware.approve,
    timing: { approvePulseMs: config.approve.pulseMs, entryTimeoutMs: config.pricing.entryTimeoutMs, ...o.timing },
    log,
  });
  hardware.scanner.on('code', (code: string) => interaction.code(code));
  hardware.scanner.on('bad', (bad: { reason: string }) => interaction.bad(bad.reason));
  hardware.scanner.on('fault', () => interaction.scannerConnected(false));
  hardware.scanner.on('connected', () => interaction.scannerConnected(true));
  await engine.start();
  return {
    config,
    journal,
    gateway,
    engine,
    hardware,
    interaction,
    close: async () => {
      interaction.stop();
      await engine.stop(1000);
      await hardware.close();
      await gateway.close();
      journal.close();
    },
  };
}

/** Resolves on the first `event` of `emitter` for which `match` holds. */
export function nextEvent<T>(emitter: NodeJS.EventEmitter, event: string, match: (v: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`no ${event} within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T) => {
      if (!match(v)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(v);
    };
    emitter.on(event, on);
  });
}
