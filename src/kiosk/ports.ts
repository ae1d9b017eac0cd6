// The narrow ports the customer interaction needs from the engine and the hardware. The daemon adapts the
// real modules to these; tests pass fakes. The types in them are the owners' own (payment engine,
// indicator); time is src/clock.ts.
import type { Pattern } from '../hardware/indicator.js';
import type { CustomerResult, DeliverEvidence, PayHooks, PaymentRequest, VendReport } from '../payment/engine.js';

export type { Pattern, CustomerResult, DeliverEvidence, PayHooks, PaymentRequest, VendReport };

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

export interface EnginePort {
  pay(req: PaymentRequest, hooks: PayHooks): Promise<CustomerResult>;
}
