// The fleet outbox: telemetry events kept in the journal until the broker has them. An order event is
// written by the transition's own transaction (Journal.stepHook), so a kill -9 at any instant neither
// loses one nor leaves one the journal did not commit, and it costs no fsync of its own. The publisher
// (src/fleet/) reads rows in order and removes them once acknowledged. Also the remote commands' nonces.
// Knows nothing of MQTT: rows are (seq, id, at, type, data).
import { randomUUID } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import { isFinal, type Journal, type OrderState } from './journal.js';
import { systemClock, type Clock } from '../clock.js';

/** What the outbox's age clock reads: monotonic time and which boot it belongs to. */
export type AgeClockSource = Pick<Clock, 'mono' | 'bootId'>;

export interface OutboxRow {
  /** Order of the events on this kiosk (the journal's autoincrement). */
  seq: number;
  /** Random UUID: unique without trusting the journal (a restored or cloned journal repeats seq). */
  id: string;
  at: string;
  type: string;
  /** JSON object text. Never a payment code, key or signature. */
  data: string;
}

export interface OutboxDepth {
  count: number;
  oldestAt: string | null;
  /** Events removed unsent by the size/age cap, ever. */
  dropped: number;
}

export type NonceVerdict = 'ok' | 'replay' | 'too-old';

/** An order event's data: what an operator's dashboard needs, nothing a thief could use. */
export interface OrderEventData {
  orderNo: string;
  amountFen: number;
  wallet: string;
  state: OrderState;
  from: OrderState;
  flags: string[];
  reason: string | null;
  /** Scan → the customer's answer (paid, declined, not sent, being reversed), from journal times. */
  secondsToVerdict: number | null;
  /** Scan → this final state. */
  seconds: number;
  /** The vending machine's product number, for an order paid over MDB (docs/mdb.md). */
  productId?: string;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;

export class Outbox {
  private readonly s: Record<string, Statement>;

  constructor(readonly journal: Journal) {
    const db = journal.db;
    this.s = {
      insert: db.prepare(`INSERT INTO outbox (id, at, type, data) VALUES (?, ?, ?, ?)`),
      order: db.prepare(`SELECT txn_amt AS txnAmt, order_type AS orderType, flag, reason, scanned_at AS scannedAt, product_id AS productId FROM orders WHERE order_no = ?`),
      // The customer's verdict: the first step out of created/unknown (paid, failed, not sent, reversing).
      verdict: db.prepare(
        `SELECT at FROM events WHERE order_no = ? AND from_state IN ('created', 'unknown') AND to_state NOT IN ('created', 'unknown') ORDER BY id LIMIT 1`,
      ),
      pending: db.prepare(`SELECT seq, id, at, type, data FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?`),
      remove: db.prepare(`DELETE FROM outbox WHERE seq IN (SELECT value FROM json_each(?))`),
      depth: db.prepare(`SELECT count(*) AS count, min(at) AS oldestAt FROM outbox`),
      metaGet: db.prepare(`SELECT value FROM meta WHERE key = ?`),
      metaSet: db.prepare(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`),
      trimCount: db.prepare(`SELECT count(*) AS n FROM outbox WHERE seq <= ?`),
      trim: db.prepare(`DELETE FROM outbox WHERE seq <= ?`),
      maxSeq: db.prepare(`SELECT coalesce(max(seq), 0) AS m FROM outbox`),
      // The seq of the (n+1)th oldest event: cut there, the n+1 oldest go.
      nthSeq: db.prepare(`SELECT seq FROM outbox ORDER BY seq LIMIT 1 OFFSET ?`),
      nonceHas: db.prepare(`SELECT 1 FROM fleet_nonces WHERE nonce = ?`),
      nonceAdd: db.prepare(`INSERT INTO fleet_nonces (nonce, ts) VALUES (?, ?)`),
      noncePrune: db.prepare(`DELETE FROM fleet_nonces WHERE ts < ?`),
    };
  }

  /**
   * From now on every transition to a final state, into `attention` or out of it adds its event in the
   * transition's transaction. Off (nothing written) until called: the daemon calls it when `fleet` is set.
   */
  captureOrderEvents(): void {
    this.journal.stepHook = (orderNo, from, to, at) => this.onStep(orderNo, from, to, at);
  }

  stopCapturing(): void {
    this.journal.stepHook = undefined;
  }

  private onStep(orderNo: string, from: OrderState, to: OrderState, at: string): void {
    if (to === 'attention') {
      const o = this.s.order!.get(orderNo) as { reason: string | null } | undefined;
      this.insert(at, 'attention', { orderNo, raised: true, from, reason: o?.reason ?? null });
    } else if (from === 'attention') {
      this.insert(at, 'attention', { orderNo, cleared: true, to });
    }
    if (!isFinal(to)) return;
    const o = this.s.order!.get(orderNo) as { txnAmt: string; orderType: string; flag: string | null; reason: string | null; scannedAt: number; productId: string | null } | undefined;
    if (!o) return;
    const verdictAt = (this.s.verdict!.get(orderNo) as { at: string } | undefined)?.at;
    const data: OrderEventData = {
      orderNo,
      amountFen: Number(o.txnAmt),
      wallet: o.orderType,
      state: to,
      from,
      flags: o.flag ? [o.flag] : [],
      reason: o.reason,
      secondsToVerdict: verdictAt ? round1((Date.parse(verdictAt) - o.scannedAt) / 1000) : null,
      seconds: round1((Date.parse(at) - o.scannedAt) / 1000),
      ...(o.productId !== null ? { productId: o.productId } : {}),
    };
    this.insert(at, 'order', data);
  }

  private insert(at: string, type: string, data: object): void {
    this.s.insert!.run(randomUUID(), at, type, JSON.stringify(data));
  }

  /**
   * An event not caused by a transition (a fault, the daily reconciliation summary), in its own
   * transaction. Any process holding the journal writable may add one; the daemon publishes it.
   */
  append(type: string, data: object, at = new Date().toISOString()): void {
    this.journal.db.transaction(() => this.insert(at, type, data)).immediate();
  }

  /** Up to `limit` events after `afterSeq`, oldest first. */
  pending(afterSeq: number, limit: number): OutboxRow[] {
    return this.s.pending!.all(afterSeq, limit) as OutboxRow[];
  }

  /**
   * Removes acknowledged events. Without an fsync of its own (synchronous=NORMAL for this commit): after a
   * power cut an event may come back and be sent again, which the event id lets a consumer drop; the
   * payment path's commits keep synchronous=FULL.
   */
  remove(seqs: readonly number[]): void {
    if (seqs.length === 0) return;
    const db = this.journal.db;
    db.pragma('synchronous = NORMAL');
    try {
      this.s.remove!.run(JSON.stringify(seqs));
    } finally {
      db.pragma('synchronous = FULL');
    }
  }

  depth(): OutboxDepth {
    const d = this.s.depth!.get() as { count: number; oldestAt: string | null };
    return { ...d, dropped: this.dropped() };
  }

  dropped(): number {
    return Number((this.s.metaGet!.get('outbox_dropped') as { value: string } | undefined)?.value ?? 0);
  }

  /**
   * Days offline are bounded: beyond `maxEvents`, or older than `maxAgeMs`, the oldest events are dropped,
   * counted (meta outbox_dropped), and a `dropped` event says how many, so a consumer sees the gap.
   *
   * Age is measured on the outbox's own clock (ageClock), never on the wall clock: a wall-clock step (NTP or
   * fake-hwclock on a Pi without an RTC, +31 days) made fresh events look a month old and dropped them. The clock
   * adds the monotonic time that passed between two calls of the same boot and nothing else (not a reboot's gap,
   * not a restored or cloned journal's): an event never looks older than it is; the count cap still bounds the rest.
   * Call it now and then (the fleet client: at start and every metrics interval): each call marks the newest event
   * with the clock's reading, and an event is as old as the first mark that covers it.
   */
  trim(maxEvents: number, maxAgeMs: number, clock: AgeClockSource = systemClock): number {
    return this.journal.db
      .transaction(() => {
        const maxSeq = (this.s.maxSeq!.get() as { m: number }).m;
        const age = this.ageClock(clock);
        const marks = this.marks().filter(([seq]) => seq <= maxSeq);
        // A new mark for the events since the last one (at most one per 1 % of the age cap: bounded meta).
        const last = marks[marks.length - 1];
        if (maxSeq > (last?.[0] ?? 0) && (!last || age - last[1] >= maxAgeMs / 100)) marks.push([maxSeq, age]);
        // Beyond the cap, the oldest go: maxEvents - 1 stay, one place left for the `dropped` event itself. At the
        // cap, nothing goes (each call would otherwise swap the oldest event for a `dropped` one, until only those
        // were left).
        const { count } = this.s.depth!.get() as { count: number };
        const keep = Math.max(1, maxEvents - 1);
        let cutSeq = count > maxEvents ? (this.s.nthSeq!.get(count - keep - 1) as { seq: number }).seq : 0;
        for (const [seq, at] of marks) if (age - at > maxAgeMs) cutSeq = Math.max(cutSeq, seq);
        const n = (this.s.trimCount!.get(cutSeq) as { n: number }).n;
        this.s.metaSet!.run('outbox_age_marks', JSON.stringify(marks.filter(([seq]) => seq > cutSeq)));
        if (n === 0) return 0;
        this.s.trim!.run(cutSeq);
        const total = this.dropped() + n;
        this.s.metaSet!.run('outbox_dropped', String(total));
        this.insert(new Date().toISOString(), 'dropped', { count: n, total, maxEvents, maxAgeMs });
        return n;
      })
      .immediate();
  }

  /** Marks [seq, age clock ms]: every event up to seq existed at that reading. Oldest first. */
  private marks(): Array<[number, number]> {
    try {
      const v = JSON.parse((this.s.metaGet!.get('outbox_age_marks') as { value: string } | undefined)?.value ?? '[]') as unknown;
      return Array.isArray(v) ? v.filter((m): m is [number, number] => Array.isArray(m) && typeof m[0] === 'number' && typeof m[1] === 'number') : [];
    } catch {
      return [];
    }
  }

  /**
   * The outbox's age clock, ms, advanced to now and stored (meta outbox_age_clock): it moves by the monotonic time
   * since the last reading when that reading was of this boot and not later than now; otherwise (a reboot, a journal
   * restored or copied to another kiosk) it stays where it was.
   */
  ageClock(clock: AgeClockSource = systemClock): number {
    const mono = clock.mono();
    let prev: { boot?: unknown; mono?: unknown; age?: unknown } = {};
    try {
      prev = JSON.parse((this.s.metaGet!.get('outbox_age_clock') as { value: string } | undefined)?.value ?? '{}') as typeof prev;
    } catch {
      prev = {};
    }
    let age = typeof prev.age === 'number' && Number.isFinite(prev.age) ? prev.age : 0;
    if (prev.boot === clock.bootId && typeof prev.mono === 'number' && mono >= prev.mono) age += mono - prev.mono;
    this.s.metaSet!.run('outbox_age_clock', JSON.stringify({ boot: clock.bootId, mono, age }));
    return age;
  }

  /**
   * Remembers a remote command's nonce. Refused: a nonce seen before ('replay'), or a timestamp more than
   * `keepMs` older than the newest accepted command's ('too-old': its nonce may have been forgotten).
   * Pruning follows the commands' own signed timestamps, never the kiosk's wall clock, so a clock step
   * (or a restart) does not reopen the door to a replay.
   */
  acceptNonce(nonce: string, ts: number, keepMs: number): NonceVerdict {
    return this.journal.db
      .transaction((): NonceVerdict => {
        const newest = Number((this.s.metaGet!.get('fleet_nonce_newest') as { value: string } | undefined)?.value ?? 0);
        if (ts < newest - keepMs) return 'too-old';
        if (this.s.nonceHas!.get(nonce)) return 'replay';
        this.s.nonceAdd!.run(nonce, ts);
        if (ts > newest) {
          this.s.metaSet!.run('fleet_nonce_newest', String(ts));
          this.s.noncePrune!.run(ts - keepMs);
        }
        return 'ok';
      })
      .immediate();
  }
}
