// The daemon's parts connected to each other: the drivers' events to the interaction, the WAL keeper to the engine,
// the daily settlement to the link and the customer, and the watch on journal.path. daemon.ts runs the start and
// stop sequence that creates and closes them.
import { statSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Journal } from '../journal/journal.js';
import type { LinkMonitor } from '../payment/link.js';
import type { PaymentEngine } from '../payment/engine.js';
import type { HttpGateway } from '../umpay/client.js';
import type { Hardware, MdbMessage } from '../hardware/index.js';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';
import type { Interaction } from './interaction.js';
import { WalKeeper } from './wal-keeper.js';
import { fetchAndReconcile, localYmd } from '../payment/settle-day.js';
import { DailySettlement, type DailySettleOptions, type DailySettleTiming } from './settle-daily.js';

/** Idle time after which the journal's WAL is truncated (erased payment codes leave old WAL pages). */
export const WAL_PURGE_IDLE_MS = 3_000;

/** A WAL this big is truncated at the next commit outside a customer payment (SQLite checkpoints at ~4 MB). */
const WAL_PURGE_BYTES = 2 * 1024 * 1024;

function walBytes(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** Erased payment codes sit in old WAL pages until the WAL is truncated; when that happens: wal-keeper.ts. */
export function startWalKeeper(p: { config: Config; journal: Journal; engine: PaymentEngine; log: Logger; clock: Clock; idleMs: number }): WalKeeper {
  const { journal, engine, log } = p;
  const walFile = `${p.config.journal.path}-wal`;
  const wal = new WalKeeper({
    purge: () => {
      try {
        journal.purgeWal();
      } catch (err) {
        log.warn({ event: 'wal-purge-failed', err }, 'could not truncate the journal WAL (retried after the next commit)');
      }
    },
    walBytes: () => walBytes(walFile),
    customerInProgress: () => engine.customerInProgress,
    delayMs: p.idleMs,
    maxBytes: WAL_PURGE_BYTES,
    timers: p.clock,
  });
  engine.on('idle', () => wal.idle());
  engine.on('transition', () => wal.committed());
  return wal;
}

/** The drivers' events to the interaction (scanner codes, bad lines, faults; keypad keys; trigger arming). */
/** `customer`: a key press or a scan has arrived, before the interaction acts on it (the gateway's warm-up). */
export function wireHardware(hardware: Hardware, kiosk: Interaction, log: Logger, customer: () => void = () => undefined): void {
  const { scanner, keypad } = hardware;
  // Handlers run inside the drivers' data callbacks: an error thrown there would be uncaught and end the
  // daemon (and every background reversal with it). Log it and keep serving.
  const guard =
    <A extends unknown[]>(source: string, f: (...a: A) => void) =>
    (...a: A) => {
      try {
        f(...a);
      } catch (err) {
        log.error({ event: 'handler-error', source, err }, `error in the ${source} handler`);
      }
    };
  scanner.on(
    'code',
    guard('scanner code', (code: string) => {
      customer();
      kiosk.code(code);
    }),
  );
  scanner.on('bad', guard('scanner bad', (bad: { reason: string }) => kiosk.bad(bad.reason)));
  // The vending machine's selection (MDB, always-idle) is the customer starting: the next thing is their scan.
  hardware.mdb?.on(
    'message',
    guard('mdb selection', (m: MdbMessage) => {
      if (m.kind === 'vend-request') customer();
    }),
  );
  // Unplugged → fault pattern and the driver reopens with backoff; the daemon never exits for it.
  scanner.on(
    'fault',
    guard('scanner fault', (f: { reason: string; path: string }) => {
      log.warn({ event: 'scanner-fault', ...f }, 'scanner fault');
      kiosk.scannerConnected(false);
    }),
  );
  scanner.on(
    'connected',
    guard('scanner connected', (c: { path: string }) => {
      log.info({ event: 'scanner-connected', ...c }, 'scanner connected');
      kiosk.scannerConnected(true);
    }),
  );
  if (!scanner.connected) kiosk.scannerConnected(false);
  keypad?.on(
    'key',
    guard('keypad key', (key: string) => {
      customer();
      kiosk.key(key);
    }),
  );
  // Command-trigger modules read only while a payment can be taken: never while processing or showing a result.
  if (scanner.arm) {
    const arm = scanner.arm.bind(scanner);
    kiosk.on('state', guard('scanner arm', (st: { name: string }) => arm(st.name === 'ready')));
    arm(kiosk.state.name === 'ready');
  }
}

/** The daily settlement fetch and reconciliation (daemon.settleAt), started. */
export function startDailySettlement(p: {
  config: Config;
  journal: Journal;
  http: HttpGateway;
  link: LinkMonitor;
  interaction: Interaction;
  log: Logger;
  clock: Clock;
  timing?: Partial<DailySettleTiming>;
  onResult: DailySettleOptions['onResult'];
}): DailySettlement {
  const { config, journal, http, link, interaction, log } = p;
  // A customer is there: typing, paying, seeing the result, or (menu/keyed) an amount chosen and the scan awaited.
  const busy = new Set(['processing', 'entering', 'result', ...(config.pricing.mode === 'fixed' ? [] : ['ready'])]);
  const isBusy = () => busy.has(interaction.state.name);
  // The settlement never makes a customer wait: each of its steps waits for this (docs/operations.md).
  const whenFree = (): Promise<void> =>
    isBusy()
      ? new Promise<void>((resolve) => {
          const on = (st: { name: string }) => {
            if (busy.has(st.name)) return;
            interaction.off('state', on);
            resolve();
          };
          interaction.on('state', on);
        })
      : Promise.resolve();
  const settlement = new DailySettlement({
    at: config.daemon.settleAt,
    run: (day) =>
      fetchAndReconcile(
        {
          download: (stlDate, dir) => http.downloadSettleFile(stlDate, dir, { pause: whenFree }),
          journal,
          deviceId: config.deviceId,
          acqMerId: config.merchant.acqMerId,
          dir: config.daemon.settleDir,
          log,
          whenFree,
        },
        day,
      ),
    reconciled: (day) => journal.reconciled(day),
    firstDay: () => {
      const made = journal.identity().createdAt;
      if (!made) return undefined;
      const at = new Date(made);
      return localYmd(new Date(at.getFullYear(), at.getMonth(), at.getDate() - 1));
    },
    online: () => link.state === 'online',
    whenOnline: (signal) => link.whenOnline(signal),
    busy: isBusy,
    whenFree,
    log,
    clock: p.clock,
    timing: p.timing,
    onResult: p.onResult,
  });
  settlement.start();
  return settlement;
}

/**
 * The journal deleted, replaced or moved under the running daemon is said at once, not only at the next scan
 * (which the journal refuses: journal first, and nobody would find an order in a file that is gone).
 */
export class JournalWatch {
  /** Set while journal.path no longer names the journal this daemon writes. */
  private problem: string | null = null;
  private timer: TimerHandle | undefined;
  private timers: Clock = systemClock;

  constructor(
    private readonly journal: Journal,
    private readonly path: string,
    private readonly log: Logger,
  ) {}

  /** Checks every `everyMs` on `timers` (the daemon's clock: unref'd, so it never holds a stopping process). */
  start(everyMs: number, timers: Clock = systemClock): void {
    this.timers = timers;
    this.timer = timers.setInterval(() => {
      const problem = this.journal.whereabouts();
      if (problem && problem !== this.problem) {
        this.log.error({ event: 'journal-gone', journal: this.path, unfinished: this.journal.unfinished().length }, problem);
        this.rescue('detected');
      } else if (!problem && this.problem) this.log.info({ event: 'journal-back', journal: this.path }, `${this.path} names the open journal again`);
      this.problem = problem;
    }, everyMs);
  }

  stop(): void {
    this.timers.clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * The open journal is the only record of what it holds (orders in flight, their codes, what was paid): a copy
   * is written beside journal.path, a new file of ours (never over the file now there), so that a crash or a
   * restart does not lose it. The technician puts it back once the daemon is stopped (docs/payments.md).
   */
  rescue(when: string): void {
    const dest = `${this.path}.rescued-${this.journal.runId}-${when}-${Date.now()}`;
    try {
      this.journal.saveCopy(dest);
      this.log.error({ event: 'journal-rescued', copy: dest }, `the journal this daemon has open was saved as ${dest}: stop the daemon, then move it to ${this.path} (kiosk doctor) before the next start`);
    } catch (err) {
      this.log.error({ event: 'journal-rescue-failed', copy: dest, err }, `could not save the open journal as ${dest}: ${(err as Error).message}`);
    }
  }
}
