// The daemon wiring: one validated config in, a running kiosk out. Order matters:
// lock (one daemon per journal) → journal → gateway → engine (recovery starts) → hardware →
// interaction → ready. Shutdown is the reverse, bounded by daemon.graceMs. How the parts are connected to
// each other (drivers → interaction, WAL keeper, daily settlement, journal watch) is daemon-parts.ts.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Config } from '../config/index.js';
import type { Logger } from '../log.js';
import { openJournal, orderNoPrefix, type Journal } from '../journal/journal.js';
import { bindIndicator, LinkMonitor, linkStatus } from '../payment/link.js';
import { LinkGateway } from '../payment/link-gateway.js';
import type { HttpGateway } from '../umpay/client.js';
import type { PaymentEngine } from '../payment/engine.js';
import { engineFromConfig, gatewayFromConfig, type GatewayOverrides } from './wiring.js';
import { createHardware, FileStateStore, type Hardware, type HardwareDeps } from '../hardware/index.js';
import { Vend } from './vend.js';
import { MdbVend } from './mdb-vend.js';
import { Interaction, type InteractionTiming, type Pricing } from './interaction.js';
import { acquireLock, type InstanceLock } from './lock.js';
import { startControlServer, type ControlServer, type DaemonStatus, type ReconcileSummary } from './control.js';
import type { Pattern } from '../hardware/indicator.js';
import { systemClock, type Clock } from '../clock.js';
import { PlatformClock } from '../umpay/platform-clock.js';
import { Outbox } from '../journal/outbox.js';
import type { FleetClient } from '../fleet/client.js';
import type { FleetParts } from './fleet.js';
import { remoteScannerSetup } from './scanner-setup.js';
import type { DailySettlement, DailySettleTiming } from './settle-daily.js';
import { JournalWatch, startDailySettlement, startWalKeeper, WAL_PURGE_IDLE_MS, wireHardware } from './daemon-parts.js';
import { releaseInfo } from '../release.js';

const RELEASE = releaseInfo();

/** How often the daemon checks that journal.path still names the journal it has open. */
const JOURNAL_WATCH_MS = 5_000;

/** How long `kiosk reconcile` waits for the orders before answering with what is left. */
const RECONCILE_WAIT_MS = 60_000;

export interface DaemonOptions {
  log: Logger;
  /** Interaction timing overrides (the demo's auto mode uses short ones). */
  timing?: Partial<InteractionTiming>;
  /** Written with the pid once ready ($KIOSK_READY_FILE): lets scripts and tests wait without parsing logs. */
  readyFile?: string;
  /** Idle time before the journal's WAL is truncated (default 3 s; tests use less). */
  walPurgeIdleMs?: number;
  /** How often journal.path is checked against the open journal (default 5 s; tests use less). */
  journalWatchMs?: number;
  /** Test and bench hooks for the hardware (e.g. a serialport binding). */
  hardwareDeps?: Omit<HardwareDeps, 'log'>;
  /** The one clock of every part (engine, link, interaction, drivers). Default: the system's. */
  clock?: Clock;
  /** The fleet's remote `doctor` command (`kiosk run` hands in `kiosk doctor` on its config file). */
  doctor?: FleetParts['doctor'];
  /** Test and bench overrides of the gateway client's connection warm-up. */
  gateway?: Partial<GatewayOverrides>;
  /** The daily settlement run's clock (tests move its wall clock to the next day). Default: `clock`. */
  settleClock?: Clock;
  settleTiming?: Partial<DailySettleTiming>;
}

/** The config's pricing section as the interaction takes it. */
export function pricingOf(config: Config): Pricing {
  const p = config.pricing;
  if (config.mdb?.mode === 'always-idle') return { mode: 'vmc' };
  if (p.mode === 'fixed') return { mode: 'fixed', amountFen: p.amountFen ?? 0 };
  if (p.mode === 'menu') return { mode: 'menu', items: p.items };
  return { mode: 'keyed', maxAmountFen: Math.min(p.maxAmountFen, config.payment.maxAmountFen) };
}

export class Daemon {
  private stopping: Promise<void> | undefined;
  private control: ControlServer | undefined;
  /** The fleet client (MQTT telemetry and remote commands) when the config has a `fleet` section. */
  fleet: FleetClient | undefined;
  private outbox: Outbox | undefined;
  /** The daily settlement fetch and reconciliation (daemon.settleAt). */
  settlement: DailySettlement | undefined;
  /** The vending machine's cashless port, when the config has an `mdb` section. */
  mdb: MdbVend | undefined;
  readonly startedAt = new Date().toISOString();
  private readonly journalWatch: JournalWatch;
  private constructor(
    readonly config: Config,
    readonly log: Logger,
    private readonly lock: InstanceLock,
    readonly journal: Journal,
    /** The gateway client (tests and the bench watch its connection warm-up). */
    readonly http: HttpGateway,
    readonly engine: PaymentEngine,
    readonly hardware: Hardware,
    readonly interaction: Interaction,
    readonly link: LinkMonitor,
    private readonly gateway: LinkGateway,
    /** The kiosk's clock against the platform's (status, fleet status; the engine refuses payments on it). */
    readonly platformClock: PlatformClock,
  ) {
    this.journalWatch = new JournalWatch(journal, config.journal.path, log);
  }

  /**
   * Starts everything. Throws LockHeldError when another daemon holds the journal; other errors
   * (journal unreadable, device setup) are thrown after what was opened is closed again.
   */
  static async start(config: Config, options: DaemonOptions): Promise<Daemon> {
    const log = options.log;
    const clock = options.clock ?? systemClock;
    const lock = acquireLock(config.daemon.lockFile);
    const undo: Array<() => unknown> = [() => lock.release()];
    const unwind = async () => {
      for (const f of undo.reverse()) {
        try {
          await f();
        } catch (err) {
          log.warn({ err }, 'cleanup after a failed start');
        }
      }
    };
    // The fleet's module (and mqtt with it) only with a fleet section.
    const fleetModule = config.fleet ? import('./fleet.js') : undefined;
    fleetModule?.catch(() => undefined); // awaited below; a start that fails before must not leave it unhandled
    try {
      const journal = openJournal(config.journal.path);
      undo.push(() => journal.close());
      // The platform's clock, read from every signed answer: new payments wait while ours disagrees (issue 24).
      const platformClock = new PlatformClock(clock, config.payment.clockToleranceMs, {
        onChange: (r) => log[r.state === 'wrong' ? 'error' : 'info']({ event: 'platform-clock', state: r.state, offsetMs: r.offsetMs, zone: r.zone }, `clock against the payment platform's: ${r.state}: ${r.detail}`),
      });
      const http = gatewayFromConfig(config, log, { daemon: true, platformClock, ...options.gateway });
      undo.push(() => http.close());
      // The link monitor watches every call and probes when nothing else has spoken lately. Background calls
      // wait behind it while offline instead of burning their retries.
      // Routine probes only connect to the gateway (no trade call); a signed query hourly and after a real
      // call failed (LinkMonitor, docs/payments.md).
      const link = new LinkMonitor({
        probe: () => http.queryOrder({ orderNo: journal.lastPayment()?.orderNo ?? `${orderNoPrefix(config.deviceId)}PROBE` }),
        reach: () => http.reach(),
        clock,
        log,
      });
      const gateway = new LinkGateway(http, link, { rank: (orderNo) => journal.getPublic(orderNo)?.seq, clock, log });
      undo.push(() => gateway.close());
      undo.push(() => link.stop());
      // MDB: an approval journaled before a restart is settled by the machine's next report (mdb-vend.ts).
      let mdbVend: MdbVend | undefined;
      const engine = engineFromConfig(config, journal, gateway, log, clock, platformClock, { vendReport: (o) => mdbVend?.recover(o.orderNo) ?? Promise.resolve('unknown') });
      undo.push(() => engine.stop(0));
      // Telemetry on: from here every transition that finishes an order adds its event in its own commit
      // (before recovery starts, so recovered orders are reported too).
      const outbox = config.fleet ? new Outbox(journal) : undefined;
      outbox?.captureOrderEvents();
      engine.on('attention', (a: { orderNo: string; reason: string }) => log.warn({ event: 'attention', ...a }, 'order needs attention'));
      const wal = startWalKeeper({ config, journal, engine, log, clock, idleMs: options.walPurgeIdleMs ?? WAL_PURGE_IDLE_MS });
      undo.push(() => wal.stop());
      // The module's flash-save count lives next to the journal (it outlives a module swap; see docs/scanners.md).
      const moduleState = new FileStateStore(join(dirname(config.journal.path), 'scanner-module.json'));
      // Awaited before the drivers exist: nothing can reach the interaction while it loads.
      const startFleet = fleetModule && (await fleetModule).startFleet;
      const hardware = await createHardware(config, { log, moduleState, timers: clock, ...options.hardwareDeps });
      undo.push(() => hardware.close());
      const vend = new Vend({
        approve: hardware.approve,
        pulseMs: config.approve.pulseMs,
        sensor: hardware.sensor ?? undefined,
        confirm: config.approve.confirm,
        clock,
        log,
      });
      undo.push(() => vend.close());
      if (hardware.mdb && config.mdb) mdbVend = new MdbVend({ device: hardware.mdb, config: config.mdb, maxAmountFen: config.payment.maxAmountFen, clock, log });
      const interaction = new Interaction({
        pricing: pricingOf(config),
        engine,
        indicator: { show: (pattern: Pattern, info?: { orderNo?: string }) => hardware.indicator.show(pattern, info ?? {}) },
        approve: hardware.approve,
        display: hardware.display,
        // With an mdb section the machine releases the product (C,VEND), never the relay.
        vend: mdbVend ?? vend,
        texts: config.display.texts,
        timing: {
          approvePulseMs: config.approve.pulseMs,
          entryTimeoutMs: config.pricing.entryTimeoutMs,
          customerWindowMs: config.payment.customerWindowMs,
          resultMs: config.display.resultMs,
          ...options.timing,
        },
        clock,
        log,
      });
      vend.on('fault', (reason: string | null) => interaction.vendFault(reason));
      if (vend.fault) interaction.vendFault(vend.fault);
      const d = new Daemon(config, log, lock, journal, http, engine, hardware, interaction, link, gateway, platformClock);
      d.mdb = mdbVend;
      // A customer starts with a key press, a scan or a selection on the vending machine: the payment's connection
      // is opened then, beside the journal commit, not after it (issue 20 §4; with gateway.keepWarm one is usually
      // open already). Wired before the MDB flow, so a selection warms before the kiosk offers it.
      wireHardware(hardware, interaction, log, () => http.warm());
      mdbVend?.attach(interaction, engine);
      d.journalWatch.start(options.journalWatchMs ?? JOURNAL_WATCH_MS, clock);
      undo.push(() => d.journalWatch.stop());
      // The scanner module's setup on demand, for the fleet's `scanner-setup` and `kiosk scanner setup` over the
      // control socket: one handler, so one setup at a time whoever asks.
      const scannerSetup = remoteScannerSetup({ scanner: config.scanner, device: hardware.scanner, interaction, customerInProgress: () => engine.customerInProgress, log });
      if (outbox && config.fleet && startFleet) {
        d.outbox = outbox;
        const fleetConfig = config as Config & { fleet: NonNullable<Config['fleet']> };
        const status = () => d.status();
        const reconcile = () => d.reconcile();
        d.fleet = startFleet({ config: fleetConfig, log, journal, outbox, engine, link, hardware, interaction, platformClock, status, reconcile, doctor: options.doctor, scannerSetup });
        undo.push(() => d.fleet?.stop(0));
      }
      bindIndicator(link, interaction);
      await engine.start();
      // `kiosk status` and `kiosk reconcile` talk to this; without it they still work from the journal.
      const control = await startControlServer(config.daemon.controlSocket, { status: () => d.status(), reconcile: () => d.reconcile(), scannerSetup }, (err) =>
        log.warn({ event: 'control-error', err }, 'control socket error'),
      );
      d.control = control;
      undo.push(() => control.close());
      d.settlement = startDailySettlement({
        config,
        journal,
        http,
        link,
        interaction,
        log,
        clock: options.settleClock ?? clock,
        timing: options.settleTiming,
        onResult: (r) =>
          d.fleetEvent('settlement', r.kind === 'reconciled' ? { stlDate: r.stlDate, ok: r.ok, rows: r.rows, mismatches: r.mismatches.length } : { stlDate: r.stlDate, ok: false, failed: r.cause }),
      });
      undo.push(() => d.settlement?.stop());
      log.info({ event: 'ready', deviceId: config.deviceId, pricing: config.pricing.mode, journal: config.journal.path, scanner: config.scanner.driver }, 'ready');
      if (options.readyFile) writeFileSync(options.readyFile, `${process.pid}\n`);
      process.send?.('ready');
      // The link's first probe signs a query (an RSA signature, CPU the start path would wait for): it starts once
      // the kiosk is ready. Until a probe or a call says otherwise the link counts as online, so recovery above
      // does not wait for it (docs/performance.md, cold start).
      link.start();
      return d;
    } catch (err) {
      await unwind();
      throw err;
    }
  }

  /**
   * An event for the fleet (e.g. the daily reconciliation summary): kept in the journal's outbox and
   * published in order with the others. Nothing happens without a `fleet` section. A process without the
   * daemon (a CLI run) can do the same with `new Outbox(journal).append(type, data)` when config.fleet is set.
   */
  fleetEvent(type: string, data: Record<string, unknown>): void {
    if (!this.outbox) return;
    this.outbox.append(type, data);
    this.fleet?.kick();
  }

  /** What only the running process knows, for `kiosk status`. */
  status(): DaemonStatus {
    const s = this.hardware.scanner;
    return {
      pid: process.pid,
      startedAt: this.startedAt,
      // Which release answers: device/install.sh waits for the new one before it keeps an update.
      release: { id: RELEASE.id, root: RELEASE.root },
      scanner: { connected: s.connected, device: this.config.scanner.driver === 'sim' ? 'sim' : this.config.scanner.path, ...(s.moduleStatus ? { module: s.moduleStatus } : {}) },
      interaction: this.interaction.state.name,
      background: this.engine.pending,
      ...linkStatus(this.link, this.journal, this.gateway),
      platformClock: this.platformClock.reading(),
      journal: { path: this.config.journal.path, problem: this.journal.whereabouts(), unfinished: this.journal.unfinished().length },
      ...(this.mdb ? { mdb: this.mdb.status() } : {}),
    };
  }

  /**
   * `kiosk reconcile`: every unfinished order not already being worked on is picked up now; answers when
   * the engine is idle, only orders needing a person are left, or after RECONCILE_WAIT_MS.
   */
  async reconcile(): Promise<ReconcileSummary> {
    const started = this.journal.unfinished().length;
    await this.engine.start();
    const settled = () => this.journal.unfinished().every((o) => o.state === 'attention');
    if (!settled()) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.engine.off('transition', check);
          resolve();
        };
        const check = () => settled() && done();
        const timer = setTimeout(done, RECONCILE_WAIT_MS);
        timer.unref();
        this.engine.on('transition', check);
      });
    }
    return { started, remaining: this.journal.unfinished().length };
  }

  /**
   * Stops taking scans, lets the in-flight step write its journal entry, closes ports.
   * Bounded by daemon.graceMs: past it, what is left is recovered at the next start.
   */
  stop(reason = 'stop'): Promise<void> {
    this.stopping ??= this.doStop(reason);
    return this.stopping;
  }

  private async doStop(reason: string): Promise<void> {
    const graceMs = this.config.daemon.graceMs;
    const started = performance.now();
    this.log.info({ event: 'stopping', reason, graceMs }, 'stopping');
    this.interaction.stop();
    this.settlement?.stop();
    this.journalWatch.stop();
    const gone = this.journal.whereabouts();
    if (gone) this.log.error({ event: 'journal-gone', journal: this.config.journal.path, unfinished: this.journal.unfinished().length }, `stopping with a journal that is no longer at its path: ${gone}`);
    let rescueAtStop = !!gone;
    let timer: NodeJS.Timeout | undefined;
    const overtime = new Promise<'overtime'>((r) => {
      timer = setTimeout(() => r('overtime'), Math.max(0, graceMs - 200));
      timer.unref();
    });
    const step = async (name: string, f: () => unknown) => {
      try {
        await f();
      } catch (err) {
        this.log.warn({ event: 'stop-error', step: name, err }, `error while stopping: ${name}`);
      }
    };
    // Leave a little of the grace time for closing ports and the journal.
    const finished = await Promise.race([step('engine', () => this.engine.stop(Math.max(0, graceMs - 500))).then(() => 'done' as const), overtime]);
    if (finished === 'overtime') this.log.warn({ event: 'stop-overtime', graceMs }, 'engine did not stop within the grace time; recovery will finish its work at the next start');
    clearTimeout(timer);
    // The customer in front of a stopping kiosk reads "Closed" rather than a screen frozen mid-payment.
    this.interaction.showClosed();
    if (this.control) await step('control', () => this.control!.close());
    // After the engine: its last transitions are in the outbox (published now or at the next start).
    if (this.fleet) await step('fleet', () => this.fleet!.stop(Math.min(1000, graceMs)));
    await step('link', () => this.link.stop());
    await step('hardware', () => this.hardware.close());
    await step('gateway', () => {
      this.gateway.close();
      this.http.close();
    });
    if (rescueAtStop) {
      // The last state of what the daemon finished in the lost file.
      rescueAtStop = false;
      this.journalWatch.rescue('stopped');
    }
    if (finished === 'done') {
      await step('journal', () => {
        const leftOpen = this.journal.close();
        if (leftOpen) this.log.warn({ event: 'journal-left-open', journal: this.config.journal.path }, leftOpen);
      });
    }
    this.lock.release();
    this.log.info({ event: 'stopped', ms: Math.round(performance.now() - started) }, 'stopped');
  }
}
