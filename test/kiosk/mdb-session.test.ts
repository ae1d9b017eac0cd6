// MDB session mode end to end (mdb.mode "session", for a machine without always-idle): the customer pays the pricing
// amount first, the kiosk opens the machine's session with that credit (C,START), approves a selection at exactly
// that price (C,VEND) and refunds any other. The daemon as a child process, the HAT driver on a real pty.
import assert from 'node:assert/strict';
import { testCode } from '../../src/sandbox/codes.js';
import { until } from '../wait.js';
import { MdbRig } from './mdb-rig.js';

describe('MDB session mode end to end (daemon, real pty, simulated machine)', function () {
  this.timeout(30_000);
  const rig = new MdbRig();
  const { vmc } = rig;

  before(async () => {
    await rig.start((hat) => ({
      pricing: { mode: 'fixed', amountFen: 150 },
      mdb: { path: hat, mode: 'session', approvalWindowMs: 3000, vendResultMs: 3000 },
    }));
  });

  after(() => rig.dispose());

  it('opens the session with the paid credit and approves a selection at that price: delivered (vend-success)', async () => {
    const from = vmc.received.length;
    rig.scan(testCode('paid', 'wechat'));
    const orderNo = await rig.nextOrderNo();
    await until('C,START', () => (vmc.state === 'session' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    assert.equal(vmc.sessionCredit, '1.50');
    vmc.select('1.50', '4');
    const { order, events } = await rig.final(orderNo);
    assert.equal(order.state, 'delivered');
    assert.deepEqual(vmc.received.slice(from), ['C,START,1.50', 'C,VEND,1.50']);
    assert.deepEqual(events.filter((e) => e.kind === 'vend-approved').map((e) => e.detail), ['C,START,1.50', 'C,VEND,1.50']);
    assert.equal(events.at(-1)!.kind, 'vend-success');
  });

  it('denies a selection at another price and gives the money back', async () => {
    // The previous customer's result is over first.
    await rig.waitScreen('Pay ¥1.50 / Scan pay code');
    const from = vmc.received.length;
    rig.scan(testCode('paid', 'unionpay'));
    const orderNo = await rig.nextOrderNo();
    await until('C,START', () => (vmc.state === 'session' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    vmc.select('2.00', '5');
    const { order, events } = await rig.final(orderNo);
    assert.equal(order.state, 'refunded');
    assert.deepEqual(vmc.received.slice(from), ['C,START,1.50', 'C,STOP']);
    assert.ok(events.some((e) => e.kind === 'vend-failed'));
  });
});
