// The offline drills' world: the real engine, journal, HttpGateway, LinkMonitor, LinkGateway and customer
// Interaction, against the sandbox over real HTTP behind a switchable proxy, all on FAKE time. The
// clock only moves when no real request is in flight, so an hour of fake outage takes a second or two.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type Timing } from '../../src/payment/engine.js';
import { bindIndicator, LinkMonitor, linkStatus, type LinkChange, type LinkState, type LinkTiming } from '../../src/payment/link.js';
import { LinkGateway } from '../../src/payment/link-gateway.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import type { CallName, CallResult, Gateway } from '../../src/umpay/types.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { Interaction, type PaymentRecord } from '../../src/kiosk/interaction.js';
import type { Pattern } from '../../src/kiosk/ports.js';
import { LinkProxy, type ProxyMode } from './proxy.js';
import { FakeClock } from '../fake-clock.js';

/** Fake time that waits for real I/O: a timer fires only when no tracked request is in flight. */
export class DrillClock extends FakeClock {
  private readonly io = new Set<Promise<unknown>>();
  constructor(t = Date.now()) {
    super(t);
  }
  /** Real work the fake clock must wait for before it jumps. */
  track<T>(p: Promise<T>): Promise<T> {
    this.io.add(p);
    const done = (): void => void this.io.delete(p);
    p.then(done, done);
    return p;
  }
  protected override async settle(): Promise<void> {
    for (;;) {
      await super.settle();
      if (!this.io.size) return;
      await Promise.allSettled([...this.io]);
    }
  }
  /** Runs timers until `p` settles (fails past `limitMs` of fake time: three hours unless told). */
  override run<T>(p: Promise<T>, limitMs = 3 * 3600_000): Promise<T> {
    return super.run(p, limitMs);
  }
}

/** One request that really went towards the gateway (below the LinkGateway), at fake time `at`. */
export interface SentCall {
  call: CallName;
  orderNo: string;
  at: number;
  probe: boolean;
  /** micropay and refund: the orderTime sent (a re-send must be the same order). */
  orderTime?: string;
  delivery?: string;
  outcome?: string;
}

/** Records every real send and lets the drill clock wait for it. */
class Recorder implements Gateway {
  constructor(
    private readonly inner: Gateway,
    private readonly clock: DrillClock,
    readonly sent: SentCall[],
  ) {}
  probe(orderNo: string): Promise<CallResult> {
    return this.go('queryOrder', { orderNo }, true);
  }
  private go(call: CallName, fields: Record<string, unknown>, probe = false): Promise<CallResult> {
    const rec: SentCall = { call, orderNo: String(fields.orderNo ?? fields.origOrderNo), at: this.clock.mono(), probe };
    if (typeof fields.orderTime === 'string') rec.orderTime = fields.orderTime;
    this.sent.push(rec);
    const p = (this.inner[call] as (f: unknown) => Promise<CallResult>).call(this.inner, fields).then((r) => {
      rec.delivery = r.delivery;
      rec.outcome = (r.outcome as { kind: string }).kind;
      return r;
    });
    return this.clock.track(p);
  }
  micropay = (f: object) => this.go('micropay', f as Record<string, unknown>) as Promise<CallResult<'micropay'>>;
  queryOrder = (f: object) => this.go('queryOrder', f as Record<string, unknown>) as Promise<CallResult<'queryOrder'>>;
  cancelOrder = (f: object) => this.go('cancelOrder', f as Record<string, unknown>) as Promise<CallResult<'cancelOrder'>>;
  closeOrder = (f: object) => this.go('closeOrder', f as Record<string, unknown>) as Promise<CallResult<'closeOrder'>>;
  refund = (f: object) => this.go('refund', f as Record<string, unknown>) as Promise<CallResult<'refund'>>;
  refundQuery = (f: object) => this.go('refundQuery', f as Record<string, unknown>) as Promise<CallResult<'refundQuery'>>;
}

export const MERCHANT = { acqSpId: 'Y471790403', acqMerId: '41509208' };

/** The engine's real timing defaults except the attention pace; the link monitor's defaults. */
export interface WorldOptions {
  device: string;
  timing?: Partial<Timing>;
  linkTiming?: Partial<LinkTiming>;
}

export class World {
  readonly changes: LinkChange[] = [];
  readonly payments: PaymentRecord[] = [];
  /** Whenever the kiosk is resting, did its pattern agree with the link (and the status)? Mismatches found. */
  readonly disagreements: string[] = [];
  private constructor(
    readonly dir: string,
    readonly sandbox: Sandbox,
    readonly proxy: LinkProxy,
    readonly clock: DrillClock,
    readonly journal: Journal,
    readonly http: HttpGateway,
    readonly link: LinkMonitor,
    readonly gateway: LinkGateway,
    readonly engine: PaymentEngine,
    readonly kiosk: Interaction,
    readonly device: string,
    readonly sent: SentCall[],
    readonly shown: { at: number; pattern: Pattern }[],
  ) {}

  static async create(o: WorldOptions): Promise<World> {
    const clock = new DrillClock();
    const dir = mkdtempSync(join(tmpdir(), 'offline-'));
    const sandbox = await startSandbox({ port: 0, now: () => new Date(clock.wall()) });
    const proxy = await LinkProxy.start(sandbox.baseUrl);
    const journal = openJournal(join(dir, 'journal.db'));
    const http = new HttpGateway({
      baseUrl: proxy.baseUrl,
      merchant: MERCHANT,
      privateKey: loadPrivateKey(sandbox.merchantKeyPath!),
      platformKey: sandbox.platformPublicKey,
      // Real milliseconds: only the blackhole waits for them.
      connectTimeoutMs: 300,
      timeoutMs: 400,
    });
    const sent: SentCall[] = [];
    const shown: { at: number; pattern: Pattern }[] = [];
    const recorder = new Recorder(http, clock, sent);
    const link = new LinkMonitor({ clock, probe: () => recorder.probe(`${o.device}PROBE`), timing: o.linkTiming });
    const gateway = new LinkGateway(recorder, link, { clock, rank: (orderNo) => journal.get(orderNo)?.seq });
    const engine = new PaymentEngine({
      journal,
      gateway,
      merchant: MERCHANT,
      deviceId: o.device,
      goods: { goodsId: 'G1', goodsInfo: 'drill' },
      timing: o.timing,
      clock,
      clockCheck: () => null,
      random: () => 0.5,
    });
    const kiosk = new Interaction({
      pricing: { mode: 'fixed', amountFen: 150 },
      engine,
      indicator: { show: (pattern) => void shown.push({ at: clock.mono(), pattern }) },
      approve: { pulse: async () => undefined },
      timing: { resultMs: 3000, signalMs: 1500 },
      clock,
    });
    const w = new World(dir, sandbox, proxy, clock, journal, http, link, gateway, engine, kiosk, o.device, sent, shown);
    kiosk.on('payment', (p: PaymentRecord) => w.payments.push(p));
    link.on('change', (c: LinkChange) => w.changes.push(c));
    bindIndicator(link, kiosk);
    // Checked after every indicator update and link change: at rest, 'offline' exactly while offline.
    const check = (why: string): void => {
      const resting = kiosk.state.name === 'ready' || kiosk.state.name === 'idle';
      const last = shown[shown.length - 1]?.pattern;
      if (!resting || (last !== 'ready' && last !== 'offline' && last !== 'idle')) return;
      if ((last === 'offline') !== (link.state === 'offline')) w.disagreements.push(`${why}: indicator ${last}, link ${link.state} at +${clock.mono()}`);
      const st = w.status().link.state;
      if (st !== link.state) w.disagreements.push(`${why}: status says ${st}, link ${link.state}`);
    };
    kiosk.on('pattern', () => check('pattern'));
    link.on('change', () => queueMicrotask(() => check('change')));
    await engine.start();
    link.start();
    return w;
  }

  /** What the daemon answers `kiosk status` about the link. */
  status(): ReturnType<typeof linkStatus> {
    return linkStatus(this.link, this.journal, this.gateway);
  }

  get state(): LinkState {
    return this.link.state;
  }

  /** Cuts or restores the link; waits until the client has seen the old connections close. */
  async setLink(mode: ProxyMode): Promise<void> {
    await this.proxy.setMode(mode);
    // Closed keep-alive sockets reach the client's agent in the next turns of the event loop.
    for (let i = 0; i < 3; i++) await new Promise((r) => setTimeout(r, 1));
  }

  /** A customer scans `code` now; resolves with what they were told. */
  async scan(code: string): Promise<PaymentRecord> {
    const before = this.payments.length;
    this.kiosk.code(code);
    await this.clock.run(this.kiosk.settled());
    const rec = this.payments[before];
    if (!rec) throw new Error(`no payment record for ${code.slice(-4)} (kiosk state ${this.kiosk.state.name})`);
    // Let the result display run out, so the kiosk is resting again.
    await this.clock.advance(3000);
    return rec;
  }

  /** Until the engine has no work left (fake time). */
  async settle(limitMs = 3 * 3600_000): Promise<void> {
    await this.clock.run(this.engine.whenIdle(), limitMs);
  }

  async close(): Promise<void> {
    this.kiosk.stop();
    this.gateway.close();
    const stopping = Promise.all([this.link.stop(), this.engine.stop(0)]);
    await this.clock.advance(0);
    await stopping;
    this.http.close();
    this.journal.close();
    await this.proxy.close();
    await this.sandbox.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
