// The sandbox's control API under /__sandbox/ (the ledger, counters, test codes, faults, reset): what each
// request does to the running sandbox and what it answers. server.ts routes the requests here and writes the JSON.
import { testCodeExamples } from './codes.js';
import type { Fault } from './faults.js';
import type { LedgerSnapshot } from './ledger.js';

/** The sandbox as its controls see it (the Sandbox class, server.ts). */
export interface Controlled {
  ledger(): LedgerSnapshot;
  stats(): object;
  pendingFaults(): Fault[];
  setFaults(faults: Fault[], seed?: number): void;
  reset(): void;
}

/** The answer to a control request: HTTP status and the value sent as JSON. */
export function controlRequest(sandbox: Controlled, path: string, method: string, body: Buffer | null): { status: number; value: unknown } {
  const json = (status: number, value: unknown) => ({ status, value });
  if (path === '/__sandbox/orders' && method === 'GET') return json(200, sandbox.ledger());
  if (path === '/__sandbox/stats' && method === 'GET') return json(200, sandbox.stats());
  if (path === '/__sandbox/codes' && method === 'GET') return json(200, testCodeExamples());
  if (path === '/__sandbox/faults' && method === 'GET') return json(200, { faults: sandbox.pendingFaults() });
  if (path === '/__sandbox/reset' && method === 'POST') {
    sandbox.reset();
    return json(200, { ok: true });
  }
  if (path === '/__sandbox/faults' && method === 'POST') {
    try {
      const parsed: unknown = JSON.parse(body?.toString('utf8') || '[]');
      const obj = parsed as { faults?: Fault[]; seed?: number; kind?: string };
      const list = Array.isArray(parsed) ? parsed : obj && typeof obj === 'object' && 'kind' in obj ? [parsed] : (obj?.faults ?? []);
      if (obj && !Array.isArray(parsed) && obj.seed !== undefined && typeof obj.seed !== 'number') throw new Error('seed: expected a number');
      sandbox.setFaults(list as Fault[], Array.isArray(parsed) ? undefined : obj?.seed);
      return json(200, { faults: sandbox.pendingFaults() });
    } catch (err) {
      return json(400, { error: (err as Error).message });
    }
  }
  return json(404, { error: `no such control: ${method} ${path}` });
}
