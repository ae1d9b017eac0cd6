// What each write of the journal puts on disk, row by row and column by column (issue 21, mutation run): the order
// and its first event at a scan, the patch and the event of a transition or a note, the payment code erased with
// the step into a final state, the sequence and the step hook inside the same transaction (all or nothing).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JournalError, openJournal, type Journal, type NewOrder } from '../../src/journal/journal.js';
import { OrderNoError } from '../../src/journal/orderno.js';

const CODE = '134567890123456789';

function order(over: Partial<NewOrder> = {}): NewOrder {
  return {
    deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: CODE, authMask: 'wechat…6789',
    goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1_780_000_000_000, at: '2026-06-01T10:00:00.000Z', ...over,
  };
}

type Raw = Record<string, unknown>;

describe('journal writes: exactly the rows and columns of each step, in one transaction', () => {
  let dir: string;
  let j: Journal;
  const rawOrder = (no: string): Raw => j.db.prepare('SELECT * FROM orders WHERE order_no = ?').get(no) as Raw;
  const rawEvents = (no: string): Raw[] => j.db.prepare('SELECT * FROM events WHERE order_no = ? ORDER BY id').all(no) as Raw[];
  const count = (table: string): number => (j.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  const seqMeta = (): string | undefined => (j.db.prepare(`SELECT value FROM meta WHERE key = 'seq'`).get() as { value: string } | undefined)?.value;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-writes-'));
    j = openJournal(join(dir, 'journal.db'));
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a scan writes one order row with every field given (state created, one send, nothing else set) and one event', () => {
    const o = j.createOrder(order());
    assert.equal(count('orders'), 1);
    assert.deepEqual(rawOrder(o.orderNo), {
      order_no: o.orderNo, seq: 1, state: 'created', final: 0, order_time: '20260601100000', txn_amt: '150', order_type: 'wechat', auth_code: CODE,
      auth_mask: 'wechat…6789', goods_id: 'G1', goods_info: 'drink', acq_sp_id: 'Y471790403', acq_mer_id: '41509208', transaction_id: null,
      send_attempts: 1, not_sent: 0, resp_code: null, resp_msg: null, reversal: null, refund_no: null, refund_time: null, refund_amt: null,
      refund_accepted: 0, resume_state: null, reason: null, scanned_at: 1_780_000_000_000, created_at: '2026-06-01T10:00:00.000Z',
      updated_at: '2026-06-01T10:00:00.000Z', flag: null, stl_date: null, scanned_mono: null, boot_id: null, product_id: null, vend_price: null,
    });
    assert.deepEqual(rawEvents(o.orderNo), [
      { id: 1, order_no: o.orderNo, at: '2026-06-01T10:00:00.000Z', from_state: null, to_state: 'created', cause: 'scanned', call: null, resp_code: null, resp_msg: null, delivery: null, detail: 'wechat…6789', kind: 'scan' },
    ]);
    assert.equal(seqMeta(), '1');
    // What createOrder returns is the row as read back.
    assert.deepEqual(o, j.get(o.orderNo));
    assert.equal(o.final, false);
    assert.equal(o.refundAccepted, false);
  });

  it('a scan on the monotonic clock and an MDB selection keep their fields; the first event names the product and price', () => {
    const o = j.createOrder(order({ scannedMono: 1234.5, bootId: 'boot-1', productId: '7', vendPrice: '1.50' }));
    const r = rawOrder(o.orderNo);
    assert.deepEqual([r.scanned_mono, r.boot_id, r.product_id, r.vend_price], [1234.5, 'boot-1', '7', '1.50']);
    assert.equal(rawEvents(o.orderNo)[0]!.detail, 'wechat…6789; MDB selection: product 7 at 1.50');
    const p = j.createOrder(order({ authCode: `${CODE.slice(0, -1)}0`, productId: '8' }));
    assert.equal(rawEvents(p.orderNo)[0]!.detail, 'wechat…6789; MDB selection: product 8 at ?');
    assert.equal(rawOrder(p.orderNo).vend_price, null);
  });

  it('the sequence continues from the journal; an order number refused inside the transaction uses up no number and writes nothing', () => {
    const a = j.createOrder(order());
    assert.throws(() => j.createOrder(order({ date: '2026-06-01' })), (e: unknown) => e instanceof OrderNoError && e.code === 'BAD_DATE');
    assert.throws(() => j.createOrder(order({ deviceId: '--' })), (e: unknown) => e instanceof OrderNoError && e.code === 'BAD_DEVICE_ID');
    assert.equal(count('orders'), 1);
    assert.equal(count('events'), 1);
    assert.equal(seqMeta(), '1');
    const b = j.createOrder(order());
    assert.deepEqual([a.seq, b.seq], [1, 2]);
    assert.equal(seqMeta(), '2');
  });

  it('a transition writes its patch (every field to its column, booleans as 0/1), the state, updated_at and one event with every field', () => {
    const o = j.createOrder(order());
    const at = '2026-06-01T10:00:02.000Z';
    const row = j.transition(
      o.orderNo,
      [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'micropay: paid', call: 'micropay', respCode: '00', respMsg: 'SUCCESS', delivery: 'none yet', detail: 'first send' }, patch: { transactionId: 'T1', sendAttempts: 2, notSent: 1, respCode: '00', respMsg: 'SUCCESS', reason: 'why', flag: 'F', stlDate: '20260602' } }],
      at,
    );
    const r = rawOrder(o.orderNo);
    assert.deepEqual(
      [r.state, r.final, r.auth_code, r.transaction_id, r.send_attempts, r.not_sent, r.resp_code, r.resp_msg, r.reason, r.flag, r.stl_date, r.updated_at, r.created_at],
      ['paid', 0, CODE, 'T1', 2, 1, '00', 'SUCCESS', 'why', 'F', '20260602', at, '2026-06-01T10:00:00.000Z'],
    );
    assert.deepEqual(rawEvents(o.orderNo).slice(1), [
      { id: 2, order_no: o.orderNo, at, from_state: 'created', to_state: 'paid', cause: 'micropay: paid', call: 'micropay', resp_code: '00', resp_msg: 'SUCCESS', delivery: 'none yet', detail: 'first send', kind: 'answer' },
    ]);
    assert.deepEqual(row, j.get(o.orderNo), 'returns the row as written');
    // Into refunding: the refund fields and the sub-state (a boolean, stored 1/0); a field patched undefined is left.
    j.transition(o.orderNo, [{ from: 'paid', to: 'refunding', event: { kind: 'recovery', cause: 'customer gone' }, patch: { refundNo: `${o.orderNo}R1`, refundTime: '20260601100003', refundAmt: '150', refundAccepted: true, reason: undefined } }], at);
    const s = rawOrder(o.orderNo);
    assert.deepEqual([s.refund_no, s.refund_time, s.refund_amt, s.refund_accepted, s.reason], [`${o.orderNo}R1`, '20260601100003', '150', 1, 'why']);
    assert.equal(j.get(o.orderNo)!.refundAccepted, true);
    j.note(o.orderNo, 'refunding', { kind: 'answer', cause: 'refund failed: new serial' }, at, { refundNo: `${o.orderNo}R2`, refundAccepted: false });
    assert.deepEqual([rawOrder(o.orderNo).refund_accepted, rawOrder(o.orderNo).refund_no], [0, `${o.orderNo}R2`]);
    // A note's event: from = to = the state, its own columns null when not given.
    assert.deepEqual(rawEvents(o.orderNo).at(-1), { id: 4, order_no: o.orderNo, at, from_state: 'refunding', to_state: 'refunding', cause: 'refund failed: new serial', call: null, resp_code: null, resp_msg: null, delivery: null, detail: null, kind: 'answer' });
    // The reversal sub-state, on entering reversing.
    const p = j.createOrder(order({ authCode: `${CODE.slice(0, -1)}0` }));
    j.transition(p.orderNo, [{ from: 'created', to: 'reversing', event: { kind: 'recovery', cause: 'found' }, patch: { reversal: 'closeOrder' } }], at);
    assert.equal(rawOrder(p.orderNo).reversal, 'closeOrder');
  });

  it('a note on an unfinished order moves updated_at; a note on a final one does not; a step into a final state erases the code and sets final', () => {
    const o = j.createOrder(order());
    j.note(o.orderNo, 'created', { kind: 'resend', cause: 'resend 2' }, '2026-06-01T10:00:05.000Z', { sendAttempts: 2 });
    assert.deepEqual([rawOrder(o.orderNo).updated_at, rawOrder(o.orderNo).send_attempts, rawOrder(o.orderNo).auth_code], ['2026-06-01T10:00:05.000Z', 2, CODE]);
    j.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined', respCode: '15' }, patch: { respCode: '15' } }], '2026-06-01T10:00:06.000Z');
    assert.deepEqual([rawOrder(o.orderNo).final, rawOrder(o.orderNo).auth_code, rawOrder(o.orderNo).updated_at], [1, null, '2026-06-01T10:00:06.000Z']);
    assert.equal(j.activeByAuthCode(CODE), undefined);
    j.note(o.orderNo, 'failed', { kind: 'settlement', cause: 'settlement mismatch', detail: 'd' }, '2026-06-03T09:00:00.000Z', { flag: 'settlement 20260601: x' });
    const r = rawOrder(o.orderNo);
    assert.deepEqual([r.state, r.final, r.auth_code, r.flag, r.updated_at], ['failed', 1, null, 'settlement 20260601: x', '2026-06-01T10:00:06.000Z']);
  });

  it('every final state erases the code in the step that reaches it, also in the middle of a multi-step transition', () => {
    const o = j.createOrder(order());
    j.transition(
      o.orderNo,
      [
        { from: 'created', to: 'paid', event: { kind: 'answer', cause: 'paid' } },
        { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'release' } },
        { from: 'delivering', to: 'delivered', event: { kind: 'released', cause: 'done' } },
      ],
      '2026-06-01T10:00:03.000Z',
    );
    assert.deepEqual([rawOrder(o.orderNo).auth_code, rawOrder(o.orderNo).final], [null, 1]);
    assert.deepEqual(rawEvents(o.orderNo).map((e) => [e.from_state, e.to_state, e.kind]), [
      [null, 'created', 'scan'],
      ['created', 'paid', 'answer'],
      ['paid', 'delivering', 'release'],
      ['delivering', 'delivered', 'released'],
    ]);
  });

  it('the step hook sees each change of state (not notes) inside the transaction: when it throws, no step of the transition is written', () => {
    const seen: string[] = [];
    j.stepHook = (no, from, to, at) => seen.push(`${no === 'x' ? '' : 'o'}:${from}>${to}@${at}`);
    const o = j.createOrder(order());
    assert.deepEqual(seen, [], 'the scan is not a step');
    j.note(o.orderNo, 'created', { kind: 'resend', cause: 'resend' }, 't0');
    j.transition(o.orderNo, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'paid' } }, { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'r' } }], 't1');
    assert.deepEqual(seen, ['o:created>paid@t1', 'o:paid>delivering@t1']);
    j.stepHook = (_no, _from, to) => {
      if (to === 'delivered') throw new Error('disk full');
    };
    const events = count('events');
    assert.throws(() => j.transition(o.orderNo, [{ from: 'delivering', to: 'delivered', event: { kind: 'released', cause: 'done' } }], 't2'), /disk full/);
    assert.equal(count('events'), events);
    assert.deepEqual([rawOrder(o.orderNo).state, rawOrder(o.orderNo).auth_code, rawOrder(o.orderNo).updated_at], ['delivering', CODE, 't1']);
  });

  it('refusals name the order, the states and the cause, and write nothing', () => {
    const o = j.createOrder(order());
    const no = o.orderNo;
    const refused = (code: string, message: RegExp) => (e: unknown) => e instanceof JournalError && e.code === code && message.test(e.message);
    assert.throws(() => j.transition('nope', [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'x' } }], 't'), refused('NO_SUCH_ORDER', /: no order nope$/));
    assert.throws(() => j.note('nope', 'created', { kind: 'resend', cause: 'x' }, 't'), refused('NO_SUCH_ORDER', /no order nope/));
    assert.throws(() => j.transition(no, [{ from: 'created', to: 'created', event: { kind: 'resend', cause: 'x' } }], 't'), refused('ILLEGAL_TRANSITION', new RegExp(`^order ${no}: created → created is not a transition \\(record it with note\\(\\)\\)$`)));
    assert.throws(() => j.transition(no, [{ from: 'unknown', to: 'paid', event: { kind: 'answer', cause: 'x' } }], 't'), refused('STALE_STATE', new RegExp(`^order ${no} is created, not unknown \\(wanted unknown → paid by answer\\)$`)));
    assert.throws(() => j.note(no, 'paid', { kind: 'settlement', cause: 'x' }, 't'), refused('STALE_STATE', new RegExp(`^order ${no} is created, not paid \\(wanted a note in paid by settlement\\)$`)));
    assert.throws(() => j.transition(no, [{ from: 'created', to: 'delivered', event: { kind: 'released', cause: 'skip' } }], 't'), refused('ILLEGAL_TRANSITION', new RegExp(`^order ${no}: created → delivered by released \\(skip\\) is not in the transition table$`)));
    assert.throws(() => j.note(no, 'created', { kind: 'answer', cause: 'why' }, 't'), refused('ILLEGAL_TRANSITION', new RegExp(`^order ${no}: a note of kind answer in created \\(why\\) is not in the transition table$`)));
    assert.throws(() => j.note(no, 'created', { kind: 'resend', cause: 'x' }, 't', { reversal: 'cancelOrder' }), refused('ILLEGAL_TRANSITION', new RegExp(`^order ${no}: reversal null → "cancelOrder" outside reversing`)));
    assert.equal(count('events'), 1);
    assert.deepEqual([rawOrder(no).state, rawOrder(no).updated_at, rawOrder(no).reversal], ['created', '2026-06-01T10:00:00.000Z', null]);
  });

  it('a read-only journal refuses every write, naming the file', () => {
    const o = j.createOrder(order());
    const ro = openJournal(join(dir, 'journal.db'), { readonly: true });
    try {
      const readOnly = (e: unknown) => e instanceof JournalError && e.code === 'READ_ONLY' && e.message === `${join(dir, 'journal.db')}: opened read-only`;
      assert.throws(() => ro.createOrder(order()), readOnly);
      assert.throws(() => ro.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'x' } }], 't'), readOnly);
      assert.throws(() => ro.note(o.orderNo, 'created', { kind: 'resend', cause: 'x' }, 't'), readOnly);
      assert.throws(() => ro.recordReconciliation({ stlDate: '20260601', at: 't', ok: true, summary: {}, findings: [] }), readOnly);
      assert.throws(() => ro.ackSettleFindings(o.orderNo, 'n', 't'), readOnly);
      assert.equal(ro.whereabouts(), null, 'a reader holds no files to watch');
    } finally {
      ro.close();
    }
    assert.equal(count('events'), 1);
  });
});
