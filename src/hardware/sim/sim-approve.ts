// Simulated approve output: records each pulse and emits 'pulse' start/end for the demo panel.
import { EventEmitter } from 'node:events';
import { PulseQueue, type ApproveOutput } from '../approve.js';
import { realTimers, type Timers } from '../timers.js';

export interface SimApproveOptions {
  pulseMs?: number;
  timers?: Timers;
}

export interface PulseRecord { startedAt: number; ms: number; endedAt: number | null }

/** Events: 'pulse' ({active: boolean, ms}). */
export class SimApprove extends EventEmitter implements ApproveOutput {
  readonly pulses: PulseRecord[] = [];
  private readonly queue = new PulseQueue();
  private readonly timers: Timers;

  constructor(private readonly options: SimApproveOptions = {}) {
    super();
    this.timers = options.timers ?? realTimers;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  pulse(ms = this.options.pulseMs ?? 500): Promise<void> {
    return this.queue.run(
      () =>
        new Promise<void>((resolve) => {
          const rec: PulseRecord = { startedAt: this.timers.now(), ms, endedAt: null };
          this.pulses.push(rec);
          this.emit('pulse', { active: true, ms });
          this.timers.setTimeout(() => {
            rec.endedAt = this.timers.now();
            this.emit('pulse', { active: false, ms });
            resolve();
          }, ms);
        }),
    );
  }
}
