// Facts `kiosk status` and `kiosk doctor` both need: is the daemon running, does the gateway answer
// with a signature that verifies, is the clock trustworthy, which versions run.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Config } from '../../config/index.js';
import { lockState } from '../../kiosk/lock.js';
import { defaultClockCheck } from '../../payment/clock-check.js';
import { gatewayFromConfig } from '../../kiosk/wiring.js';
import { KeyError } from '../../umpay/keys.js';
import { silentLogger, type Logger } from '../../log.js';
import { releaseInfo } from '../../release.js';
import { wireText } from '../../umpay/canonical.js';
import { PlatformClock, zoneNote, type ClockReading } from '../../umpay/platform-clock.js';
import { systemClock } from '../../clock.js';

/** Filesystem roots, injectable so tests run the checks against a fake tree on any machine. */
export interface Roots {
  /** Default '/dev'. */
  dev: string;
  /** Default '/sys'. */
  sys: string;
  /** Default '/run' (systemd-timesyncd's flag lives under it). */
  run: string;
  /** Default '/etc' (group names). */
  etc: string;
}

export const SYSTEM_ROOTS: Roots = { dev: '/dev', sys: '/sys', run: '/run', etc: '/etc' };

/** An absolute system path under the injected root: '/dev/ttyS0' with dev '/tmp/x/dev' → '/tmp/x/dev/ttyS0'. */
export function rooted(roots: Roots, path: string): string {
  for (const key of ['dev', 'sys', 'run', 'etc'] as const) {
    const prefix = `/${key}`;
    if (path === prefix || path.startsWith(prefix + '/')) return roots[key] + path.slice(prefix.length);
  }
  return path;
}

export interface DaemonState {
  lockFile: string;
  running: boolean;
  /** The pid written in the lock file (the holder's when running). */
  pid?: number;
  /** The lock file is there but cannot be a lock file (refused by the daemon too). */
  problem?: string;
  /** The lock file could not be read (an admin user outside the kiosk user's folder): running is unknown. */
  denied?: boolean;
}

/** What to tell a user who cannot see the daemon's files (never "not running" or "no journal"). */
export const PERMISSION_DENIED = 'permission denied: use sudo (the journal, lock and control socket belong to the kiosk user)';

/** False only when this user may not look: a missing file is readable enough (nothing there). */
function readable(file: string): boolean {
  try {
    statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== 'EACCES' && code !== 'EPERM';
  }
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether a daemon holds the journal: its kernel lock on daemon.lockFile (src/kiosk/lock.ts), never a pid guess. */
export function daemonState(config: Config): DaemonState {
  const lockFile = config.daemon.lockFile;
  if (!readable(lockFile)) return { lockFile, running: false, denied: true };
  const s = lockState(lockFile);
  return { lockFile, running: s.held, ...(s.pid ? { pid: s.pid } : {}), ...(s.problem ? { problem: s.problem } : {}) };
}

export interface GatewayProbe {
  /** The gateway answered and its signature verified, and it did not reject ours. */
  ok: boolean;
  /** Something answered over HTTP. */
  reachable: boolean;
  /** The answer's signature verified with gateway.platformCert. */
  signed: boolean;
  detail: string;
  fix?: string;
  respCode?: string;
  elapsedMs?: number;
  orderNo: string;
  /** This machine's clock against the platform's, from the probe's answer (unknown without a signed one). */
  clock: ClockReading;
}

/**
 * A signed queryOrder of `orderNo` (a recent order, or a probe number that exists nowhere): any answer
 * whose signature verifies, even 17 "no such trade", proves the network, our signature and theirs.
 * Nothing is paid, changed or cancelled by it.
 */
export async function probeGateway(config: Config, orderNo: string, log: Logger = silentLogger): Promise<GatewayProbe> {
  const platformClock = new PlatformClock(systemClock, config.payment.clockToleranceMs);
  const probe = await probeWith(config, orderNo, log, platformClock);
  return { ...probe, clock: platformClock.reading() };
}

async function probeWith(config: Config, orderNo: string, log: Logger, platformClock: PlatformClock): Promise<Omit<GatewayProbe, 'clock'>> {
  let gateway;
  try {
    gateway = gatewayFromConfig(config, log, platformClock);
  } catch (err) {
    if (err instanceof KeyError) return { ok: false, reachable: false, signed: false, orderNo, detail: `not tried: ${err.message}`, fix: 'see the key checks of kiosk doctor' };
    throw err;
  }
  try {
    const res = await gateway.queryOrder({ orderNo });
    const base = { orderNo, elapsedMs: Math.round(res.elapsedMs) };
    if (res.delivery === 'not-sent') {
      return { ...base, ok: false, reachable: false, signed: false, detail: `${config.gateway.baseUrl} unreachable: ${res.cause ?? 'no connection'}`, fix: 'check the network (4G router, Wi-Fi) and gateway.baseUrl' };
    }
    if (!res.answer) {
      const what = res.httpStatus !== undefined ? `HTTP ${res.httpStatus}` : (res.cause ?? 'no answer');
      return { ...base, ok: false, reachable: res.httpStatus !== undefined, signed: false, detail: `${config.gateway.baseUrl}: no platform answer (${what})`, fix: 'check gateway.baseUrl (path /entry-provider-plat-client) and the link' };
    }
    const respCode = wireText(res.answer.respCode ?? '');
    const respMsg = wireText(res.answer.respMsg ?? '');
    if (!res.signatureValid) {
      return { ...base, respCode, ok: false, reachable: true, signed: false, detail: `answered ${respCode} but its signature does not verify with ${config.gateway.platformCert}`, fix: 'gateway.platformCert must be the platform certificate of this environment (test and production differ)' };
    }
    if (respCode === '11') {
      return { ...base, respCode, ok: false, reachable: true, signed: true, detail: `the platform rejected our signature (11 ${respMsg})`, fix: 'merchant.privateKey does not match the public key registered with the platform for merchant.acqMerId' };
    }
    return { ...base, respCode, ok: true, reachable: true, signed: true, detail: `signed round trip in ${base.elapsedMs} ms (queryOrder ${orderNo}: ${respCode} ${respMsg})` };
  } finally {
    gateway.close();
  }
}

/** The platform clock's line for people: the reading, and the time zone when it is not the platform's. */
export function platformClockWords(r: ClockReading): string {
  const zone = zoneNote(r);
  return `${r.state === 'wrong' ? 'NOT OK' : r.state === 'ok' ? 'ok' : 'unknown'}: ${r.detail}${zone ? `; ${zone}` : ''}`;
}

/** A probe order number that can exist nowhere: the device prefix and "PROBE". */
export function probeOrderNo(config: Config): string {
  return `${config.deviceId.replace(/[^A-Za-z0-9]/g, '').slice(0, 32)}PROBE`;
}

export interface ClockState {
  ok: boolean;
  /** Whether synchronisation could be read (systemd-timesyncd present). */
  syncKnown: boolean;
  detail: string;
}

/** The engine's own rule (payment/clock.ts): before the build date, or timesyncd not yet synchronised. */
export function clockState(roots: Roots, now = Date.now()): ClockState {
  const exists = (p: string) => existsSync(rooted(roots, p));
  const problem = defaultClockCheck(now, exists);
  const syncKnown = exists('/run/systemd/timesync');
  if (problem) return { ok: false, syncKnown, detail: problem };
  return { ok: true, syncKnown, detail: `${new Date(now).toISOString()}${syncKnown ? ', synchronised (systemd-timesyncd)' : ', plausible (synchronisation not readable here: no systemd-timesyncd)'}` };
}

export interface Versions {
  node: string;
  app: string;
  betterSqlite3: string;
  sqlite?: string;
}

const require = createRequire(import.meta.url);

function packageVersion(file: string): string {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version ?? '?';
  } catch {
    return '?';
  }
}

export function versions(sqlite?: string): Versions {
  const app = releaseInfo().version;
  let betterSqlite3 = '?';
  try {
    betterSqlite3 = packageVersion(require.resolve('better-sqlite3/package.json'));
  } catch {
    /* not resolvable: shown as ? */
  }
  return { node: process.version, app, betterSqlite3, ...(sqlite ? { sqlite } : {}) };
}
