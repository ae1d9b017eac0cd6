// Every default of the config, as plain constants (no zod): the one place a default is written. The schema
// takes them as its `.default()`s (sections/*.ts, display.ts, fleet.ts, approve-confirm.ts), and the code that
// runs without the schema reads them from here: the payment engine (the crash harness starts ~140 engine
// processes), the interaction's timing and the hardware drivers (a driver module must not load zod and the
// whole schema: cold start, docs/performance.md). test/config/defaults.test.ts holds the schema's defaults
// equal to these, field by field.

/** The sections every config has (absent ones are filled with these). */
export const DEFAULTS = {
  merchant: { goodsId: '', goodsInfo: '' },
  gateway: { connectTimeoutMs: 3_000, timeoutMs: 10_000 },
  payment: {
    customerWindowMs: 60_000,
    queryIntervalMs: 3_000,
    codeValidityMs: 45_000,
    recoveryConcurrency: 4,
    maxAmountFen: 100_000,
    clockToleranceMs: 60_000,
  },
  scanner: {
    path: '',
    baudRate: 9600,
    terminator: 'CR',
    prefix: '',
    suffix: '',
    maxLineLength: 64,
    reopenMinMs: 500,
    reopenMaxMs: 30_000,
    module: 'plain',
    model: '',
    setup: 'apply',
    trigger: 'continuous',
    readWindowMs: 5_000,
    reReadDelayMs: 3_000,
    moduleBeep: false,
  },
  keypad: {
    driver: 'none',
    layout: 'matrix',
    // Pins match device/WIRING.md.
    rows: [5, 6, 13, 19],
    cols: [12, 16, 20],
    keys: '123456789*0#',
    pins: {},
    debounceMs: 30,
    activeLow: true,
  },
  indicator: {
    driver: 'log',
    io: 'gpio',
    firmataPort: '',
    pins: { green: 17, red: 27, amber: 22, buzzer: 18 },
    buzzer: 'active',
  },
  approve: { driver: 'none', pin: 23, pulseMs: 500, activeLow: false },
  display: { driver: 'none', cols: 16, rows: 2, address: 0x27, i2cBus: 1, resultMs: 3_000, texts: {} },
  pricing: { items: {}, entryTimeoutMs: 20_000 },
  daemon: { graceMs: 5_000, controlSocket: '', lockFile: '', settleAt: '09:30', settleDir: '' },
  log: { level: 'info' },
} as const;

/** `approve.confirm` (the vend sensor), when the section is there: absent means no sensor. */
export const CONFIRM_DEFAULTS = {
  pin: 24,
  activeLow: true,
  debounceMs: 5,
  confirmWithinMs: 3_000,
  retry: false,
  brokenAfter: 3,
  stuckAfterMs: 5_000,
  simMiss: [],
} as const;

/** The `fleet` section, when it is there: absent means telemetry off. */
export const FLEET_DEFAULTS = {
  prefix: 'kiosk',
  protocolVersion: 5,
  keepaliveS: 30,
  reconnectMs: 5_000,
  statusIntervalMs: 60_000,
  metricsIntervalMs: 300_000,
  outboxMaxEvents: 50_000,
  outboxMaxAgeDays: 30,
  commandWindowS: 120,
} as const;
