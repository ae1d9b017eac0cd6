// The daemon's control socket (src/kiosk/control.ts) through the CLI's client (src/cli/tech/control.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ControlError, startControlServer } from '../../src/kiosk/control.js';
import { controlRequest } from '../../src/cli/tech/control.js';

describe('kiosk control socket', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-ctl-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers status and reconcile, with the socket at mode 0600', async () => {
    const path = join(dir, 'kiosk.sock');
    let reconciled = 0;
    const server = await startControlServer(path, {
      status: () => ({ pid: 42, scanner: { connected: true } }),
      reconcile: async () => ({ started: ++reconciled, remaining: 0 }),
    });
    try {
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.deepEqual(await controlRequest(path, 'status'), { pid: 42, scanner: { connected: true } });
      assert.deepEqual(await controlRequest(path, 'reconcile'), { started: 1, remaining: 0 });
    } finally {
      await server.close();
    }
    await assert.rejects(controlRequest(path, 'status'), (e: ControlError) => e.code === 'E_CONTROL_NO_DAEMON');
  });
  it('passes a handler failure back as a refusal', async () => {
    const path = join(dir, 'k.sock');
    const server = await startControlServer(path, {
      status: () => ({ pid: 1 }),
      reconcile: () => {
        throw new Error('stopping');
      },
    });
    try {
      await assert.rejects(controlRequest(path, 'reconcile'), /daemon refused reconcile: stopping/);
    } finally {
      await server.close();
    }
  });
  it('replaces a stale socket file but refuses a live one and a regular file', async () => {
    const path = join(dir, 'k.sock');
    const first = await startControlServer(path, { status: () => ({ pid: 1 }), reconcile: () => ({ started: 0, remaining: 0 }) });
    await assert.rejects(startControlServer(path, { status: () => ({ pid: 2 }), reconcile: () => ({ started: 0, remaining: 0 }) }), /another daemon/);
    await first.close();
    const file = join(dir, 'plain');
    writeFileSync(file, 'x');
    await assert.rejects(startControlServer(file, { status: () => ({ pid: 2 }), reconcile: () => ({ started: 0, remaining: 0 }) }), /not a socket/);
  });
});
