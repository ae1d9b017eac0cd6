// MDB session mode end to end (mdb.mode "session", for a machine without always-idle): the customer pays the pricing
// amount first, the kiosk opens the machine's session with that credit (C,START), approves a selection at exactly
// that price (C,VEND) and refunds any other. The daemon as a child process, the HAT driver on a real pty.
import assert from 'node:assert/strict';
import { createWriteStream, type WriteStream } from 'node:fs';
import { openJournal } from '../../src/journal/journal.js';
import { testCode } from '../../src/sandbox/codes.js';
import { VmcSim } from '../../src/hardware/sim/mdb-sim.js';
import { PtyPair } from '../hardware/pty.js';
import { until } from '../wait.js';
import { DaemonFixture, spawnDaemon, type DaemonProcess } from './daemon-helpers.js';

describe('MDB session mode end to end (daemon, real pty, simulated machine)', function () {
  this.timeout(30_000);
  const fx = new DaemonFixture();
  const scannerPty = new PtyPair();
  const hatPty = new PtyPair();
  const vmc = new VmcSim();
  let detach: () => void = () => undefined;
  let daemon: DaemonProcess;
  let feeder: WriteStream;

  const final = (orderNo: string) =>
    until(`order ${orderNo} final`, () => {
      const j = openJournal(fx.journalPath, { readonly: true });
      try {
        const o = j.getPublic(orderNo)!;
        return o.final ? { order: o, events: j.events(orderNo) } : undefined;
      } finally {
        j.close();
      }
    }, { deadlineMs: 15_000, everyMs: 50 });

  before(async () => {
    await fx.start();
    await scannerPty.start();
    await hatPty.start();
    detach = hatPty.attach(vmc);
    fx.writeConfig({
      scanner: { driver: 'serial', path: scannerPty.device, baudRate: 9600, terminator: 'CR' },
      pricing: { mode: 'fixed', amountFen: 150 },
      mdb: { path: hatPty.device, mode: 'session', approvalWindowMs: 3000, vendResultMs: 3000 },
    });
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
    await until('the HAT enabled', () => (vmc.state === 'enabled' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    feeder = createWriteStream(scannerPty.feeder, { flags: 'w' });
    feeder.on('error', () => {});
  });

  after(async () => {
    feeder?.destroy();
    detach();
    await daemon?.stop('SIGKILL');
    await scannerPty.dispose();
    await hatPty.dispose();
    await fx.dispose();
  });

  it('opens the session with the paid credit and approves a selection at that price: delivered (vend-success)', async () => {
    const from = vmc.received.length;
    feeder.write(testCode('paid', 'wechat') + '\r');
    const orderNo = String((await daemon.waitFor((l) => l.event === 'order', 'order')).orderNo);
    await until('C,START', () => (vmc.state === 'session' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    assert.equal(vmc.sessionCredit, '1.50');
    vmc.select('1.50', '4');
    const { order, events } = await final(orderNo);
    assert.equal(order.state, 'delivered');
    assert.deepEqual(vmc.received.slice(from), ['C,START,1.50', 'C,VEND,1.50']);
    assert.deepEqual(events.filter((e) => e.kind === 'vend-approved').map((e) => e.detail), ['C,START,1.50', 'C,VEND,1.50']);
    assert.equal(events.at(-1)!.kind, 'vend-success');
  });

  it('denies a selection at another price and gives the money back', async () => {
    // The previous customer's result is over first.
    await until('ready', () => ((daemon.lines.filter((l) => Array.isArray(l.display)).at(-1)?.display as string[] | undefined)?.join(' / ') === 'Pay ¥1.50 / Scan pay code' ? true : undefined), { deadlineMs: 5000, everyMs: 20 });
    const from = vmc.received.length;
    feeder.write(testCode('paid', 'unionpay') + '\r');
    const orderNo = String((await daemon.waitFor((l) => l.event === 'order', 'order')).orderNo);
    await until('C,START', () => (vmc.state === 'session' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    vmc.select('2.00', '5');
    const { order, events } = await final(orderNo);
    assert.equal(order.state, 'refunded');
    assert.deepEqual(vmc.received.slice(from), ['C,START,1.50', 'C,STOP']);
    assert.ok(events.some((e) => e.kind === 'vend-failed'));
  });
});
