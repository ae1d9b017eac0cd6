// The approve output (vend relay): pulse(ms) releases the product and resolves when the pulse is over.
export interface ApproveOutput {
  open(): Promise<void>;
  /** Drives the output active for ms (default: the configured pulseMs); pulses never overlap. */
  pulse(ms?: number): Promise<void>;
  close(): Promise<void>;
}

/** Serializes pulses: a second pulse starts only after the first has ended. */
export class PulseQueue {
  private tail: Promise<void> = Promise.resolve();
  run(fn: () => Promise<void>): Promise<void> {
    const next = this.tail.then(fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

/** driver 'none': nothing to release (a service, not a product); resolves at once. */
export class NoApprove implements ApproveOutput {
  async open(): Promise<void> {}
  async pulse(): Promise<void> {}
  async close(): Promise<void> {}
}
