// The gateway client and the payment engine as the config describes them: shared by the daemon and the
// tools that work the journal without it (kiosk reconcile). No hardware here, so tools load it cheaply.
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Journal } from '../journal/journal.js';
import type { Gateway } from '../umpay/types.js';
import { loadPrivateKey, loadPublicKey } from '../umpay/keys.js';
import { HttpGateway } from '../umpay/client.js';
import { PaymentEngine, type EngineOptions } from '../payment/engine.js';
import type { Clock } from '../clock.js';
import type { PlatformClock } from '../umpay/platform-clock.js';

/** The gateway client as the config describes it (also for tools that talk to the platform). */
export function gatewayFromConfig(config: Config, log: Logger, platformClock?: PlatformClock): HttpGateway {
  return new HttpGateway({
    baseUrl: config.gateway.baseUrl,
    merchant: { acqSpId: config.merchant.acqSpId, acqMerId: config.merchant.acqMerId },
    privateKey: loadPrivateKey(config.merchant.privateKey),
    platformKey: loadPublicKey(config.gateway.platformCert),
    connectTimeoutMs: config.gateway.connectTimeoutMs,
    timeoutMs: config.gateway.timeoutMs,
    log,
    ...(platformClock ? { timeEvidence: (e) => platformClock.observe(e) } : {}),
  });
}

/** The payment engine as the config describes it. */
export function engineFromConfig(config: Config, journal: Journal, gateway: Gateway, log: Logger, clock?: Clock, platformClock?: PlatformClock, extra: Pick<EngineOptions, 'vendReport'> = {}): PaymentEngine {
  return new PaymentEngine({
    ...extra,
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
    clock,
    log,
    ...(platformClock ? { platformClockCheck: () => platformClock.problem() } : {}),
  });
}
