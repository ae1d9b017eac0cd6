// The scanner module's setup on demand inside the daemon, which owns the port: the fleet's `scanner-setup` command
// (docs/fleet.md) and `kiosk scanner setup` over the control socket share this one handler. Safe by construction:
// refused unless the kiosk is idle, and the kiosk is held out of customer use while the module takes commands (scans
// refused with "Please wait", no read window started); released after, also after a failure or the time bound. One
// at a time. It moves no money and answers no payment code.
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Scanner } from '../hardware/scanner.js';
import type { SetupReport } from '../hardware/modules/session.js';
import { unknownArgs } from '../fleet/protocol.js';
import { maskDigitRuns } from '../umpay/authcode.js';
import type { Interaction } from './interaction.js';

/** A setup on demand stops sending after this (a responsive module needs well under a second at 9600 baud). */
export const REMOTE_SETUP_TIMEOUT_MS = 15_000;

export interface RemoteSetupParts {
  scanner: Pick<Config['scanner'], 'driver' | 'module' | 'path'>;
  device: Scanner;
  interaction: Pick<Interaction, 'hold'>;
  /** The engine's view: a customer's payment is being driven. */
  customerInProgress(): boolean;
  log: Logger;
  timeoutMs?: number;
}

export interface RemoteSetupArgs {
  /** Only identify and compare: nothing is written. */
  dryRun: boolean;
}

/** Strict: only the documented fields, each of its type; anything else is a clear error, never ignored. */
export function parseSetupArgs(args: Record<string, unknown>): RemoteSetupArgs {
  const unknown = unknownArgs('scanner-setup', args);
  if (unknown) throw new Error(unknown);
  const d = args.dryRun;
  if (d !== undefined && typeof d !== 'boolean') throw new Error(`args.dryRun must be true or false, got ${JSON.stringify(d).slice(0, 40)}`);
  return { dryRun: d === true };
}

/** Why this kiosk's scanner cannot be set up remotely, or undefined when it can. */
export function unsupported(p: Pick<RemoteSetupParts, 'scanner' | 'device'>): string | undefined {
  const sc = p.scanner;
  if (sc.driver === 'hid') return 'not supported for this scanner (scanner.driver "hid": a USB keyboard scanner takes no commands)';
  if (sc.module === 'plain') return 'not supported for this scanner (scanner.module "plain": no command protocol configured; kiosk scanner detect on site names the module\'s family)';
  if (!p.device.setupModule || !p.device.moduleStatus) return `not supported for this scanner (scanner.driver "${sc.driver}" has no ${sc.module} module behind it)`;
  return undefined;
}

/** Every string in a JSON value with digit runs masked (a module's free text is not ours to trust). */
function masked(v: unknown): unknown {
  if (typeof v === 'string') return maskDigitRuns(v);
  if (Array.isArray(v)) return v.map(masked);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, masked(x)]));
  return v;
}

export type RemoteSetupAnswer = SetupReport & { module: string };

/** The command's handler: one at a time (the returned function refuses a second while the first runs). */
export function remoteScannerSetup(p: RemoteSetupParts): (args: Record<string, unknown>) => Promise<RemoteSetupAnswer> {
  let running = false;
  return async (raw) => {
    const args = parseSetupArgs(raw);
    const no = unsupported(p);
    if (no) throw new Error(no);
    if (running) throw new Error('busy: a scanner setup is already running (one at a time)');
    if (p.customerInProgress()) throw new Error('busy: a customer is paying; nothing was sent to the scanner (try again when the kiosk is idle)');
    const held = p.interaction.hold();
    if ('busy' in held) throw new Error(`busy: ${held.busy}; nothing was sent to the scanner (try again when the kiosk is idle)`);
    running = true;
    const mode = args.dryRun ? 'dry-run' : 'apply';
    p.log.info({ event: 'scanner-setup', mode, module: p.scanner.module }, `scanner setup on demand (${mode}): kiosk held, scanner paused`);
    try {
      const report = await p.device.setupModule!(mode, p.timeoutMs ?? REMOTE_SETUP_TIMEOUT_MS);
      p.log.info({ event: 'scanner-setup-done', mode, written: report.written, saved: report.saved, matches: report.matches, ms: report.ms }, 'scanner setup on demand done');
      return masked({ module: p.scanner.module, ...report }) as RemoteSetupAnswer;
    } catch (err) {
      throw new Error(maskDigitRuns(`scanner setup failed: ${(err as Error)?.message ?? String(err)}`));
    } finally {
      running = false;
      held.release();
    }
  };
}
