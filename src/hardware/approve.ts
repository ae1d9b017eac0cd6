// The approve output (vend relay): pulse(ms) releases the product and resolves when the pulse is over.
export interface ApproveOutput {
  open(): Promise<void>;
  /** Drives the output active for ms (default: the configured pulseMs); pulses never overlap. */
  pulse(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Serializes pulses: a second pulse starts only after the first has ended. */
export class PulseQueue {
  private tail: Promise<void> | null = null;
  run(fn: () => Promise<void>): Promise<void> {
    // When idle the pulse starts synchronously: the relay timing does not wait for a microtask.
    const next = this.tail ? this.tail.then(fn) : fn();
    const settled = next.catch(() => {});
    this.tail = settled;
    void settled.then(() => {
      if (this.tail === settled) this.tail = null;
    });
    return next;
  }
}

/** driver 'none': nothing to release (a service, not a product); resolves at once. */
export class NoApprove implements ApproveOutput {
  async open(): Promise<void> {}
  async pulse(): Promise<void> {}
  async close(): Promise<void> {}
}
