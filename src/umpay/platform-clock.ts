// How far the kiosk's clock is from the payment platform's, from the platform's own answers (issue 24): the HTTP
// `Date` header of every signed answer (the instant, to the second) and `platDate` (the platform's day, signed).
// orderTime is sent in the kiosk's local time and the platform reads it as Beijing time (UTC+8): the kiosk's
// time zone must be the platform's (docs/payments.md "Clocks"). Pure apart from the clock it is given.
import { formatOrderTime } from './messages.js';

/** The platform's time zone: Beijing, UTC+8, no daylight saving time. */
export const PLATFORM_UTC_OFFSET_MIN = 480;

/** The kiosk's two clocks, as src/clock.ts has them (wall for what people and the wire read, mono for durations). */
export interface Clocks {
  wall(): number;
  mono(): number;
}

/** One signed answer's evidence of the platform's time. */
export interface TimeEvidence {
  /** The HTTP `Date` header (RFC 7231, whole seconds), when the answer had one. */
  date?: string | null;
  /** The answer's `platDate` (yyyyMMdd, the platform's day), when it had one. */
  platDate?: string;
  /** How long the exchange took, on the monotonic clock: the platform stamped its Date somewhere inside it. */
  elapsedMs: number;
}

export type ClockState = 'unknown' | 'ok' | 'wrong';

export interface ClockReading {
  state: ClockState;
  /** The kiosk's clock minus the platform's, best estimate (ms; positive: the kiosk is fast). */
  offsetMs?: number;
  /** What the evidence allows for that difference (the Date header's second and the exchange's duration). */
  lowMs?: number;
  highMs?: number;
  toleranceMs: number;
  /** When the last evidence came (ISO, the kiosk's wall clock then). */
  checkedAt?: string;
  /** The kiosk's time zone as an offset from UTC (e.g. "+08:00"), and whether it is the platform's. */
  zone: string;
  zoneIsPlatform: boolean;
  detail: string;
}

/** "+08:00" for an offset in minutes east of UTC. */
export function zoneName(minutesEast: number): string {
  const a = Math.abs(minutesEast);
  return `${minutesEast < 0 ? '-' : '+'}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
}

/** What people are told when the kiosk's zone is not the platform's ('' when it is). */
export function zoneNote(r: Pick<ClockReading, 'zone' | 'zoneIsPlatform'>): string {
  return r.zoneIsPlatform ? '' : `time zone UTC${r.zone} is not the platform's (UTC${zoneName(PLATFORM_UTC_OFFSET_MIN)}): orderTime is sent in local time, set Asia/Shanghai`;
}

/** "1 h 0 min 5 s" for people (the sign is said by the caller: fast / slow). */
export function span(ms: number): string {
  let s = Math.round(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86_400);
  s -= d * 86_400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts = [d && `${d} d`, (d || h) && `${h} h`, (d || h || m) && `${m} min`, `${s} s`].filter(Boolean);
  return parts.join(' ');
}

/**
 * The kiosk's clock against the platform's, from the evidence of its answers. The last evidence decides (a clock
 * put right by NTP is believed at the next answer); a step of the kiosk's wall clock since then (seen as a change
 * of wall − mono) moves the reading at once, without waiting for an answer.
 */
export class PlatformClock {
  private last: { offsetMs: number; lowMs: number; highMs: number; wallMinusMono: number; at: number; dayProblem?: string } | undefined;

  private readonly zoneAt: (ms: number) => number;
  private lastState: ClockState = 'unknown';

  constructor(
    private readonly clocks: Clocks,
    /** Beyond this difference the kiosk takes no new payment (config payment.clockToleranceMs). */
    readonly toleranceMs: number,
    private readonly options: {
      /** The kiosk's time zone, minutes east of UTC, at an instant (tests inject one). */
      zoneAt?: (ms: number) => number;
      /** Told when an answer changes the state (unknown → ok, ok → wrong…): the daemon logs it. */
      onChange?: (r: ClockReading) => void;
    } = {},
  ) {
    this.zoneAt = options.zoneAt ?? ((ms) => -new Date(ms).getTimezoneOffset());
  }

  /** Records one signed answer's evidence (ignored when it has none). */
  observe(e: TimeEvidence): void {
    const wall = this.clocks.wall();
    const mono = this.clocks.mono();
    const sentWall = wall - Math.max(0, e.elapsedMs);
    const dateMs = e.date ? Date.parse(e.date) : NaN;
    let offset: { offsetMs: number; lowMs: number; highMs: number } | undefined;
    if (Number.isFinite(dateMs)) {
      // The platform stamped a whole second D (its instant was in [D, D+1 s)) while our wall clock was between
      // sentWall and wall: the difference lies in (sentWall − D − 1 s, wall − D].
      const lowMs = Math.floor(sentWall - dateMs - 1000);
      const highMs = Math.ceil(wall - dateMs);
      offset = { lowMs, highMs, offsetMs: Math.round((lowMs + highMs) / 2) };
    }
    const dayProblem = e.platDate && /^[0-9]{8}$/.test(e.platDate) ? this.dayProblem(e.platDate, sentWall, wall, Number.isFinite(dateMs) ? dateMs : undefined) : undefined;
    if (!offset && !dayProblem && !e.platDate) return;
    this.last = { ...(offset ?? { offsetMs: NaN, lowMs: NaN, highMs: NaN }), wallMinusMono: wall - mono, at: wall, ...(dayProblem ? { dayProblem } : {}) };
    const r = this.reading();
    if (r.state !== this.lastState) {
      this.lastState = r.state;
      this.options.onChange?.(r);
    }
  }

  /**
   * The platform's day against ours. With the platform's instant (its Date header): the kiosk's local day at that
   * very instant, whatever our clock says, i.e. our time zone against the platform's. Without it: our day now,
   * allowed the tolerance either side.
   */
  private dayProblem(platDate: string, fromWall: number, toWall: number, platformMs: number | undefined): string | undefined {
    const day = (ms: number): string => formatOrderTime(ms).slice(0, 8);
    const within = (from: number, to: number): boolean => platDate >= day(from) && platDate <= day(to);
    if (platformMs !== undefined) {
      if (within(platformMs - 1000, platformMs + 2000)) return undefined;
      return `the platform's day is ${platDate}, this kiosk's time zone (UTC${zoneName(this.zoneAt(platformMs))}) makes it ${day(platformMs)} at the same instant: set the time zone to the platform's (Asia/Shanghai, UTC${zoneName(PLATFORM_UTC_OFFSET_MIN)})`;
    }
    if (within(fromWall - this.toleranceMs, toWall + this.toleranceMs)) return undefined;
    return `the platform's day is ${platDate}, this kiosk's clock says ${day(toWall)}`;
  }

  /** The reading now. */
  reading(): ClockReading {
    const wall = this.clocks.wall();
    const zoneMin = this.zoneAt(wall);
    const base = { toleranceMs: this.toleranceMs, zone: zoneName(zoneMin), zoneIsPlatform: zoneMin === PLATFORM_UTC_OFFSET_MIN };
    const last = this.last;
    if (!last) return { ...base, state: 'unknown', detail: 'not compared yet: no signed answer from the platform since the start' };
    // A step of our wall clock since the evidence (NTP, a person, fake-hwclock) moves the difference by as much.
    const stepped = wall - this.clocks.mono() - last.wallMinusMono;
    const checkedAt = new Date(last.at + stepped).toISOString();
    if (Number.isNaN(last.offsetMs)) {
      if (last.dayProblem) return { ...base, state: 'wrong', checkedAt, detail: last.dayProblem };
      return { ...base, state: 'unknown', checkedAt, detail: "the platform's answers carry no Date header: only its day (platDate) is compared, and it agrees" };
    }
    const step = Math.round(stepped);
    const offsetMs = last.offsetMs + step;
    const lowMs = last.lowMs + step;
    const highMs = last.highMs + step;
    const reading = { ...base, offsetMs, lowMs, highMs, checkedAt };
    const how = `${offsetMs >= 0 ? 'fast' : 'slow'} by ${span(offsetMs)}`;
    if (lowMs > this.toleranceMs || highMs < -this.toleranceMs) {
      return { ...reading, state: 'wrong', detail: `this kiosk's clock is ${how} against the payment platform's (its answer's Date header; tolerance ${span(this.toleranceMs)}): fix the time (NTP) — no new payments until it agrees` };
    }
    if (last.dayProblem) return { ...reading, state: 'wrong', detail: last.dayProblem };
    return { ...reading, state: 'ok', detail: `agrees with the payment platform's within ${span(this.toleranceMs)} (${how}, ±${span((highMs - lowMs) / 2)})` };
  }

  /** Why no new payment may be taken now, or null (unknown is not a reason: the first answer measures it). */
  problem(): string | null {
    const r = this.reading();
    return r.state === 'wrong' ? r.detail : null;
  }
}
