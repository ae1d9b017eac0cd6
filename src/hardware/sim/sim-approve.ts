// Simulated approve output: records each pulse and emits 'pulse' start/end for the demo panel.
import { EventEmitter } from 'node:events';
import { PulseQueue, type ApproveOutput } from '../approve.js';
import { systemClock, type Clock } from '../../clock.js';
import { DEFAULTS } from '../../config/defaults.js';

export interface SimApproveOptions {
  pulseMs?: number;
  timers?: Clock;
}

export interface PulseRecord { startedAt: number; ms: number; endedAt: number | null }

/** Events: 'pulse' ({active: boolean, ms}). */
export class SimApprove extends EventEmitter implements ApproveOutput {
  readonly pulses: PulseRecord[] = [];
  private readonly queue = new PulseQueue();
  private readonly timers: Clock;

  constructor(private readonly options: SimApproveOptions = {}) {
    super();
    this.timers = options.timers ?? systemClock;
  }

  async open(): Promise<void> {}
  async close(): Promise<void> {}

  pulse(ms = this.options.pulseMs ?? DEFAULTS.approve.pulseMs): Promise<void> {
    return this.queue.run(
      () =>
        new Promise<void>((resolve) => {
          const rec: PulseRecord = { startedAt: this.timers.mono(), ms, endedAt: null };
          this.pulses.push(rec);
          this.emit('pulse', { active: true, ms });
          this.timers.setTimeout(() => {
            rec.endedAt = this.timers.mono();
            this.emit('pulse', { active: false, ms });
            resolve();
          }, ms);
        }),
    );
  }
}
