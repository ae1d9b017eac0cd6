// Fault injection for the next requests, and the platform's rate limit (token bucket → `37`).

export type FaultKind =
  | 'latency'
  | 'http-500'
  | 'html'
  | 'truncated-json'
  | 'bad-signature'
  | 'drop-before-charge'
  | 'drop-after-charge'
  | 'rate-limit'
  /** A signed answer `99` (other: unclear), the request not processed. */
  | 'answer-99'
  /** downloadSettleFile: the connection drops halfway through the file. */
  | 'settle-drop'
  /** downloadSettleFile: the second half of the file is replaced with bytes that are neither UTF-8 nor GBK. */
  | 'settle-corrupt';

export const FAULT_KINDS: readonly FaultKind[] = ['latency', 'http-500', 'html', 'truncated-json', 'bad-signature', 'drop-before-charge', 'drop-after-charge', 'rate-limit', 'answer-99', 'settle-drop', 'settle-corrupt'];

export interface Fault {
  kind: FaultKind;
  /** How many matching requests it hits; default 1; `Infinity` (or -1 over JSON) for every one. */
  count?: number;
  /** Only requests to this path (`/pay/micropay` or just `micropay`). */
  path?: string;
  /** Chance per matching request (0–1, default 1), drawn from the seeded generator. */
  probability?: number;
  /** latency: milliseconds added. */
  ms?: number;
  /** latency: wait after processing (the charge happens first, then the answer is late). Default: before. */
  after?: boolean;
  /** http-500 / html: process the request (charge) before answering with the error. Default: not processed. */
  charge?: boolean;
}

/** The faults hitting one request: total added latency and at most one other fault. */
export interface FaultHit {
  latencyBeforeMs: number;
  latencyAfterMs: number;
  fault?: Fault;
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Checks one fault from outside (JSON, CLI); throws an Error naming the bad field. */
export function parseFault(input: unknown, where = 'fault'): Required<Pick<Fault, 'kind' | 'count'>> & Fault {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw new Error(`${where}: expected an object with "kind"`);
  const f = input as Record<string, unknown>;
  const known = new Set(['kind', 'count', 'path', 'probability', 'ms', 'after', 'charge']);
  for (const k of Object.keys(f)) if (!known.has(k)) throw new Error(`${where}.${k}: unknown field (known: ${[...known].join(', ')})`);
  if (!FAULT_KINDS.includes(f.kind as FaultKind)) throw new Error(`${where}.kind: ${JSON.stringify(f.kind)} is not one of ${FAULT_KINDS.join(', ')}`);
  let count = f.count === undefined ? 1 : f.count;
  if (count === -1 || count === null) count = Infinity;
  if (typeof count !== 'number' || !(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new Error(`${where}.count: ${JSON.stringify(f.count)} is not a whole number ≥ 0 (or -1 for always)`);
  if (f.path !== undefined && typeof f.path !== 'string') throw new Error(`${where}.path: expected a string`);
  if (f.probability !== undefined && (typeof f.probability !== 'number' || f.probability < 0 || f.probability > 1)) throw new Error(`${where}.probability: expected a number from 0 to 1`);
  if (f.ms !== undefined && (typeof f.ms !== 'number' || !(f.ms >= 0))) throw new Error(`${where}.ms: expected milliseconds ≥ 0`);
  if (f.kind === 'latency' && f.ms === undefined) throw new Error(`${where}.ms: latency needs ms`);
  for (const b of ['after', 'charge'] as const) if (f[b] !== undefined && typeof f[b] !== 'boolean') throw new Error(`${where}.${b}: expected true or false`);
  return { ...(f as unknown as Fault), count };
}

/** `NAME[:COUNT]` as the CLI takes it; for latency COUNT is the milliseconds (`latency:300`, every request). */
export function parseFaultFlag(text: string): Fault {
  const [name, arg] = text.split(':', 2);
  if (name === 'latency') {
    const ms = Number(arg);
    if (!arg || !Number.isFinite(ms) || ms < 0) throw new Error(`--fault latency:MS needs milliseconds, got ${JSON.stringify(text)}`);
    return { kind: 'latency', ms, count: Infinity };
  }
  if (!FAULT_KINDS.includes(name as FaultKind)) throw new Error(`--fault ${JSON.stringify(text)}: unknown fault; one of ${FAULT_KINDS.join(', ')}`);
  const count = arg === undefined ? 1 : arg === '*' ? Infinity : Number(arg);
  if (!(count === Infinity || (Number.isInteger(count) && count >= 0))) throw new Error(`--fault ${JSON.stringify(text)}: COUNT must be a whole number or *`);
  return { kind: name as FaultKind, count };
}

function pathMatches(filter: string | undefined, path: string): boolean {
  if (!filter) return true;
  return filter === path || `/pay/${filter.replace(/^\//, '')}` === path;
}

export class FaultPlan {
  private faults: Array<Fault & { count: number }> = [];
  private random: () => number;

  constructor(seed = 1) {
    this.random = seededRandom(seed);
  }

  set(faults: readonly Fault[], seed?: number): void {
    this.faults = faults.map((f, i) => parseFault(f, `faults[${i}]`));
    if (seed !== undefined) this.random = seededRandom(seed);
  }

  add(fault: Fault): void {
    this.faults.push(parseFault(fault));
  }

  pending(): Fault[] {
    return this.faults.map((f) => ({ ...f, count: f.count === Infinity ? -1 : f.count }));
  }

  /** Consumes the faults that hit a request to `path`. */
  take(path: string): FaultHit {
    const hit: FaultHit = { latencyBeforeMs: 0, latencyAfterMs: 0 };
    for (const f of this.faults) {
      if (f.count <= 0 || !pathMatches(f.path, path)) continue;
      // The settlement faults hit only the file download, the others only the six calls.
      if (f.kind.startsWith('settle-') !== (path === '/pay/downloadSettleFile')) continue;
      if (f.kind !== 'latency' && hit.fault) continue;
      if (f.probability !== undefined && f.probability < 1 && this.random() >= f.probability) continue;
      f.count--;
      if (f.kind === 'latency') {
        if (f.after) hit.latencyAfterMs += f.ms ?? 0;
        else hit.latencyBeforeMs += f.ms ?? 0;
      } else hit.fault = { ...f };
    }
    this.faults = this.faults.filter((f) => f.count > 0);
    return hit;
  }
}

/** Token bucket: `perSecond` refill, `burst` capacity. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(readonly perSecond: number, readonly burst: number = Math.max(1, perSecond), private readonly clock: () => number = () => performance.now()) {
    if (!(perSecond > 0)) throw new Error(`rateLimit.perSecond must be > 0, got ${perSecond}`);
    this.tokens = this.burst;
    this.last = clock();
  }

  tryTake(): boolean {
    const t = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) / 1000) * this.perSecond);
    this.last = t;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}
