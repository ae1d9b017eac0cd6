// Starting a local UMPay gateway: its state folder, the platform key and certificate, the merchant keys it
// accepts, the ledger and the fault plan, then listening on loopback. The requests are served by server.ts.
import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { silentLogger } from '../log.js';
import { REQUEST_RULES, type RequestRule } from '../umpay/canonical.js';
import { loadPrivateKey, loadPublicKey, parsePrivateKey } from '../umpay/keys.js';
import { certificatePem, selfSignedCertificate } from './cert.js';
import { FaultPlan, TokenBucket, type Fault } from './faults.js';
import { Ledger } from './ledger.js';
import { Sandbox } from './server.js';
import { makeDirs } from '../dirs.js';

export type { Sandbox };

export type KeySource = KeyObject | string;

export interface SandboxOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Keys, certificate and (with `persist`) the ledger live here; a temporary folder (removed on close) when absent. */
  stateDir?: string;
  /**
   * Keys (or files: public key, certificate, or a private key whose public half is used) whose signatures are accepted.
   */
  merchantPublicKey?: KeySource | KeySource[];
  /** The platform key that signs answers (KeyObject or file); generated (or reused) under stateDir when absent. */
  platformPrivateKey?: KeySource;
  /** Persist the ledger to this JSON file (atomic writes) and load it on start. */
  ledgerFile?: string;
  rateLimit?: { perSecond: number; burst?: number };
  /** Clock for dates in answers and the ledger. */
  now?: () => Date;
  log?: Logger;
  /** refundQuery calls until an accepted refund is done (default 1). */
  refundQueriesUntilDone?: number;
  /** Seed of the generator that decides probabilistic faults. */
  seed?: number;
  faults?: Fault[];
  /**
   * Plaintext rules a request signature may verify under (PROTOCOL.md, "Signing a request"): `doc` (documented,
   * PHP demo), `java` (the Java demo kit's TreeMap.toString()). Default both, so the vendor's demos are served as
   * written; one alone shows what a server applying only that rule would answer.
   */
  signingRules?: RequestRule[];
  /** Accept refund's `orderType` (in the docs' example, not in their table). Default false: `11` unknown field. */
  refundOrderType?: boolean;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.[0-9]+\.[0-9]+\.[0-9]+$/.test(host);
}

function toPublic(source: KeySource): KeyObject {
  if (typeof source !== 'string') return source.type === 'private' ? createPublicKey(source) : source;
  try {
    return loadPublicKey(source);
  } catch (publicError) {
    try {
      return createPublicKey(loadPrivateKey(source));
    } catch {
      throw publicError;
    }
  }
}

function generatedKey(file: string): KeyObject {
  if (existsSync(file)) return loadPrivateKey(file);
  // RSA-1024 like the platform's own keys; also fast to generate for tests that start many sandboxes.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
  writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  chmodSync(file, 0o600);
  return parsePrivateKey(Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })), file);
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? silentLogger;
  const now = options.now ?? (() => new Date());
  const removeStateDir = !options.stateDir;
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'umpay-sandbox-'));
  makeDirs(stateDir, 0o700);

  const platformPrivateKey =
    options.platformPrivateKey === undefined
      ? generatedKey(join(stateDir, 'platform.key.pem'))
      : typeof options.platformPrivateKey === 'string'
        ? loadPrivateKey(options.platformPrivateKey)
        : options.platformPrivateKey;
  const der = selfSignedCertificate(createPublicKey(platformPrivateKey), platformPrivateKey);
  const platformCertPath = join(stateDir, 'platform.cert.crt');
  writeFileSync(platformCertPath, der);
  writeFileSync(join(stateDir, 'platform.cert.pem'), certificatePem(der));

  let merchantKeys: KeyObject[];
  let merchantKeyPath: string | undefined;
  if (options.merchantPublicKey === undefined) {
    merchantKeyPath = join(stateDir, 'merchant.key.pem');
    const key = generatedKey(merchantKeyPath);
    merchantKeys = [createPublicKey(key)];
    writeFileSync(join(stateDir, 'merchant.pub.pem'), merchantKeys[0]!.export({ type: 'spki', format: 'pem' }));
  } else {
    const list = Array.isArray(options.merchantPublicKey) ? options.merchantPublicKey : [options.merchantPublicKey];
    merchantKeys = list.map(toPublic);
  }

  const ledger = new Ledger({ now, file: options.ledgerFile, refundQueriesUntilDone: options.refundQueriesUntilDone });
  const faults = new FaultPlan(options.seed ?? 1);
  if (options.faults) faults.set(options.faults);
  const bucket = options.rateLimit ? new TokenBucket(options.rateLimit.perSecond, options.rateLimit.burst) : undefined;

  const server = createServer({ keepAlive: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const sandbox = new Sandbox(server, {
    baseUrl: `http://${urlHost}:${address.port}`,
    stateDir,
    removeStateDir,
    platformCertPath,
    platformPrivateKey,
    merchantKeys,
    merchantKeyPath,
    ledger,
    faults,
    bucket,
    log,
    now,
    signingRules: options.signingRules?.length ? options.signingRules : REQUEST_RULES,
    refundOrderType: options.refundOrderType ?? false,
  });
  log.info({ baseUrl: sandbox.baseUrl, stateDir, platformCertPath, merchantKeyPath }, 'sandbox listening');
  return sandbox;
}
