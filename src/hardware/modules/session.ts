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
import { runSetup, settingReports, setupProblems, type SettingReport, type SetupResult } from './setup.js';
import { MemoryStateStore, type ModuleStateStore } from './state.js';
import { ModuleError, type CommandPort, type Identity, type ModuleDriver, type SettingName, type SetupMode, type Settings, type TriggerMode } from './types.js';

export type { SettingReport } from './setup.js';

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
  /**
   * A conversation with the module ended (identify and setup after a connect, a setup on demand), also by a failure
   * or its time bound: what the parser holds is the conversation's leftovers (a corrupt answer handed on as data),
   * never the start of a customer's code (no read window is open during one).
   */
  onConversationEnd?(): void;
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

/** What setupNow() found and did: per setting, the identity and the module's status afterwards. */
export interface SetupReport {
  mode: 'apply' | 'dry-run';
  identity: Identity;
  settings: SettingReport[];
  written: SettingName[];
  saved: boolean;
  /** Every checked setting matches the kiosk's profile now (after apply; as found for a dry run). */
  matches: boolean;
  skipped?: string;
  /** Plain words for each setting still not as the kiosk needs it. */
  problems: string[];
  status: ModuleStatus;
  ms: number;
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
  /** A setup on demand holds the module: no triggers, start() waits for it. */
  private paused = false;
  private exclusive: Promise<unknown> | null = null;

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
    // A setup on demand still talking to the module (it ends by itself, bounded): one conversation at a time.
    if (this.exclusive) await this.exclusive.catch(() => undefined);
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
    } finally {
      this.endConversation();
    }
  }

  /** Drops what a conversation left: bytes the framer holds and the parser's partial line (onConversationEnd). */
  private endConversation(): void {
    this.link.drop();
    this.o.onConversationEnd?.();
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
      const differences = setupProblems(result);
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
   * The kiosk's setup run now, on demand (a remote operator's `scanner-setup`; the technician's `kiosk scanner
   * setup` does the same over its own port when no daemon runs): identify, then apply the profile (or only
   * compare it: dry-run), whatever scanner.setup says. Triggers pause for its length and resume after it, also
   * after a failure. Bounded: no command is sent after `timeoutMs`, and the last one waits at most until then.
   * The caller makes sure no payment is in progress. Rejects (nothing started) when a setup already runs or the
   * module is being identified after a (re)connect.
   */
  async setupNow(mode: 'apply' | 'dry-run', timeoutMs: number): Promise<SetupReport> {
    if (this.stopped) throw new ModuleError('the scanner port is closed', 'CLOSED');
    if (this.exclusive) throw new Error('a scanner setup is already running');
    if (this.st.state === 'starting') throw new Error('the scanner module is being identified after a (re)connect: try again in a few seconds');
    const { driver } = this.o;
    const t0 = this.timers.mono();
    const deadline = t0 + timeoutMs;
    const left = (): number => {
      const ms = Math.ceil(deadline - this.timers.mono());
      if (ms <= 0) throw new ModuleError(`scanner setup stopped after ${timeoutMs} ms (the module answers too slowly or not at all)`, 'TIMEOUT');
      return ms;
    };
    const link = this.link;
    const port: CommandPort = {
      request: async (command, opts) => link.request(command, { timeoutMs: Math.min(opts?.timeoutMs ?? this.o.answerTimeoutMs ?? 500, left()) }),
      send: async (command) => (left(), link.send(command)),
    };
    this.paused = true;
    this.clearRearm();
    const run = (async () => {
      // A read window left open would put a customer's scan between the setup's answers: ended where the protocol can.
      if (this.wantArmed && this.identity && driver.stopRead && this.st.state === 'ready') await driver.stopRead(port, this.identity).catch(() => undefined);
      const id = await driver.identify(port, this.o.model);
      if (!id) throw new ModuleError(`no ${driver.family} module answered on ${this.o.path} at ${this.o.baudRate} baud`, 'TIMEOUT');
      this.identity = id;
      return runSetup(driver, port, id, this.o.profile, mode);
    })();
    this.exclusive = run;
    let result: SetupResult;
    try {
      result = await run;
      if (mode === 'apply') this.finish(result);
    } catch (err) {
      const e = err as Error;
      if (mode === 'apply' && !this.portLost()) {
        // Writes may have stopped half-way: the status says so until the next setup (kiosk status, doctor).
        this.st = { ...this.st, state: 'error', profileMatch: undefined, error: `scanner setup on demand failed: ${e.message} (the module may hold part of the changes until it is powered off)` };
        this.emit('status', this.status);
      }
      this.log.warn({ scanner: 'setup-failed', module: driver.family, mode, err: e.message }, `scanner setup on demand failed: ${e.message}`);
      throw err;
    } finally {
      this.exclusive = null;
      this.paused = false;
      // Before the next read window: the next customer's code must not be appended to the setup's leftovers.
      this.endConversation();
      if (!this.stopped && this.wantArmed) this.fire();
    }
    return this.report(result, this.timers.mono() - t0);
  }

  /** lost() ran (the port went away): start() identifies the module again after the reconnect. */
  private portLost(): boolean {
    return this.st.state === 'starting';
  }

  private report(r: SetupResult, ms: number): SetupReport {
    const settings = settingReports(r, this.o.profile);
    const problems = setupProblems(r);
    return {
      mode: r.mode === 'apply' ? 'apply' : 'dry-run',
      identity: r.identity,
      settings,
      written: r.written,
      saved: r.saved,
      matches: !r.skipped && problems.length === 0,
      ...(r.skipped ? { skipped: r.skipped } : {}),
      problems,
      status: this.status,
      ms: Math.round(ms),
    };
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
    else if (!this.paused && this.identity && this.o.driver.stopRead && this.st.state === 'ready') {
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
    if (!id || this.paused || this.st.state === 'starting' || this.st.state === 'no-answer') return;
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
        if (r === 'closed' || !this.wantArmed || this.stopped || this.paused) return;
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
