// Defaults the payment engine reads without loading the config schema: importing the schema (zod and every
// section) costs each engine process ~0.1 s of CPU, and the crash harness starts ~140 of them. The schema takes
// these as its defaults (sections/payment.ts): still one definition.
export const PAYMENT_DEFAULTS = {
  customerWindowMs: 60_000,
  queryIntervalMs: 3_000,
  codeValidityMs: 45_000,
  recoveryConcurrency: 4,
  maxAmountFen: 100_000,
  clockToleranceMs: 60_000,
} as const;
