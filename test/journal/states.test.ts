// The transition table (src/journal/states.ts) as the journal enforces it: every edge and every note it allows is
// taken, everything else is refused with nothing written, a stale `from` is refused, and docs/payments.md shows
// the table as it is.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JournalError, openJournal, type Journal, type NewOrder, type OrderPatch } from '../../src/journal/journal.js';
import { allowed, CAUSE_KIND_NAMES, FINAL_STATES, kindOf, NOTES, ORDER_STATES, pathTo, phaseOf, RETRIED, statesReference, SUB_STATES, subStateProblem, TRANSITIONS, type CauseKind, type OrderState } from '../../src/journal/states.js';
import { paymentsDoc } from '../../scripts/docs.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let seq = 0;
const order = (): NewOrder => {
  seq++;
  const code = `1345678901234${String(seq).padStart(5, '0')}`;
  return {
    deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: code, authMask: 'm',
    goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: '2026-06-01T10:00:00.000Z',
  };
};

const refused = (code: string) => (e: unknown) => e instanceof JournalError && e.code === code;

describe('the transition table, enforced by the journal', () => {
  let dir: string;
  let j: Journal;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'states-'));
    j = openJournal(join(dir, 'j.db'));
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** The patch a step into `to` needs (attention says which work it resumes). */
  const patchFor = (from: OrderState, to: OrderState): OrderPatch => (to === 'attention' ? { resumeState: from } : {});

  /** A new order taken to `state` along the table's shortest route. */
  function at(state: OrderState): string {
    const o = j.createOrder(order());
    for (const s of pathTo(state)) j.transition(o.orderNo, [{ from: s.from, to: s.to, event: { kind: s.kind, cause: 'seed' }, patch: patchFor(s.from, s.to) }], 'now');
    assert.equal(j.get(o.orderNo)!.state, state);
    return o.orderNo;
  }

  it("docs/payments.md's state diagram and tables are generated from the table (run `npm run docs` after changing it)", () => {
    const doc = readFileSync(ROOT + 'docs/payments.md', 'utf8');
    assert.ok(doc.includes(statesReference()), 'the generated part is in docs/payments.md');
    assert.equal(doc, paymentsDoc(doc));
  });

  it('is consistent: every state is reachable, every non-final state has a way out, final states none', () => {
    for (const s of ORDER_STATES) {
      if (s !== 'created') assert.ok(TRANSITIONS.some((e) => e.to === s), `${s} is reachable`);
      const out = TRANSITIONS.filter((e) => e.from === s);
      if (FINAL_STATES.has(s)) assert.deepEqual(out, [], `${s} is final`);
      else assert.ok(out.length > 0, `${s} has a way out`);
    }
    for (const e of TRANSITIONS) for (const k of e.kinds) assert.ok(CAUSE_KIND_NAMES.includes(k), `${k} is a cause kind`);
    // attention resumes the work of a retried state: it may take every way out of one.
    for (const e of TRANSITIONS.filter((x) => x.from && RETRIED.includes(x.from) && x.to !== 'attention')) {
      for (const k of e.kinds) assert.ok(TRANSITIONS.some((a) => a.from === 'attention' && a.to === e.to && a.kinds.includes(k)), `attention → ${e.to} by ${k}`);
    }
  });

  it('creating an order is the edge [*] → created (scan)', () => {
    const o = j.createOrder(order());
    const [ev] = j.events(o.orderNo);
    assert.deepEqual([ev!.from, ev!.to, ev!.kind], [null, 'created', 'scan']);
    assert.ok(TRANSITIONS.some((e) => e.from === null && e.to === 'created' && e.kinds.includes('scan')));
  });

  for (const e of TRANSITIONS.filter((x) => x.from !== null)) {
    const from = e.from!;
    it(`${from} → ${e.to} by ${e.kinds.join(' / ')}; a stale ${from} is refused`, () => {
      for (const kind of e.kinds) {
        const no = at(from);
        const row = j.transition(no, [{ from, to: e.to, event: { kind, cause: `edge ${kind}` }, patch: patchFor(from, e.to) }], 'then');
        assert.equal(row.state, e.to);
        assert.equal(row.final, FINAL_STATES.has(e.to));
        if (FINAL_STATES.has(e.to)) assert.equal(row.authCode, null, 'a final order holds no payment code');
        const last = j.events(no).at(-1)!;
        assert.deepEqual([last.from, last.to, last.kind, last.cause], [from, e.to, kind, `edge ${kind}`]);
        // The same step again: the order is no longer in `from` (the caller read a state that is gone).
        const before = j.events(no).length;
        assert.throws(() => j.transition(no, [{ from, to: e.to, event: { kind, cause: 'again' }, patch: patchFor(from, e.to) }], 'later'), refused('STALE_STATE'));
        assert.equal(j.events(no).length, before, 'nothing written');
        assert.equal(j.get(no)!.state, e.to);
      }
    });
  }

  it('refuses every step (and every cause kind) the table does not have, writing nothing', () => {
    const orders = new Map(ORDER_STATES.map((s) => [s, at(s)]));
    let refusedSteps = 0;
    for (const from of ORDER_STATES) {
      const no = orders.get(from)!;
      const before = j.events(no).length;
      for (const to of ORDER_STATES) {
        if (to === from) continue;
        for (const kind of CAUSE_KIND_NAMES) {
          if (TRANSITIONS.some((e) => e.from === from && e.to === to && e.kinds.includes(kind))) continue;
          assert.throws(() => j.transition(no, [{ from, to, event: { kind, cause: 'illegal' }, patch: patchFor(from, to) }], 'x'), refused('ILLEGAL_TRANSITION'), `${from} → ${to} by ${kind}`);
          refusedSteps++;
        }
      }
      assert.equal(j.events(no).length, before);
      assert.equal(j.get(no)!.state, from);
      // A "transition" that stays is a note, not a transition.
      assert.throws(() => j.transition(no, [{ from, to: from, event: { kind: 'answer', cause: 'x' } }], 'x'), refused('ILLEGAL_TRANSITION'));
    }
    assert.ok(refusedSteps > 1000, `${refusedSteps} illegal steps tried`);
  });

  it('a multi-step transition with an illegal step writes none of its steps', () => {
    const no = at('created');
    assert.throws(
      () => j.transition(no, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'ok' } }, { from: 'paid', to: 'delivered', event: { kind: 'released', cause: 'skips delivering' } }], 'x'),
      refused('ILLEGAL_TRANSITION'),
    );
    assert.equal(j.get(no)!.state, 'created');
    assert.equal(j.events(no).length, 1);
  });

  for (const state of ORDER_STATES) {
    it(`notes in ${state}: ${NOTES[state].join(', ')}; any other kind, or a stale state, refused`, () => {
      const no = at(state);
      for (const kind of NOTES[state]) {
        j.note(no, state, { kind, cause: `note ${kind}` }, 'n');
        const last = j.events(no).at(-1)!;
        assert.deepEqual([last.from, last.to, last.kind], [state, state, kind]);
      }
      const n = j.events(no).length;
      for (const kind of CAUSE_KIND_NAMES.filter((k) => !NOTES[state].includes(k))) {
        assert.throws(() => j.note(no, state, { kind, cause: 'x' }, 'n'), refused('ILLEGAL_TRANSITION'), `${kind} in ${state}`);
      }
      const other = ORDER_STATES.find((s) => s !== state)!;
      assert.throws(() => j.note(no, other, { kind: NOTES[other][0]!, cause: 'stale' }, 'n'), refused('STALE_STATE'));
      assert.equal(j.events(no).length, n, 'nothing written');
    });
  }

  describe('sub-states', () => {
    it('reversal: set on entering reversing; cancelOrder → closeOrder only; never outside reversing', () => {
      const no = j.createOrder(order()).orderNo;
      j.transition(no, [{ from: 'created', to: 'reversing', event: { kind: 'recovery', cause: 'x' }, patch: { reversal: 'cancelOrder' } }], 'a');
      assert.throws(() => j.note(no, 'reversing', { kind: 'answer', cause: 'x' }, 'b', { reversal: 'bogus' as never }), refused('ILLEGAL_TRANSITION'));
      j.note(no, 'reversing', { kind: 'answer', cause: 'no such order: close it instead' }, 'b', { reversal: 'closeOrder' });
      assert.throws(() => j.note(no, 'reversing', { kind: 'answer', cause: 'x' }, 'c', { reversal: 'cancelOrder' }), /closeOrder.*cancelOrder.*not a change reversing allows/);
      // In attention resuming a reversal, the same rule.
      j.transition(no, [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'reversing' } }], 'd');
      assert.throws(() => j.note(no, 'attention', { kind: 'answer', cause: 'x' }, 'e', { reversal: 'cancelOrder' }), refused('ILLEGAL_TRANSITION'));
      const paid = at('paid');
      assert.throws(() => j.transition(paid, [{ from: 'paid', to: 'refunding', event: { kind: 'recovery', cause: 'x' }, patch: { reversal: 'closeOrder' } }], 'f'), /outside reversing/);
      assert.equal(j.get(no)!.reversal, 'closeOrder');
    });

    it('refundAccepted: sent → accepted, accepted → sent only as a new serial; never outside refunding', () => {
      const no = at('paid');
      j.transition(no, [{ from: 'paid', to: 'refunding', event: { kind: 'recovery', cause: 'x' }, patch: { refundNo: `${no}R1`, refundAccepted: false } }], 'a');
      j.note(no, 'refunding', { kind: 'answer', cause: 'refund: ACCEPTED' }, 'b', { refundAccepted: true });
      j.note(no, 'refunding', { kind: 'answer', cause: 'refund failed: new refund serial' }, 'c', { refundNo: `${no}R2`, refundAccepted: false });
      assert.deepEqual(SUB_STATES.refundAccepted.changes, [[false, true], [true, false], [false, false]]);
      const created = at('created');
      assert.throws(() => j.note(created, 'created', { kind: 'resend', cause: 'x' }, 'd', { refundAccepted: true }), /outside refunding/);
      assert.equal(j.get(no)!.refundAccepted, false);
      // Accepted stays accepted: writing it again is no change the table has (only a new serial goes back to sent).
      j.note(no, 'refunding', { kind: 'answer', cause: 'refund: ACCEPTED' }, 'd', { refundAccepted: true });
      assert.throws(() => j.note(no, 'refunding', { kind: 'answer', cause: 'x' }, 'e', { refundAccepted: true }), /refundAccepted true → true is not a change refunding allows/);
      // Likewise a reversal already a close.
      const r = at('reversing');
      j.note(r, 'reversing', { kind: 'answer', cause: 'x' }, 'f', { reversal: 'closeOrder' });
      assert.throws(() => j.note(r, 'reversing', { kind: 'answer', cause: 'x' }, 'g', { reversal: 'closeOrder' }), /reversal "closeOrder" → "closeOrder" is not a change reversing allows/);
    });

    it('entering a state sets its sub-state to any value, whatever an earlier state left in the field', () => {
      const before = { resumeState: null, reversal: 'closeOrder', refundAccepted: true };
      assert.equal(subStateProblem({ ...before, state: 'paid' }, 'refunding', { refundAccepted: true }), null);
      assert.equal(subStateProblem({ ...before, state: 'created' }, 'reversing', { reversal: 'closeOrder' }), null);
      // Staying in it: only the table's changes.
      assert.equal(subStateProblem({ ...before, state: 'refunding' }, 'refunding', { refundAccepted: true }), 'refundAccepted true → true is not a change refunding allows');
    });

    it('resumeState: set only on entering attention, to the state it came from', () => {
      const a = at('reversing');
      assert.throws(() => j.transition(a, [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'refunding' } }], 'a'), /not the state attention was entered from/);
      assert.throws(() => j.note(a, 'reversing', { kind: 'answer', cause: 'x' }, 'a', { resumeState: 'reversing' }), /only on entering attention/);
      j.transition(a, [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'reversing' } }], 'a');
      assert.equal(j.get(a)!.resumeState, 'reversing');
      // Back in attention later from refunding: it resumes the refund (not the reversal of its first stay), so the
      // refund's sub-state may be written in that step.
      j.transition(a, [{ from: 'attention', to: 'refunding', event: { kind: 'answer', cause: 'paid: refund it' } }], 'b');
      j.transition(a, [{ from: 'refunding', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'refunding', refundAccepted: true } }], 'c');
      assert.deepEqual([j.get(a)!.resumeState, j.get(a)!.refundAccepted], ['refunding', true]);
    });
  });

  describe('sub-states of orders written by an older release (a field never set, attention without resumeState)', () => {
    const force = (no: string, set: string) => j.db.prepare(`UPDATE orders SET ${set} WHERE order_no = ?`).run(no);

    it('a reversal never set may be set to either while reversing; one set changes only as the table allows', () => {
      const no = at('reversing');
      force(no, 'reversal = NULL');
      j.note(no, 'reversing', { kind: 'answer', cause: 'x' }, 'a', { reversal: 'closeOrder' });
      assert.equal(j.get(no)!.reversal, 'closeOrder');
      const other = at('reversing');
      force(other, "reversal = 'cancelOrder'");
      assert.throws(() => j.note(other, 'reversing', { kind: 'answer', cause: 'x' }, 'b', { reversal: 'cancelOrder' }), /reversal "cancelOrder" → "cancelOrder" is not a change reversing allows/);
      j.note(other, 'reversing', { kind: 'answer', cause: 'x' }, 'b', { reversal: 'closeOrder' });
    });

    it('attention without resumeState resumes a reversal; entering attention keeps the phase it came from', () => {
      const no = at('reversing');
      j.note(no, 'reversing', { kind: 'answer', cause: 'x' }, 'a', { reversal: 'cancelOrder' });
      force(no, "state = 'attention', resume_state = NULL");
      j.note(no, 'attention', { kind: 'answer', cause: 'x' }, 'b', { reversal: 'closeOrder' });
      assert.throws(() => j.note(no, 'attention', { kind: 'answer', cause: 'x' }, 'c', { refundAccepted: true }), /refundAccepted false → true outside refunding \(the order goes to attention\)/);
      // Into attention from refunding (resumeState given or left out): its sub-state changes as refunding allows.
      const r = at('refunding');
      j.transition(r, [{ from: 'refunding', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'refunding', refundAccepted: true } }], 'd');
      assert.equal(j.get(r)!.refundAccepted, true);
      const r2 = at('refunding');
      j.transition(r2, [{ from: 'refunding', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { refundAccepted: true } }], 'd');
      assert.throws(() => j.transition(at('reversing'), [{ from: 'reversing', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { refundAccepted: true } }], 'd'), /outside refunding \(the order goes to attention\)/);
      // resumeState once in attention: refused, also to the same value.
      assert.throws(() => j.note(r, 'attention', { kind: 'answer', cause: 'x' }, 'e', { resumeState: 'refunding' }), /resumeState is set only on entering attention \(here attention → attention\)/);
      assert.throws(() => j.transition(r, [{ from: 'attention', to: 'refunded', event: { kind: 'answer', cause: 'x' }, patch: { resumeState: 'refunding' } }], 'e'), /here attention → refunded/);
      assert.throws(() => j.transition(at('refunding'), [{ from: 'refunding', to: 'attention', event: { kind: 'effort-spent', cause: 'x' }, patch: { resumeState: 'reversing' } }], 'e'), /resumeState "reversing" is not the state attention was entered from \(refunding\)/);
      assert.throws(() => j.note(at('refunding'), 'refunding', { kind: 'answer', cause: 'x' }, 'e', { refundAccepted: 'yes' as never }), /refundAccepted false → "yes": not one of false, true/);
    });
  });

  it('kindOf: the first kind the table allows (a note: the state\'s first); pathTo: the shortest route', () => {
    assert.equal(kindOf('created', 'paid'), 'answer');
    assert.equal(kindOf('created', 'created'), 'rate-limited');
    assert.equal(kindOf('delivering', 'delivered'), 'released');
    assert.throws(() => kindOf('created', 'delivered'), /^Error: created → delivered is not in the transition table$/);
    assert.deepEqual(pathTo('created'), []);
    assert.deepEqual(pathTo('delivered').map((s) => `${s.from}>${s.to}:${s.kind}`), ['created>paid:answer', 'paid>delivering:release', 'delivering>delivered:released']);
    assert.deepEqual(pathTo('attention').map((s) => s.to), ['reversing', 'attention']);
    assert.throws(() => pathTo('bogus' as OrderState), /no route to bogus in the transition table/);
    // Shortest also where a state's first edge in the table comes from farther away.
    const edges = [
      { from: 'paid', to: 'delivered', kinds: ['released'], label: 'b' },
      { from: 'created', to: 'paid', kinds: ['answer'], label: 'a' },
      { from: 'created', to: 'delivered', kinds: ['recovery'], label: 'c' },
    ] as unknown as Parameters<typeof pathTo>[1];
    assert.deepEqual(pathTo('delivered', edges), [{ from: 'created', to: 'delivered', kind: 'recovery' }]);
    assert.equal(phaseOf('attention', null), 'reversing');
    assert.equal(phaseOf('attention', 'refunding'), 'refunding');
    assert.equal(phaseOf('paid', 'refunding'), 'paid');
    assert.equal(allowed(null, 'created', 'scan'), true);
    assert.equal(allowed(null, 'paid', 'scan'), false);
  });

  it('every cause kind is used by some edge or note', () => {
    const used = new Set<CauseKind>([...TRANSITIONS.flatMap((e) => e.kinds), ...Object.values(NOTES).flat()]);
    assert.deepEqual(CAUSE_KIND_NAMES.filter((k) => !used.has(k)), []);
  });
});
