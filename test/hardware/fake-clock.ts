// A deterministic clock implementing the drivers' Timers: time moves only when a test calls tick().
import type { Timers } from '../../src/hardware/timers.js';

interface Task { id: number; at: number; fn: () => void; every: number | null }

export class FakeClock implements Timers {
  private t = 0;
  private seq = 0;
  private tasks = new Map<number, Task>();

  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.tasks.set(id, { id, at: this.t + Math.max(0, ms), fn, every: null });
    return id;
  }
  setInterval(fn: () => void, ms: number): number {
    const id = ++this.seq;
    this.tasks.set(id, { id, at: this.t + Math.max(1, ms), fn, every: Math.max(1, ms) });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.tasks.delete(h as number);
  }
  clearInterval(h: unknown): void {
    this.tasks.delete(h as number);
  }
  get pending(): number {
    return this.tasks.size;
  }
  /** Runs every task due within the next ms, in time order. */
  tick(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let next: Task | null = null;
      for (const task of this.tasks.values()) if (task.at <= end && (!next || task.at < next.at || (task.at === next.at && task.id < next.id))) next = task;
      if (!next) break;
      this.t = next.at;
      if (next.every !== null) next.at += next.every;
      else this.tasks.delete(next.id);
      next.fn();
    }
    this.t = end;
  }
}
