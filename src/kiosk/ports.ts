// The narrow ports the customer interaction needs from the engine, the hardware and time. The
// daemon adapts the real modules to these; tests pass fakes. Keeping them here (and small) lets the
// interaction be tested on its own, with a fake clock.

/** Indicator patterns, as src/hardware/ names them. */
export type Pattern =
  | 'idle'
  | 'ready'
  | 'processing'
  | 'confirm-on-phone'
  | 'window-ending'
  | 'success'
  | 'failure'
  | 'not-charged'
  | 'bad-code'
  | 'not-now'
  | 'offline'
  | 'fault'
  | 'clock-fault';

export interface IndicatorPort {
  show(pattern: Pattern, info?: { orderNo?: string }): void;
}

/** The character display as the interaction needs it: lines in, cut and padded by the driver. */
export interface DisplayPort {
  readonly geometry: { cols: number; rows: number };
  show(lines: readonly string[]): void;
}

export interface ApprovePort {
  /** Releases the product: drives the vend relay for `ms`, resolves when the pulse is over. */
  pulse(ms: number): Promise<void>;
}

export interface PaymentRequest {
  authCode: string;
  amountFen: number;
  goodsId?: string;
  goodsInfo?: string;
}

/** What the engine tells the customer side. Mirrors docs/ARCHITECTURE.md. */
export type CustomerResult =
  | { kind: 'approved'; orderNo: string }
  | { kind: 'declined'; orderNo: string; code: string; reason: string }
  | { kind: 'not-charged'; orderNo: string; reason: string; vend?: 'failed' | 'sensor-fault' }
  // orderNo only when an order was journaled (offline: every send provably never left).
  | { kind: 'refused'; reason: 'bad-code' | 'duplicate' | 'busy' | 'clock' | 'offline' | 'stopping'; detail: string; orderNo?: string };

export interface PayHooks {
  deliver(orderNo: string, evidence: { sensed(): void }): Promise<void>;
  progress?(state: string): void;
}

export interface EnginePort {
  pay(req: PaymentRequest, hooks: PayHooks): Promise<CustomerResult>;
}

export type TimerHandle = unknown;

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    // Interaction timers never keep a stopping process alive.
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
