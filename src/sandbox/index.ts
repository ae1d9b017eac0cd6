// The sandbox gateway's public surface (tests, the demo, benchmarks and drills import from here).
export { Sandbox, type SandboxStats, type SandboxEvent } from './server.js';
export { startSandbox, isLoopbackHost, type SandboxOptions, type KeySource } from './start.js';
export { testCode, behaviourOf, testCodeExamples, TEST_CODES, DEFAULT_PENDING_QUERIES, type Behaviour, type TestCodeInfo } from './codes.js';
export { FAULT_KINDS, parseFault, parseFaultFlag, seededRandom, type Fault, type FaultKind } from './faults.js';
export { Ledger, type LedgerOrder, type LedgerRefund, type LedgerSnapshot, type OrderState } from './ledger.js';
export { settlementCsv, settlementRows, settlementFileName, normaliseStlDate, SETTLEMENT_COLUMNS, SANDBOX_FEE_RATE, type SettlementRow } from './settlement.js';
export { selfSignedCertificate, certificatePem } from './cert.js';
