// The vending machine's cashless port end to end: the real daemon (`kiosk run`, a child process) with its MDB HAT
// driver on a real pty (socat) and a simulated vending machine + HAT (src/hardware/sim/mdb-sim.ts) on the far end;
// the scanner on a second pty; the sandbox gateway over HTTP (the rig: mdb-rig.ts). Each test is one customer at the
// machine.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { testCode } from '../../src/sandbox/codes.js';
import { until } from '../wait.js';
import { MdbRig } from './mdb-rig.js';
import { run as mdbCli } from '../../src/cli/mdb.js';
import { captureIo } from '../../src/cli/tech/format.js';

describe('MDB cashless port end to end (daemon, HAT driver on a real pty, simulated machine)', function () {
  this.timeout(60_000);
  const rig = new MdbRig();
  const { fx, vmc, hatPty } = rig;
  const start = () => rig.startDaemon();
  const waitScreen = (text: string) => rig.waitScreen(text);
  const scan = (code: string) => rig.scan(code);
  const order = (orderNo: string) => rig.order(orderNo);
  const finalOf = (orderNo: string) => rig.final(orderNo);
  const lastOrderNo = () => rig.nextOrderNo();
  const sent = (from: number) => rig.sent(from);
  /** `kiosk mdb status --json` from the running daemon. */
  const mdbStatus = async () => {
    const io = captureIo();
    assert.equal(await mdbCli(['status', '--json', '--config', fx.configFile], io), 0, io.stderr());
    type Report = { connected: boolean; path: string; hat: string; selection: { productId: string; amountFen: number; phase: string } | null; lines: { dir: string; line: string }[] };
    return JSON.parse(io.stdout()) as Report;
  };

  before(async () => {
    await rig.start((hat) => ({
      payment: { customerWindowMs: 8000, queryIntervalMs: 500 },
      mdb: { path: hat, approvalWindowMs: 2000, vendResultMs: 3000, products: { '2': 'Cola' } },
    }));
  });

  after(() => rig.dispose());

  beforeEach(() => {
    vmc.outcome = 'success';
  });

  // Each customer leaves the machine as the next one finds it: no selection open at the kiosk, and every line the
  // kiosk sent (a deny above all) read by the machine. The machine reads on a pty in this busy process, so a C,STOP
  // can still be on its way when the kiosk's screen already changed; the next test's selection would take it.
  afterEach(async function () {
    if (this.currentTest?.state !== 'passed') return;
    await until('the machine has read every line the kiosk sent', async () => {
      const r = await mdbStatus();
      const out = r.lines.filter((l) => l.dir === 'out').map((l) => l.line);
      return r.selection === null && vmc.state !== 'requested' && out.every((l, i) => vmc.received.at(i - out.length) === l) ? true : undefined;
    }, { deadlineMs: 8000, everyMs: 20 });
  });

  it('shows the machine selection, approves the paid amount, and the machine report delivers it (cause vend-success)', async () => {
    await waitScreen('Choose on the / machine first');
    const from = vmc.received.length;
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('paid', 'wechat'));
    const orderNo = await lastOrderNo();
    const { order: o, events } = await finalOf(orderNo);
    assert.equal(o.state, 'delivered');
    assert.equal(o.productId, '2');
    assert.equal(o.vendPrice, '1.00');
    assert.equal(o.txnAmt, '100');
    assert.deepEqual(sent(from), ['C,VEND,1.00']);
    const kinds = events.map((e) => e.kind);
    assert.deepEqual(kinds, ['scan', 'answer', 'release', 'vend-approved', 'vend-success']);
    assert.match(events[0]!.detail ?? '', /MDB selection: product 2 at 1\.00/);
  });

  it('refunds when the machine reports the product did not come out (c,ERR,VEND 3, cause vend-failed)', async () => {
    vmc.outcome = 'failure';
    vmc.select('1.50', '7');
    await waitScreen('Scan to pay / ¥1.50 for No.7');
    scan(testCode('paid', 'unionpay'));
    const orderNo = await lastOrderNo();
    const { order: o, events } = await finalOf(orderNo);
    assert.equal(o.state, 'refunded');
    assert.ok(events.some((e) => e.kind === 'vend-failed' && e.from === 'delivering'));
  });

  it('denies the vend (C,STOP) when the platform declines the payment', async () => {
    const from = vmc.received.length;
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('insufficient-balance', 'wechat'));
    const orderNo = await lastOrderNo();
    const { order: o } = await finalOf(orderNo);
    assert.equal(o.state, 'failed');
    await until('C,STOP', () => (sent(from).includes('C,STOP') ? true : undefined), { deadlineMs: 3000, everyMs: 10 });
    assert.ok(!sent(from).some((l) => l.startsWith('C,VEND')), 'never approved');
    // Journaled on the (final) order when the kiosk denied it, after the customer's result.
    await until('vend-denied journaled', () => (order(orderNo).events.some((e) => e.kind === 'vend-denied') ? true : undefined), { deadlineMs: 3000, everyMs: 20 });
  });

  it('denies when the approval window runs out while the payment is unclear, then reverses it', async () => {
    const from = vmc.received.length;
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('pending-forever', 'wechat'));
    const orderNo = await lastOrderNo();
    await until('C,STOP at the end of the approval window', () => (sent(from).includes('C,STOP') ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    const { order: o, events } = await finalOf(orderNo);
    assert.equal(o.state, 'reversed');
    assert.ok(events.some((e) => e.kind === 'vend-denied'));
    assert.ok(!sent(from).some((l) => l.startsWith('C,VEND')), 'never approved');
    assert.deepEqual(vmc.approvalsOutOfTurn, []);
  });

  it('refunds a payment that succeeds after the kiosk denied the vend (never approves after C,STOP)', async () => {
    const from = vmc.received.length;
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    // Paid after 6 queries (500 ms apart): after the 2 s approval window, within the 8 s customer window.
    scan(testCode('pending-then-paid', 'alipay', undefined, { queries: 6 }));
    const orderNo = await lastOrderNo();
    const { order: o, events } = await finalOf(orderNo);
    assert.ok(o.state === 'refunded' || o.state === 'reversed', o.state);
    assert.ok(events.some((e) => e.kind === 'session-ended'), JSON.stringify(events.map((e) => e.kind)));
    assert.ok(!sent(from).some((l) => l.startsWith('C,VEND')), 'never approved');
  });

  // A deny that crosses the machine's next selection on the wire (a C,STOP sent as the machine itself ends the
  // selection and the next customer selects at once) ends that next selection while its customer pays. The machine
  // says so (c,STATUS,IDLE): the kiosk never approves it and gives the charge back.
  it('refunds the customer whose selection the machine ended while they paid (what a late C,STOP does), never approves it', async () => {
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('pending-then-paid', 'wechat', undefined, { queries: 2 }));
    const orderNo = await lastOrderNo();
    const from = vmc.received.length;
    vmc.cancel();
    const { order: o, events } = await finalOf(orderNo);
    assert.ok(o.state === 'refunded' || o.state === 'reversed', o.state);
    assert.equal(o.flag, 'vend-session-ended');
    assert.ok(events.some((e) => e.kind === 'session-ended'), JSON.stringify(events.map((e) => e.kind)));
    const why = rig.daemon.lines.find((l) => l.event === 'paid-after-session' && l.orderNo === orderNo);
    assert.match(String(why?.reason), /the machine ended the selection \(IDLE\)/);
    // Nothing to the machine for a selection it ended itself: no approval, and no deny of whatever comes next.
    assert.deepEqual(sent(from), []);
    assert.deepEqual(vmc.approvalsOutOfTurn, []);
  });

  it('refuses a second selection while one is being paid', async () => {
    const from = vmc.received.length;
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('pending-then-paid', 'wechat', undefined, { queries: 3 }));
    const orderNo = await lastOrderNo();
    vmc.select('2.00', '3');
    await until('the second selection denied', () => (sent(from).includes('C,STOP') ? true : undefined), { deadlineMs: 3000, everyMs: 10 });
    const { order: o } = await finalOf(orderNo);
    assert.notEqual(o.state, 'delivered');
    assert.ok(!sent(from).some((l) => l.startsWith('C,VEND')), 'neither selection approved');
  });

  it('withdraws the offer when the machine cancels, resets, or sends garbage lines, and keeps working', async () => {
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    vmc.cancel();
    await waitScreen('Choose on the / machine first');
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    vmc.reset();
    await waitScreen('Choose on the / machine first');
    const before = vmc.received.length;
    vmc.garbage('\x00\xff\xfe noise\r\nc,STATUS,VEND,abc,2\r\nc,STATUS,VEND,1.005,2\r\n');
    await rig.daemon.waitFor((l) => l.event === 'mdb-garbage', 'garbage logged');
    // The well-formed line at a price of no whole fen is denied; the machine has that deny before the next selection.
    await until('1.005 denied', () => (vmc.received.slice(before).includes('C,STOP') ? true : undefined), { deadlineMs: 3000, everyMs: 10 });
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    scan(testCode('paid', 'wechat'));
    const { order: o } = await finalOf(await lastOrderNo());
    assert.equal(o.state, 'delivered');
  });

  it('kiosk mdb status and watch: the HAT, the selection, the last lines from the running daemon', async () => {
    vmc.select('1.00', '2');
    await waitScreen('Scan to pay / ¥1.00 for Cola');
    let r = await mdbStatus();
    assert.equal(r.connected, true);
    assert.equal(r.path, hatPty.device);
    assert.deepEqual(r.selection, { phase: 'offered', productId: '2', amountFen: 100 });
    assert.deepEqual(r.lines.at(-1), { ...r.lines.at(-1), dir: 'in', line: 'c,STATUS,VEND,1.00,2' });
    let io = captureIo();
    assert.equal(await mdbCli(['status', '--config', fx.configFile], io), 0);
    assert.match(io.stdout(), /selection: +product 2 at 1\.00: offered/);
    // The machine ends the selection: no selection, no approval window running, nothing to the machine.
    vmc.cancel();
    await waitScreen('Choose on the / machine first');
    // Its last line read too (the screen changes on the first): one read later, it would be the watch's new line.
    await until("the machine's last line read", async () => ((await rig.hatLines()).at(-1)?.line === 'c,STATUS,ENABLED' ? true : undefined), { deadlineMs: 5000, everyMs: 20 });
    r = await mdbStatus();
    assert.equal(r.selection, null);
    // watch prints the last lines (at most 10), then each new one: here the machine's next selection.
    const shown = Math.min(10, r.lines.length);
    io = captureIo();
    let selected = false;
    const sleep = async () => {
      if (selected) return;
      selected = true;
      vmc.select('1.00', '2');
      await waitScreen('Scan to pay / ¥1.00 for Cola');
    };
    assert.equal(await mdbCli(['watch', '--count', String(shown + 1), '--interval', '50', '--config', fx.configFile], io, { sleep }), 0);
    assert.ok(selected, 'the watch waited for a new line');
    assert.match(io.stdout(), /connected/);
    assert.match(io.stdout(), / < c,STATUS,VEND,1\.00,2\n$/);
    io = captureIo();
    assert.equal(await mdbCli(['peek', '--config', fx.configFile], io), 2);
    vmc.cancel();
    await waitScreen('Choose on the / machine first');
  });

  // Same-day WeChat: the money goes back by cancelOrder (reversed) rather than a refund.
  for (const [report, expect] of [
    ['succeed', 'delivered'],
    ['cancel', 'reversed'],
  ] as const) {
    it(`kill -9 after the approval, before the machine's answer: the next lines after the restart decide (${report} → ${expect})`, async () => {
      vmc.outcome = 'hold';
      vmc.select('1.00', '2');
      await waitScreen('Scan to pay / ¥1.00 for Cola');
      const approved = once(vmc, 'approved');
      scan(testCode('paid', 'wechat'));
      const orderNo = await lastOrderNo();
      await approved;
      await rig.daemon.stop('SIGKILL');
      assert.equal(order(orderNo).order.state, 'delivering');
      await start();
      // Logged before 'ready': recovery starts with the engine.
      await until('recovery waits for the machine', () => (rig.daemon.lines.some((l) => l.event === 'mdb-recover' && l.orderNo === orderNo) ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
      if (report === 'succeed') vmc.succeed();
      else vmc.cancel();
      const { order: o, events } = await finalOf(orderNo);
      assert.equal(o.state, expect);
      if (expect === 'delivered') assert.equal(events.at(-1)!.kind, 'vend-success');
      else assert.equal(o.flag, 'delivery-uncertain');
    });
  }
});
