// Issue 24 §2: kiosk status and kiosk doctor compare this machine's clock with the payment platform's (the Date
// header of the probe's signed answer), against a sandbox whose own clock is an hour behind (a kiosk an hour fast).
import assert from 'node:assert/strict';
import { run as status } from '../../src/cli/status.js';
import { run as doctor } from '../../src/cli/doctor.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';

const HOUR = 3600_000;

describe('kiosk status and doctor: the clock against the payment platform\'s (issue 24)', function () {
  this.timeout(10000);
  let sandbox: Sandbox;
  let k: TempKiosk;
  let behind = HOUR;
  before(async () => {
    sandbox = await startSandbox({ now: () => new Date(Date.now() - behind) });
    k = tempKiosk({ baseUrl: sandbox.baseUrl, privateKey: sandbox.merchantKeyPath!, platformCert: sandbox.platformCertPath });
  });
  after(async () => {
    k?.cleanup();
    await sandbox?.close();
  });

  it('the sandbox sends its clock in the Date header of every answer, as a real server does', async () => {
    const res = await fetch(`${sandbox.baseUrl}/pay/queryOrder`, { method: 'POST', body: '{}' });
    const date = Date.parse(res.headers.get('date') ?? '');
    assert.ok(Math.abs(Date.now() - HOUR - date) < 5000, `Date ${res.headers.get('date')}`);
  });

  it('kiosk status: a platform clock line that says by how much, and exit 1', async () => {
    const io = k.io();
    const code = await status(['--json'], io);
    const r = JSON.parse(io.stdout());
    assert.equal(code, 1);
    assert.equal(r.platformClock.state, 'wrong');
    assert.ok(Math.abs(r.platformClock.offsetMs - HOUR) < 5000, String(r.platformClock.offsetMs));
    const io2 = k.io();
    await status([], io2);
    assert.match(io2.stdout(), /^platform clock:\s+NOT OK: this kiosk's clock is fast by (1 h 0 min \d+ s|59 min 5\d s) against the payment platform's/m);
  });

  it('kiosk doctor: ✗ platform clock with the fix; within the tolerance ✓ (or · with the zone noted)', async () => {
    const io = k.io();
    const code = await doctor([], io);
    assert.equal(code, 1);
    assert.match(io.stdout(), /^✗ platform clock\s+NOT OK: this kiosk's clock is fast by (1 h|59 min)/m);
    assert.match(io.stdout(), /timedatectl set-ntp true/);
    behind = 2000;
    const io2 = k.io();
    await doctor([], io2);
    assert.match(io2.stdout(), /^[✓·] platform clock\s+ok: agrees with the payment platform's within 1 min 0 s/m);
  });
});
