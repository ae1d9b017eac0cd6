// The one fake of src/clock.ts for every test: time moves only when a test says so. The wall clock and
// the monotonic clock are separate, so a test can step the wall clock (NTP, fake-hwclock) without
// moving any deadline: stepWall(). Timers are monotonic, like the real ones.
//   tick(ms)     synchronous: fires what falls due (drivers, the customer interaction)
//   advance(ms)  asynchronous: lets promises settle between timers (the engine)
//   run(p)       fires timers in order until `p` settles
import { Halted, type Clock } from '../src/clock.js';

interface Task {
  id: number;
  at: number;
  every: number | null;
  fire: () => void;
}

const flush = async (): Promise<void> => {
  for (let i = 0; i < 4; i++) await new Promise((r) => setImmediate(r));
};

export class FakeClock implements Clock {
  private m = 0;
  private wallOffset: number;
  private seq = 0;
  private readonly tasks = new Map<number, Task>();

  /**
   * `wall`: the wall clock at monotonic 0 (default 2026-06-01 10:00 local). `bootId`: another value
   * stands for a reboot (monotonic readings of another boot are not comparable).
   */
  constructor(
    wall = new Date(2026, 5, 1, 10, 0, 0).getTime(),
    readonly bootId = 'fake-boot',
  ) {
    this.wallOffset = wall;
  }

  mono(): number {
    return this.m;
  }
  wall(): number {
    return this.wallOffset + this.m;
  }
  /** Steps the wall clock by `ms` (either way); monotonic time and every timer stay where they are. */
  stepWall(ms: number): void {
    this.wallOffset += ms;
  }
  /** Sets the wall clock (as `date -s` would). */
  setWall(ms: number): void {
    this.wallOffset = ms - this.m;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(new Halted());
      const onAbort = (): void => {
        this.tasks.delete(id);
        reject(new Halted());
      };
      const id = this.add(ms, null, () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
  setTimeout(fn: () => void, ms: number): number {
    return this.add(ms, null, fn);
  }
  clearTimeout(h: unknown): void {
    this.tasks.delete(h as number);
  }
  setInterval(fn: () => void, ms: number): number {
    return this.add(Math.max(1, ms), Math.max(1, ms), fn);
  }
  clearInterval(h: unknown): void {
    this.tasks.delete(h as number);
  }

  /** Timers and sleeps not yet fired. */
  get pending(): number {
    return this.tasks.size;
  }

  /** Timers and sleeps fired so far (each one a wakeup of a real process). */
  fired = 0;

  /** The periods of the intervals that are set, in ms. */
  intervals(): number[] {
    return [...this.tasks.values()].filter((t) => t.every !== null).map((t) => t.every!);
  }

  /** Synchronous: runs every task due within the next `ms`, in time order. */
  tick(ms: number): void {
    const end = this.m + ms;
    for (let next = this.next(end); next; next = this.next(end)) this.fire(next);
    this.m = end;
  }

  /** Moves time forward by `ms`, letting promises settle before each timer fires. */
  async advance(ms: number): Promise<void> {
    const end = this.m + ms;
    for (;;) {
      await this.settle();
      const next = this.next(end);
      if (!next) break;
      this.fire(next);
    }
    this.m = end;
    await this.settle();
  }

  /** Fires timers in time order until `p` settles; fails when nothing is left to run or past `limitMs`. */
  async run<T>(p: Promise<T>, limitMs = 7 * 24 * 3600_000): Promise<T> {
    let settled = false;
    p.then(
      () => (settled = true),
      () => (settled = true),
    );
    const end = this.m + limitMs;
    for (;;) {
      await this.settle();
      if (settled) return p;
      const next = this.next(Infinity);
      if (!next) throw new Error('fake clock: promise still pending and no timer left to fire');
      if (next.at > end) throw new Error(`fake clock: not settled within ${limitMs} ms`);
      this.fire(next);
    }
  }

  /** What must settle before time may jump: pending microtasks here; real I/O too in the offline drills. */
  protected settle(): Promise<void> {
    return flush();
  }

  private add(ms: number, every: number | null, fire: () => void): number {
    const id = ++this.seq;
    this.tasks.set(id, { id, at: this.m + Math.max(0, ms), every, fire });
    return id;
  }

  private next(end: number): Task | null {
    let next: Task | null = null;
    for (const t of this.tasks.values()) if (t.at <= end && (!next || t.at < next.at || (t.at === next.at && t.id < next.id))) next = t;
    return next;
  }

  private fire(t: Task): void {
    this.m = Math.max(this.m, t.at);
    if (t.every !== null) t.at += t.every;
    else this.tasks.delete(t.id);
    this.fired++;
    t.fire();
  }
}
