// The kiosk's side of the fleet: one MQTT connection to the operator's broker. It publishes a retained
// status (the broker's Last Will turns it offline when the kiosk vanishes), the journal's outbox events
// in order with QoS 1 (removed once acknowledged), metrics now and then, and answers signed commands.
// Nothing here is on the payment path: the engine commits to the journal and goes on; this module reads
// the outbox when told something was added (kick) and publishes when connected.
import { connect, type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { KeyObject } from 'node:crypto';
import type { FleetConfig } from '../config/fleet.js';
import type { Logger } from '../log.js';
import type { AgeClockSource, Outbox, OutboxRow } from '../journal/outbox.js';
import { loadFleetFiles } from './files.js';
import { checkCommand, COMMAND_NAMES, PAYLOAD_VERSION, topic, unknownArgs, type CommandName, type CommandReply, type EventPayload, type StatusPayload } from './protocol.js';

/** What the daemon gives the fleet client: snapshots and command handlers, nothing to hold on to. */
export interface FleetHost {
  /** The status fields (everything but v, device, online, at). */
  status(): Omit<StatusPayload, 'v' | 'device' | 'online' | 'at'>;
  /** Metrics fields for one interval (the client adds its own counters). */
  metrics(): Record<string, unknown>;
  /** Remote commands by name; a missing one answers "not supported". Never pass anything that moves money
   *  except `reconcile` (which only finishes orders as recovery does). */
  commands: Partial<Record<string, (args: Record<string, unknown>) => Promise<unknown>>>;
}

export interface FleetOptions {
  fleet: FleetConfig;
  deviceId: string;
  outbox: Outbox;
  host: FleetHost;
  log: Logger;
  /** Operator keys and TLS material; default: read from the files the config names. */
  files?: ReturnType<typeof loadFleetFiles>;
  /** Events handed to the MQTT client at once (acknowledged or not). */
  window?: number;
  /** Delay before acknowledged events are removed from the journal (batched). */
  removeDelayMs?: number;
  /** Also read the outbox this often (events appended by another process, e.g. a reconciliation run). */
  pollMs?: number;
  now?: () => number;
  /** Monotonic ms for the rate limits of log lines; default performance.now. */
  mono?: () => number;
  /** The outbox's age is measured on this (monotonic, never the wall clock); default the system's. */
  ageClock?: AgeClockSource;
}

/** How much of a command's topic name and of a refusal's reason an answer repeats (the sender chose them). */
const NAME_ECHO = 64;
const REASON_ECHO = 300;

export interface FleetCounters {
  published: number;
  refusedCommands: number;
  commands: number;
  connects: number;
}

export class FleetClient {
  readonly counters: FleetCounters = { published: 0, refusedCommands: 0, commands: 0, connects: 0 };
  private readonly client: MqttClient;
  private readonly base: string;
  private readonly keys: KeyObject[];
  private readonly window: number;
  private readonly now: () => number;
  private readonly mono: () => number;
  /** Highest outbox seq handed to the MQTT client (which keeps QoS 1 messages across reconnects itself). */
  private cursor = 0;
  private inflight = 0;
  private readonly acked: number[] = [];
  private removeTimer: NodeJS.Timeout | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private metricsTimer: NodeJS.Timeout | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private kickPending = false;
  private lastRefusalLog = -Infinity;
  private lastRefusedPublishLog = -Infinity;
  private refusalsSuppressed = 0;
  private stopped = false;
  private readonly startedAt = new Date().toISOString();

  constructor(private readonly o: FleetOptions) {
    const f = o.fleet;
    const files = o.files ?? loadFleetFiles(f);
    this.keys = files.operatorKeys;
    this.window = o.window ?? 32;
    this.now = o.now ?? Date.now;
    this.mono = o.mono ?? (() => performance.now());
    this.base = `${f.prefix}/${o.deviceId}`;
    const will = JSON.stringify({ v: PAYLOAD_VERSION, device: o.deviceId, online: false, reason: 'lost', at: this.startedAt, startedAt: this.startedAt } satisfies StatusPayload);
    const opts: IClientOptions = {
      protocolVersion: f.protocolVersion,
      clientId: `kiosk-${o.deviceId}`,
      // A clean session: the journal's outbox, not the broker, is the store; MQTT.js re-sends what was in
      // flight on a reconnect, the outbox what was in flight when the process died.
      clean: true,
      keepalive: f.keepaliveS,
      reconnectPeriod: f.reconnectMs,
      connectTimeout: 10_000,
      // Not MQTT.js's default: its packet writer would pre-build 65,536 two-byte buffers, ~6 MB of the daemon's
      // heap for the life of the process (a Pi Zero 2 W has 512 MB); writing a message id afresh costs nothing.
      writeCache: false,
      will: { topic: topic(f.prefix, o.deviceId, 'status'), payload: Buffer.from(will), qos: 1, retain: true },
      // MQTT 5: the broker sends nothing bigger (a command is a few hundred bytes; 3.1.1 has no such limit).
      ...(f.protocolVersion === 5 ? { properties: { maximumPacketSize: 64 * 1024 } } : {}),
      ...(f.username ? { username: f.username } : {}),
      ...(files.password ? { password: files.password } : {}),
      ...(files.ca ? { ca: files.ca } : {}),
      ...(files.cert ? { cert: files.cert } : {}),
      ...(files.key ? { key: files.key } : {}),
    };
    this.client = connect(f.url, opts);
    this.client.on('connect', () => this.onConnect());
    this.client.on('message', (t, payload, packet) => this.onMessage(t, payload, packet));
    this.client.on('offline', () => o.log.info({ event: 'fleet-offline', url: f.url }, 'fleet broker unreachable; events are kept in the journal'));
    // Connection errors repeat every reconnect: logged at debug after the first (the offline line says it).
    let errors = 0;
    // Stryker disable next-line UpdateOperator: errors-- === 0 too holds only for the first error since a connection
    this.client.on('error', (err) => (errors++ === 0 ? o.log.warn : o.log.debug).call(o.log, { event: 'fleet-error', err: { message: err.message, code: (err as NodeJS.ErrnoException).code } }, 'fleet connection error'));
    this.client.on('connect', () => (errors = 0));
    this.statusTimer = setInterval(() => this.publishStatus(), f.statusIntervalMs).unref();
    this.metricsTimer = setInterval(() => this.publishMetrics(), f.metricsIntervalMs).unref();
    this.pollTimer = setInterval(() => this.kick(), o.pollMs ?? 5_000).unref();
    this.trim();
  }

  get connected(): boolean {
    return this.client.connected;
  }

  /** Something was added to the outbox: publish it soon (never inside the caller's tick). */
  kick(): void {
    if (this.kickPending || this.stopped) return;
    this.kickPending = true;
    setImmediate(() => {
      this.kickPending = false;
      this.pump();
    });
  }

  /** Publishes the status now (the daemon calls it on changes: link, scanner, a payment). */
  publishStatus(): void {
    if (!this.client.connected || this.stopped) return;
    this.client.publish(topic(this.o.fleet.prefix, this.o.deviceId, 'status'), JSON.stringify(this.statusPayload(true)), { qos: 1, retain: true });
  }

  statusPayload(online: boolean): StatusPayload {
    let fields: ReturnType<FleetHost['status']> = {};
    try {
      fields = this.o.host.status();
    } catch (err) {
      this.o.log.warn({ event: 'fleet-status-error', err }, 'could not build the fleet status');
    }
    return { v: PAYLOAD_VERSION, device: this.o.deviceId, online, at: this.at(), startedAt: this.startedAt, ...fields };
  }

  publishMetrics(): void {
    this.trim();
    if (!this.client.connected || this.stopped) return;
    let host: Record<string, unknown> = {};
    try {
      host = this.o.host.metrics();
    } catch (err) {
      this.o.log.warn({ event: 'fleet-metrics-error', err }, 'could not build the fleet metrics');
    }
    const m = process.memoryUsage();
    const payload = {
      v: PAYLOAD_VERSION,
      device: this.o.deviceId,
      at: this.at(),
      rssBytes: m.rss,
      heapBytes: m.heapUsed,
      outbox: this.o.outbox.depth(),
      fleet: { ...this.counters },
      ...host,
    };
    // Stryker disable next-line ObjectLiteral: QoS 0 is MQTT.js's default: { qos: 0 } and {} send the same packet
    this.client.publish(topic(this.o.fleet.prefix, this.o.deviceId, 'metrics'), JSON.stringify(payload), { qos: 0 });
  }

  private trim(): void {
    try {
      const n = this.o.outbox.trim(this.o.fleet.outboxMaxEvents, this.o.fleet.outboxMaxAgeDays * 86_400_000, this.o.ageClock);
      if (n > 0) this.o.log.warn({ event: 'fleet-outbox-dropped', count: n }, `fleet outbox over its cap: ${n} oldest event(s) dropped unsent`);
    } catch (err) {
      this.o.log.warn({ event: 'fleet-trim-error', err }, 'could not trim the fleet outbox');
    }
  }

  private onConnect(): void {
    this.counters.connects++;
    this.o.log.info({ event: 'fleet-connected', url: this.o.fleet.url }, 'connected to the fleet broker');
    this.client.subscribe(`${this.base}/cmd/+`, { qos: 1 }, (err) => {
      if (err) this.o.log.warn({ event: 'fleet-subscribe-failed', err: { message: err.message } }, 'could not subscribe to commands');
    });
    this.publishStatus();
    this.pump();
  }

  private pump(): void {
    if (this.stopped || !this.client.connected) return;
    const room = this.window - this.inflight;
    if (room <= 0) return;
    let rows: OutboxRow[];
    try {
      rows = this.o.outbox.pending(this.cursor, room);
    } catch (err) {
      this.o.log.warn({ event: 'fleet-outbox-error', err }, 'could not read the fleet outbox');
      return;
    }
    for (const row of rows) {
      this.cursor = row.seq;
      this.inflight++;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(row.data) as Record<string, unknown>;
      } catch {
        data = { unreadable: true };
      }
      const ev: EventPayload = { v: PAYLOAD_VERSION, id: row.id, seq: row.seq, device: this.o.deviceId, type: row.type, at: row.at, data };
      this.client.publish(`${this.base}/events`, JSON.stringify(ev), { qos: 1 }, (err) => {
        this.inflight--;
        if (err) {
          // The client was ended (the event goes out at the next start), or the broker refused it (MQTT 5
          // PUBACK reason, e.g. "Not authorized": an ACL problem). Either way it stays in the outbox, in
          // order, and is tried again at the next poll; nothing after it overtakes it.
          this.cursor = Math.min(this.cursor, row.seq - 1);
          const t = this.mono();
          if (!this.stopped && t - this.lastRefusedPublishLog >= 60_000) {
            this.lastRefusedPublishLog = t;
            this.o.log.warn({ event: 'fleet-publish-refused', seq: row.seq, err: { message: err.message, code: (err as { code?: unknown }).code } }, `the broker did not take event ${row.seq} (${err.message}); kept in the journal, retried (check the broker's ACL for ${this.base}/events)`);
          }
          return;
        }
        this.counters.published++;
        this.acked.push(row.seq);
        this.scheduleRemove();
        this.pump();
      });
    }
  }

  private scheduleRemove(): void {
    if (this.removeTimer) return;
    this.removeTimer = setTimeout(() => this.removeAcked(), this.o.removeDelayMs ?? 200);
    this.removeTimer.unref();
  }

  private removeAcked(): void {
    this.removeTimer = undefined;
    const seqs = this.acked.splice(0);
    try {
      this.o.outbox.remove(seqs);
    } catch (err) {
      // Kept in the outbox: sent again at the next start (the event id lets the consumer drop it).
      this.o.log.warn({ event: 'fleet-outbox-error', err }, 'could not remove acknowledged events');
    }
  }

  private onMessage(t: string, payload: Buffer, packet: IPublishPacket): void {
    const prefix = `${this.base}/cmd/`;
    if (!t.startsWith(prefix)) return;
    const name = t.slice(prefix.length);
    const responseTopic = packet.properties?.responseTopic;
    const correlationData = packet.properties?.correlationData;
    // No rejection of the command path may end the process (an unhandled rejection does): logged, and answered
    // on the kiosk's own reply topic when it can be.
    this.command(name, payload, responseTopic, correlationData).catch((err: unknown) => {
      // A name longer than NAME_ECHO is refused by the check (a refusal does not throw): only COMMAND_NAMES names, all
      // shorter, reach a handler that can throw; the slices below keep the bound should that change.
      // Stryker disable next-line MethodExpression: equivalent, see above
      this.o.log.error({ event: 'fleet-command-error', name: name.slice(0, NAME_ECHO), err }, 'remote command failed inside the kiosk');
      try {
        // Stryker disable next-line MethodExpression: equivalent, as said above
        this.reply(undefined, correlationData, { v: PAYLOAD_VERSION, device: this.o.deviceId, name: name.slice(0, NAME_ECHO), nonce: null, at: this.at(), ok: false, error: 'failed inside the kiosk (see its log)' });
      } catch {
        /* nothing more to do: logged above */
      }
    });
  }

  /** The wall clock's time as ISO text; an out-of-range clock reading is said as such, never thrown. */
  private at(): string {
    const d = new Date(this.now());
    return Number.isNaN(d.getTime()) ? 'invalid time' : d.toISOString();
  }

  private async command(name: string, payload: Buffer, responseTopic: string | undefined, correlationData: Buffer | undefined): Promise<void> {
    const checked = checkCommand(payload, this.keys, this.o.deviceId, name);
    let nonce: string | null = null;
    // Until the signature is checked, nothing the message says is believed: a refusal of an unauthenticated
    // message goes to the kiosk's own reply topic only, never to a topic the sender names (any client of the
    // broker could make the kiosk publish to its own events or another kiosk's status).
    const refuse = (reason: string, replyTo?: string): void => {
      this.counters.refusedCommands++;
      // Anyone who may publish to the broker can send garbage: at most one log line a second (the rest counted).
      const t = this.mono();
      if (t - this.lastRefusalLog >= 1000) {
        this.o.log.warn({ event: 'fleet-command-refused', name: name.slice(0, 40), reason, suppressed: this.refusalsSuppressed }, `remote command refused: ${reason}`);
        this.lastRefusalLog = t;
        this.refusalsSuppressed = 0;
      } else this.refusalsSuppressed++;
      this.reply(replyTo, correlationData, { v: PAYLOAD_VERSION, device: this.o.deviceId, name: name.slice(0, NAME_ECHO), nonce, at: this.at(), ok: false, error: `refused: ${reason.slice(0, REASON_ECHO)}` });
    };
    if (!checked.ok) return refuse(checked.reason);
    const body = checked.body;
    nonce = body.nonce;
    const replyTo = responseTopic ?? body.replyTo;
    const windowMs = this.o.fleet.commandWindowS * 1000;
    const skew = body.ts - this.now();
    if (Math.abs(skew) > windowMs) {
      // Stryker disable next-line EqualityOperator: skew is never 0 here (|skew| > windowMs > 0): < 0 and <= 0 agree
      const way = skew < 0 ? 'old' : 'in the future';
      return refuse(`timestamp ${new Date(body.ts).toISOString()} is ${Math.round(Math.abs(skew) / 1000)} s ${way} (window ±${this.o.fleet.commandWindowS} s; check both clocks)`, replyTo);
    }
    let verdict;
    try {
      verdict = this.o.outbox.acceptNonce(body.nonce, body.ts, 2 * windowMs);
    } catch (err) {
      return refuse(`nonce store unavailable: ${(err as Error).message}`, replyTo);
    }
    if (verdict === 'replay') return refuse('replayed (nonce already used)', replyTo);
    if (verdict === 'too-old') return refuse('older than a newer accepted command by more than twice the window', replyTo);
    this.counters.commands++;
    this.o.log.info({ event: 'fleet-command', name, nonce }, `remote command ${name}`);
    const handler = (COMMAND_NAMES as readonly string[]).includes(name) ? this.o.host.commands[name] : undefined;
    let reply: CommandReply;
    const badArgs = handler ? unknownArgs(name as CommandName, body.args) : undefined;
    if (!handler) reply = { v: PAYLOAD_VERSION, device: this.o.deviceId, name, nonce, at: this.at(), ok: false, error: `not supported: ${name}` };
    else if (badArgs) reply = { v: PAYLOAD_VERSION, device: this.o.deviceId, name, nonce, at: this.at(), ok: false, error: badArgs };
    else {
      try {
        reply = { v: PAYLOAD_VERSION, device: this.o.deviceId, name, nonce, at: this.at(), ok: true, result: await handler(body.args) };
      } catch (err) {
        reply = { v: PAYLOAD_VERSION, device: this.o.deviceId, name, nonce, at: this.at(), ok: false, error: (err as Error)?.message ?? String(err) };
      }
    }
    this.reply(replyTo, correlationData, reply);
  }

  private reply(to: string | undefined, correlationData: Buffer | undefined, reply: CommandReply): void {
    if (this.stopped) return;
    const dest = to && !/[+#]/.test(to) ? to : `${this.base}/reply`;
    this.client.publish(dest, JSON.stringify(reply), { qos: 1, ...(correlationData ? { properties: { correlationData } } : {}) });
  }

  /** A clean stop: status offline (retained, replacing the Last Will's job), then disconnect. */
  async stop(timeoutMs = 1000): Promise<void> {
    if (this.stopped) return;
    clearInterval(this.statusTimer);
    clearInterval(this.metricsTimer);
    clearInterval(this.pollTimer);
    clearTimeout(this.removeTimer);
    this.removeAcked();
    const done = new Promise<void>((resolve) => {
      if (!this.client.connected) return resolve();
      const p = { ...this.statusPayload(false), reason: 'stopped' };
      this.client.publish(topic(this.o.fleet.prefix, this.o.deviceId, 'status'), JSON.stringify(p), { qos: 1, retain: true }, () => resolve());
    });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([done, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
    clearTimeout(timer);
    this.stopped = true;
    this.removeAcked();
    // A DISCONNECT (not a dropped socket): the broker then discards the Last Will, so the retained status
    // stays "stopped" instead of "lost". Bounded: a broker that does not answer gets the socket closed.
    const connectedNow = this.client.connected;
    await new Promise<void>((resolve) => {
      // Not end(true): while the first end() is under way MQTT.js only calls a second one back, socket left open.
      const t = setTimeout(() => {
        this.client.stream.destroy();
        resolve();
      }, timeoutMs);
      this.client.end(!connectedNow, {}, () => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
