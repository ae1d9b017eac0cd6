// Recovery of an order interrupted while the product was being released (src/payment/background.ts, delivering),
// on a fake clock and gateway: the vend sensor's journaled drop, and for MDB what the machine is asked and what its
// report leads to: delivered, refunded, or refunded and flagged, each with the reason the operator reads.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { PaymentEngine, type VendReport } from '../../src/payment/engine.js';
import { FakeClock } from '../fake-clock.js';
import { FakeGateway, logCapture, seedOrder, UNIONPAY } from './fakes.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

describe('recovery of an interrupted release (fake clock, fake gateway)', () => {
  let dir: string;
  let journal: Journal;
  let clock: FakeClock;
  let gw: FakeGateway;
  let cap: ReturnType<typeof logCapture>;
  let asked: Array<{ orderNo: string; productId: string | null }>;
  let attention: Array<{ orderNo: string; reason: string }>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'vend-recovery-'));
    journal = openJournal(join(dir, 'j.db'));
    clock = new FakeClock();
    gw = new FakeGateway();
    gw.on('refund', { kind: 'ACCEPTED' }).on('refundQuery', { kind: 'REFUNDED' });
    cap = logCapture();
    asked = [];
    attention = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function recover(report?: VendReport, before?: () => void): Promise<void> {
    const vendReport = report
      ? async (o: { orderNo: string; productId: string | null }): Promise<VendReport> => {
          asked.push(o);
          before?.();
          return report;
        }
      : undefined;
    const e = new PaymentEngine({ journal, gateway: gw, merchant, deviceId: 'K1', goods: { goodsId: 'G', goodsInfo: 'g' }, clock, random: () => 0.5, clockCheck: () => null, log: cap.log, vendReport });
    e.on('attention', (a: { orderNo: string; reason: string }) => attention.push(a));
    await e.start();
    await clock.run(e.whenIdle());
  }
  const mdb = (approved: boolean): string => {
    const no = seedOrder(journal, clock, 'delivering', { code: UNIONPAY, orderType: 'unionpay', productId: '14' });
    if (approved) journal.note(no, 'delivering', { kind: 'vend-approved', cause: 'vend approved', detail: 'C,VEND,1.00' }, new Date(clock.wall()).toISOString());
    return no;
  };
  const moved = (no: string) => {
    const ev = journal.events(no).find((x) => x.from === 'delivering' && x.to !== 'delivering')!;
    return [ev.to, ev.kind, ev.cause];
  };

  it('the sensor saw the drop before the interruption: delivered, no refund, nothing asked', async () => {
    const no = seedOrder(journal, clock, 'delivering', { code: UNIONPAY, orderType: 'unionpay' });
    journal.note(no, 'delivering', { kind: 'vend-sensed', cause: 'vend sensed' }, new Date(clock.wall()).toISOString());
    await recover('failed');
    assert.deepEqual(moved(no), ['delivered', 'vend-sensed', 'recovery: vend sensed before the interruption']);
    assert.equal(journal.get(no)!.reason, 'delivered: the vend sensor saw the drop (journaled) before the daemon stopped');
    assert.deepEqual([asked, gw.sent], [[], []]);
  });

  it('MDB, the drop sensed: delivered without asking the machine', async () => {
    const no = mdb(true);
    journal.note(no, 'delivering', { kind: 'vend-sensed', cause: 'vend sensed' }, new Date(clock.wall()).toISOString());
    await recover('failed');
    assert.equal(journal.get(no)!.state, 'delivered');
    assert.deepEqual(asked, []);
  });

  /** The order's reason while its refund is sent: what the operator's listing says until it is final. */
  const reasonWhileRefunding = (no: string): string[] => {
    const reasons: string[] = [];
    gw.on('refund', () => (reasons.push(journal.get(no)!.reason!), { kind: 'ACCEPTED' }));
    return reasons;
  };

  it('MDB, the approval never sent: refunded without asking the machine (nothing was released)', async () => {
    const no = mdb(false);
    const reasons = reasonWhileRefunding(no);
    await recover('success');
    assert.deepEqual(reasons, ['interrupted before the machine was sent the approval: nothing was released; refunded']);
    assert.deepEqual(asked, []);
    assert.deepEqual(moved(no), ['refunding', 'recovery', 'recovery: vend never approved']);
    assert.equal(journal.get(no)!.state, 'refunded');
    assert.equal(journal.get(no)!.flag, null);
    assert.deepEqual(attention, []);
  });

  it('MDB, approved and the machine reports the vend: delivered, nothing refunded', async () => {
    const no = mdb(true);
    await recover('success');
    assert.deepEqual(asked, [{ orderNo: no, productId: '14' }]);
    assert.deepEqual(moved(no), ['delivered', 'vend-success', 'recovery: the machine reported the vend']);
    assert.equal(journal.get(no)!.reason, 'delivered: the machine reported the vend after the interruption');
    assert.deepEqual(gw.sent, []);
  });

  it('MDB, approved and the machine reports a failed vend: refunded, flagged vend-failed', async () => {
    const no = mdb(true);
    const reasons = reasonWhileRefunding(no);
    await recover('failed');
    assert.deepEqual(reasons, ['the machine reported the vend failed after the interruption: refunded']);
    assert.deepEqual(moved(no), ['refunding', 'vend-failed', 'recovery: the machine reported the vend failed']);
    assert.equal(journal.get(no)!.flag, 'vend-failed');
    assert.equal(journal.get(no)!.state, 'refunded');
    assert.deepEqual(attention, []);
  });

  for (const report of ['unknown', undefined] as const) {
    it(`MDB, approved and ${report ? 'no report from the machine' : 'no way to ask the machine'}: refunded, flagged delivery-uncertain, logged, announced`, async () => {
      const no = mdb(true);
      await recover(report);
      const reason = 'interrupted after the machine was sent the approval and it reported no vend: refunded; the product may have been released';
      assert.deepEqual(moved(no), ['refunding', 'recovery', 'recovery: no vend report']);
      assert.equal(journal.get(no)!.flag, 'delivery-uncertain');
      assert.deepEqual(attention, [{ orderNo: no, reason }]);
      assert.ok(cap.lines.some((l) => l.event === 'delivery-uncertain' && l.orderNo === no && l.msg === reason && l.level === 50));
    });
  }

  it('MDB: an order that left delivering while the machine was asked is left as it is', async () => {
    const no = mdb(true);
    await recover('failed', () => journal.transition(no, [{ from: 'delivering', to: 'delivered', event: { kind: 'vend-success', cause: 'the machine reported the vend' } }], new Date(clock.wall()).toISOString()));
    assert.equal(journal.get(no)!.state, 'delivered');
    assert.deepEqual(gw.sent, []);
    assert.deepEqual(attention, [], 'no internal error either (a move from the state read before the machine answered)');
    assert.ok(!cap.lines.some((l) => l.event === 'drive-error'));
  });
});
