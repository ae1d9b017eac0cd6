// A sandbox, a gateway to it and a journal, for tests of the settlement download and reconciliation.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { startSandbox, type Sandbox, type SandboxOptions } from '../../src/sandbox/index.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { SP } from './helpers.js';

export interface SettleWorld {
  sb: Sandbox;
  /** A new temp folder per test (the journal is journal.sqlite in it). */
  dir: string;
  gw: HttpGateway;
  journal: Journal;
}

/**
 * Mocha hooks of the calling describe: one sandbox for its tests; per test a reset, a new folder, gateway and
 * journal.
 */
export function settleWorld(prefix: string, options: SandboxOptions = {}): SettleWorld {
  const w = {} as SettleWorld;
  before(async () => {
    w.sb = await startSandbox(options);
  });
  after(async () => {
    await w.sb.close();
  });
  beforeEach(() => {
    w.sb.reset();
    w.dir = mkdtempSync(join(tmpdir(), prefix));
    w.gw = new HttpGateway({ baseUrl: w.sb.baseUrl, merchant: SP, privateKey: loadPrivateKey(w.sb.merchantKeyPath!), platformKey: w.sb.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 3000 });
    w.journal = openJournal(join(w.dir, 'journal.sqlite'));
  });
  afterEach(() => {
    w.gw.close();
    w.journal.close();
    rmSync(w.dir, { recursive: true, force: true });
  });
  return w;
}
