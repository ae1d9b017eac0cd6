// The gateway connection kept ready for the next customer (issue 20 §4): after a quiet spell the kept-alive
// socket is gone (the gateway closed it), and a new TCP + TLS handshake would sit on the customer's wait.
// A warm-up is a connection only (TCP, and TLS for https): no HTTP request, so the platform sees nothing it
// could bill, rate-limit or log as a call. The connection is handed to the gateway client's agent when the
// next request needs a new socket (createConnection), so a payment request is never sent twice, and never
// waits for anything it would not have waited for: it rides a connection that is further along than a fresh one.
// - warm(): a customer has started (a key press, a scan, a selection on the vending machine): open one now unless one
//   is open.
// - keep: one connection stays open while idle; when the gateway closes it, another is opened, at most once per
//   `minIntervalMs` (the gateway's idle timeout decides how often: docs/performance.md states the cost per day).
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import type { Socket } from 'node:net';
import { systemClock, type Clock, type TimerHandle } from '../clock.js';

export type WarmMode = 'keep' | 'customer' | 'off';

/** TCP keep-alive of a warm-up connection while it waits (kernel probes: no wakeup of the process). */
const KEEPALIVE_MS = 60_000;

export interface WarmerOptions {
  mode: WarmMode;
  /** keep: at most one reopen per this long (a gateway that closes idle connections at once costs no more). */
  minIntervalMs: number;
  /** A warm-up that is not connected within this is dropped. */
  connectTimeoutMs: number;
  /** What a new connection needs (host, port, servername, ca): the agent's own createConnection takes them. */
  connect: Record<string, unknown>;
  timers?: Clock;
}

type CreateConnection = (options: Record<string, unknown>, cb?: (err: Error | null, s?: Socket) => void) => Socket | undefined;

/**
 * Events: 'warm' (a warm-up connection is up: TCP, and TLS when secure), 'cold' (no connection to the gateway
 * is open any more).
 */
export class ConnectionWarmer extends EventEmitter {
  private spare: Socket | undefined;
  private spareDeadline: TimerHandle | undefined;
  /** Sockets the agent holds (in use or kept alive), from the moment it was given them until they close. */
  private live = 0;
  // Stryker disable next-line UnaryOperator: never read before open() sets it (only keep reads it; keep opens at once)
  private lastOpened = -Infinity;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly timers: Clock;
  private readonly original: CreateConnection;
  /** Warm-up connections opened so far (bench and tests). */
  opened = 0;

  constructor(
    private readonly agent: http.Agent,
    private readonly o: WarmerOptions,
  ) {
    super();
    this.timers = o.timers ?? systemClock;
    const a = agent as unknown as { createConnection: CreateConnection };
    this.original = a.createConnection.bind(agent);
    a.createConnection = (options, cb) => {
      const spare = this.take();
      const socket = spare ?? this.original(options, cb);
      if (socket) this.track(socket);
      return socket;
    };
    if (o.mode === 'keep') this.open();
  }

  /** A customer has started: a connection is opened now unless one is open (or being opened). */
  warm(): void {
    if (this.o.mode === 'off' || this.stopped || this.spare || this.live > 0) return;
    this.open();
  }

  /** Whether a warm-up connection is open and not yet used. */
  get ready(): boolean {
    return this.spare !== undefined && !this.spare.connecting && !this.spare.destroyed;
  }

  stop(): void {
    this.stopped = true;
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    const s = this.spare;
    this.spare = undefined;
    s?.destroy();
  }

  /** Called only with no spare and not stopped: warm() checks, the constructor starts so, stop() cancels the timer. */
  private open(): void {
    this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.lastOpened = this.timers.mono();
    this.opened++;
    const secure = this.o.connect.protocol === 'https:';
    const agentKey = (this.agent as unknown as { getName(o: unknown): string }).getName(this.o.connect);
    const s = this.original({ ...this.o.connect, _agentKey: agentKey });
    if (!s) return;
    // A path that died silently (a 4G NAT that forgot it) is found within a minute and a few seconds, and the
    // probe keeps such a NAT from forgetting: about 170 kB a day.
    s.setKeepAlive(true, KEEPALIVE_MS);
    this.spare = s;
    const deadline = this.timers.setTimeout(() => s.destroy(), this.o.connectTimeoutMs);
    this.spareDeadline = deadline;
    s.once(secure ? 'secureConnect' : 'connect', () => {
      this.timers.clearTimeout(deadline);
      if (this.spare === s) this.emit('warm');
    });
    s.on('error', () => undefined); // a refused or reset warm-up is only a missing warm-up
    s.once('close', () => {
      this.timers.clearTimeout(deadline);
      // Handed over: the agent's socket now (track). Without this return nothing changes either: track's listener
      // comes later, so cooled() still counts it live, and no newer spare can open while it is live.
      // Stryker disable next-line ConditionalExpression: equivalent (above)
      if (this.spare !== s) return;
      this.spare = undefined;
      this.cooled();
    });
  }

  /** The warm-up connection, for a request that needs a new socket. */
  private take(): Socket | undefined {
    const s = this.spare;
    this.spare = undefined;
    // Still connecting: the request's own connect timeout (client.ts) takes over from here.
    this.timers.clearTimeout(this.spareDeadline);
    return s && !s.destroyed ? s : undefined;
  }

  private track(socket: Socket): void {
    this.live++;
    socket.once('close', () => {
      this.live--;
      this.cooled();
    });
  }

  /** A connection closed: when none is left, say so, and with `keep` open the next one (paced). */
  private cooled(): void {
    if (this.stopped || this.spare || this.live > 0) return;
    this.emit('cold');
    if (this.o.mode !== 'keep' || this.timer !== undefined) return;
    const wait = Math.max(0, this.lastOpened + this.o.minIntervalMs - this.timers.mono());
    this.timer = this.timers.setTimeout(() => {
      this.timer = undefined;
      this.open();
    }, wait);
  }
}
