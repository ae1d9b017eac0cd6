// A scanner module on a port: identify it after every (re)connect, run scanner.setup, and in command-trigger mode
// start read windows only while the kiosk is ready. Shared by the serial driver and the simulated scanner.
//
// Trigger policy (scanner.trigger "command"): arm(true) when the kiosk can take a payment → one trigger command;
// when the read window ends (the module's readWindowMs, plus a margin) or a line arrives (the module stops
// reading after a read) and the kiosk is still ready → trigger again. arm(false) (processing, result on show,
// idle) → no more triggers, and the protocol's stop command where it has one (Honeywell, Newland).
import { EventEmitter } from 'node:events';
import type { Logger } from '../../log.js';
import { silentLogger } from '../../log.js';
import { systemClock, type Clock, type TimerHandle } from '../../clock.js';
import { ModuleLink } from './link.js';
import { describeDifference, runSetup, type SetupResult } from './setup.js';
import { MemoryStateStore, type ModuleStateStore } from './state.js';
import { ModuleError, type Identity, type ModuleDriver, type SetupMode, type Settings, type TriggerMode } from './types.js';

export interface ModuleSessionOptions {
  driver: ModuleDriver;
  /** scanner.model: the model printed on the module, for families whose protocol cannot tell it. */
  model?: string;
  setup: SetupMode;
  trigger: TriggerMode;
  profile: Settings;
  write(bytes: Buffer): Promise<void>;
  /** Scan data (not answers) for the line parser. */
  onData(bytes: Buffer): void;
  /** An answer arrived: a partial line held by the parser is noise from before it (garbage between frames). */
  onAnswer?(): void;
  /** Where the port is, for log lines. */
  path: string;
  baudRate: number;
  state?: ModuleStateStore;
  timers?: Clock;
  log?: Logger;
  /** Margin after the read window before re-arming, ms. Default 200. */
  rearmMarginMs?: number;
  /** How long a command waits for its answer, ms. Default 500. */
  answerTimeoutMs?: number;
}

/** What `kiosk status`, `kiosk doctor` and `kiosk scanner show` report. */
export interface ModuleStatus {
  module: string;
  state: 'starting' | 'ready' | 'no-answer' | 'mismatch' | 'error';
  identity?: Identity;
  /** true when every checked setting matches the profile (after apply), false when not; undefined when not checked. */
  profileMatch?: boolean;
  differences?: string[];
  setup?: Pick<SetupResult, 'mode' | 'written' | 'saved' | 'skipped'> & { at: string };
  saves: number;
  trigger: TriggerMode;
  armed: boolean;
  triggers: number;
  error?: string;
}

/** Events: 'status' (ModuleStatus) after each start; 'triggered' (ms: round trip of the trigger command). */
export class ModuleSession extends EventEmitter {
  readonly link: ModuleLink;
  private readonly timers: Clock;
  private readonly log: Logger;
  private readonly state: ModuleStateStore;
  private identity: Identity | null = null;
  private st: ModuleStatus;
  private wantArmed = false;
  private rearm: TimerHandle | null = null;
  private triggering = false;
  /**
   * A trigger was wanted while one was in flight (the kiosk became ready again, a line arrived): fire once it is done.
   */
  private fireAgain = false;
  private stopped = false;

  constructor(private readonly o: ModuleSessionOptions) {
    super();
    this.timers = o.timers ?? systemClock;
    this.log = o.log ?? silentLogger;
    this.state = o.state ?? new MemoryStateStore();
    this.link = new ModuleLink({
      framer: o.driver.framer(),
      write: (bytes) => o.write(bytes),
      onData: (b) => o.onData(b),
      onNoise: (bytes, reason) => this.log.debug({ scanner: 'noise', bytes, reason }, 'scanner noise dropped'),
      timers: this.timers,
      timeoutMs: o.answerTimeoutMs,
    });
    this.st = { module: o.driver.family, state: 'starting', saves: this.state.load().saves, trigger: o.trigger, armed: false, triggers: 0 };
  }

  get status(): ModuleStatus {
    return { ...this.st, armed: this.wantArmed };
  }

  ingest(chunk: Buffer): void {
    const before = this.link.stats.answered;
    this.link.ingest(chunk);
    if (this.link.stats.answered !== before) this.o.onAnswer?.();
  }

  /**
   * After the port opened: identify, then setup. Resolves with the status; never rejects. A status whose state is
   * not 'ready' carries `error` in plain words (the driver reports it as a fault).
   */
  async start(): Promise<ModuleStatus> {
    const { driver } = this.o;
    this.st = { ...this.st, state: 'starting', error: undefined };
    try {
      const id = await driver.identify(this.link, this.o.model);
      if (!id) {
        this.identity = null;
        this.st = {
          ...this.st,
          state: 'no-answer',
          identity: undefined,
          error: `no ${driver.family} module answered on ${this.o.path} at ${this.o.baudRate} baud (wrong scanner.module, baud rate or wiring? kiosk scanner detect finds out)`,
        };
        return this.finish();
      }
      this.identity = id;
      this.st = { ...this.st, identity: id };
      if (!id.known) this.log.warn({ scanner: 'unknown-model', module: driver.family, model: id.model, hardware: id.hardware, firmware: id.firmware }, `scanner module ${driver.family} model ${id.model} has no known register map: identified and triggered only, nothing is written (set scanner.model to one of the supported models if it is one)`);
      if (this.o.setup === 'off') {
        this.st = { ...this.st, state: 'ready', profileMatch: undefined };
        return this.finish();
      }
      const result = await runSetup(driver, this.link, id, this.o.profile, this.o.setup);
      return this.finish(result);
    } catch (err) {
      const e = err as Error;
      this.st = { ...this.st, state: 'error', error: `scanner module ${driver.family}: ${e.message}` };
      return this.finish();
    }
  }

  private finish(result?: SetupResult): ModuleStatus {
    if (result) {
      const saved = this.state.load();
      if (result.saved) saved.saves++;
      const matches = result.remaining.length === 0 && result.refused.length === 0;
      saved.lastSetup = { at: new Date().toISOString(), module: this.o.driver.family, model: result.identity.model, written: result.written, saved: result.saved, matches };
      try {
        this.state.store(saved);
      } catch (err) {
        this.log.warn({ scanner: 'state', err }, 'could not record the scanner setup');
      }
      const differences = [...result.remaining.map(describeDifference), ...result.refused.map((r) => `${r.setting}: ${r.why}`)];
      this.st = {
        ...this.st,
        state: result.skipped || matches ? 'ready' : 'mismatch',
        profileMatch: result.skipped ? undefined : matches,
        differences,
        setup: { mode: result.mode, written: result.written, saved: result.saved, skipped: result.skipped, at: saved.lastSetup.at },
        saves: saved.saves,
        error: matches || result.skipped ? undefined : `scanner module ${result.identity.model} does not match the kiosk's profile: ${differences.join('; ')}`,
      };
      this.log.info(
        { scanner: 'setup', module: this.o.driver.family, model: result.identity.model, mode: result.mode, written: result.written, saved: result.saved, saves: saved.saves, differences, skipped: result.skipped },
        result.written.length ? `scanner module set up: ${result.written.join(', ')} written${result.saved ? ', saved to flash' : ''}` : 'scanner module checked',
      );
    }
    this.emit('status', this.status);
    if (this.st.state === 'ready' && this.wantArmed) this.fire();
    return this.status;
  }

  /**
   * The kiosk can (true) or cannot (false) take a payment now. Only in command-trigger mode does this send anything.
   */
  arm(ready: boolean): void {
    if (this.o.trigger !== 'command' || this.stopped) return;
    if (ready === this.wantArmed) return;
    this.wantArmed = ready;
    this.clearRearm();
    if (ready) this.fire();
    else if (this.identity && this.o.driver.stopRead && this.st.state === 'ready') {
      this.o.driver.stopRead(this.link, this.identity).catch((err: unknown) => this.log.debug({ scanner: 'stop-read', err }, 'stopping the read failed'));
    }
  }

  /** A line (code or noise) arrived: the module ended its read window. */
  lineSeen(): void {
    if (this.o.trigger !== 'command' || !this.wantArmed) return;
    // The daemon's handler ran first (a code moves the kiosk to processing and disarms synchronously).
    this.clearRearm();
    this.fire();
  }

  /** Port lost: commands fail, no more triggers until start() again. */
  lost(): void {
    this.clearRearm();
    this.link.reset();
    this.identity = null;
    this.st = { ...this.st, state: 'starting' };
  }

  close(): void {
    this.stopped = true;
    this.clearRearm();
    this.link.close();
  }

  private fire(): void {
    const id = this.identity;
    if (!id || this.st.state === 'starting' || this.st.state === 'no-answer') return;
    if (this.triggering) {
      this.fireAgain = true;
      return;
    }
    this.triggering = true;
    this.fireAgain = false;
    const t0 = performance.now();
    this.o.driver
      .trigger(this.link, id)
      .then(
        () => {
          this.st.triggers++;
          this.emit('triggered', performance.now() - t0);
        },
        (err: unknown) => {
          this.log.warn({ scanner: 'trigger-failed', err: (err as Error)?.message }, 'scanner trigger failed');
          if (err instanceof ModuleError && err.code === 'CLOSED') return 'closed';
          return undefined;
        },
      )
      .then((r) => {
        this.triggering = false;
        if (r === 'closed' || !this.wantArmed || this.stopped) return;
        if (this.fireAgain) return this.fire();
        const window = Number(this.o.profile.readWindowMs ?? 5000);
        this.clearRearm();
        this.rearm = this.timers.setTimeout(() => {
          this.rearm = null;
          if (this.wantArmed) this.fire();
        }, (window > 0 ? window : 5000) + (this.o.rearmMarginMs ?? 200));
      })
      // A throw above would be an unhandled rejection, which ends the daemon: the scanner is not worth that.
      .catch((err: unknown) => this.log.error({ scanner: 'trigger-error', err }, 'scanner trigger bookkeeping failed'));
  }

  private clearRearm(): void {
    if (this.rearm !== null) this.timers.clearTimeout(this.rearm);
    this.rearm = null;
  }
}
