// One day's settlement (src/payment/settle-day.ts) with a download double instead of the network: every way the
// download ends, a damaged file, a file changed after the download, and a good file's mismatches stored and
// logged; the reason a technician reads for each finding kind, exactly. The same over real HTTP against the
// sandbox is test/umpay/settle-download.test.ts.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type OrderState } from '../../src/journal/journal.js';
import { kindOf } from '../../src/journal/states.js';
import { createLogger } from '../../src/log.js';
import { compareDay, compareDayPaced, fetchAndReconcile, keepRows, recordDay, localYmd, mismatchReason, previousDay, type SettleDayDeps } from '../../src/payment/settle-day.js';
import { parseSettlement } from '../../src/umpay/settlement.js';
import { ADVICE, OK_KINDS, type FindingKind } from '../../src/payment/settle-compare.js';
import { formatOrderTime } from '../../src/umpay/messages.js';
import type { SettleDownload } from '../../src/umpay/client.js';
import { lineSink } from '../cli/flow.js';

const DAY = '20261201';
const row = (orderNo: string, amount: number, state = 'SUCCESS'): string => `${orderNo},${DAY}093015,41509208,,,,m,P-${orderNo},,${state},${amount},0,wechat,,,,,,,,,,,,,,`;

describe('payment/settle-day: one day fetched and reconciled (download double)', () => {
  let dir: string;
  let journal: Journal;
  let lines: string[];
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'settle-day-'));
    journal = openJournal(join(dir, 'j.db'));
    lines = [];
  });
  afterEach(() => {
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const file = (text: string | Buffer, over: Partial<Extract<SettleDownload, { kind: 'file' }>> = {}): SettleDownload => {
    const path = join(dir, `Y471790403_${DAY}.csv`);
    writeFileSync(path, text);
    const bytes = Buffer.byteLength(text);
    return { kind: 'file', path, bytes, charset: 'ascii', httpStatus: 200, plaintext: '', elapsedMs: 1, ...over };
  };
  const run = (got: SettleDownload, over: Partial<SettleDayDeps> = {}) => {
    const asked: string[] = [];
    const deps: SettleDayDeps = {
      download: async (d, to) => (asked.push(`${d} ${to}`), got),
      journal, deviceId: 'TEST01', acqMerId: '41509208', dir,
      now: () => new Date('2026-12-02T03:00:00.000Z'),
      log: createLogger({ level: 'debug', destination: lineSink(lines) }),
      ...over,
    };
    return fetchAndReconcile(deps, DAY).then((r) => ({ r, asked }));
  };

  it('a failed download is reported with its cause and the day; the day and folder were asked for', async () => {
    const { r, asked } = await run({ kind: 'failed', cause: 'ECONNREFUSED', plaintext: '', elapsedMs: 1 });
    assert.deepEqual(r, { kind: 'failed', stlDate: DAY, cause: 'ECONNREFUSED' });
    assert.deepEqual(asked, [`${DAY} ${dir}`]);
    assert.equal(journal.reconciled(DAY), false);
  });

  it('an answer instead of the file says what the platform said, and whether it was signed', async () => {
    const answer = (respMsg: string, signatureValid: boolean): SettleDownload => ({ kind: 'answer', respCode: '17', respMsg, signatureValid, raw: '{}', httpStatus: 200, plaintext: '', elapsedMs: 1 });
    assert.deepEqual((await run(answer('no file', true))).r, { kind: 'answered', stlDate: DAY, respCode: '17', respMsg: 'no file', signatureValid: true, cause: 'the platform answered respCode 17 (no file) instead of the file' });
    assert.deepEqual((await run(answer('', false))).r, {
      kind: 'answered', stlDate: DAY, respCode: '17', respMsg: '', signatureValid: false, cause: 'an answer that does not verify with the platform key (respCode 17) instead of the file',
    });
  });

  it('a file that changed or went away after the download is not compared', async () => {
    const got = file(`${row('TEST0120261201000001', 100)}\n`);
    assert.deepEqual((await run({ ...got, bytes: 5 } as SettleDownload)).r, { kind: 'failed', stlDate: DAY, cause: `${(got as { path: string }).path} changed after the download`, file: (got as { path: string }).path });
    const gone = { ...got, path: join(dir, 'nope.csv') } as SettleDownload;
    const r = (await run(gone)).r;
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', new RegExp(`^${join(dir, 'nope.csv')}: ENOENT`));
    assert.equal(r.kind === 'failed' && r.file, join(dir, 'nope.csv'));
  });

  it('a damaged file is not compared, is removed, and the cause shows how it began (whitespace folded)', async () => {
    const text = 'not,a\r\n\tsettlement   file\n';
    const got = file(text);
    const r = (await run(got)).r;
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /^damaged file \(1 unreadable row\(s\), first at line 2: 1 columns, expected at least 13 .+; it began: "not,a settlement file "\)$/);
    assert.equal(existsSync((got as { path: string }).path), false, 'removed');
    const bytes = Buffer.from([0x41, 0xff, 0xff, 0xff, 0x0a]);
    const r2 = (await run(file(bytes))).r;
    assert.match(r2.kind === 'failed' ? r2.cause : '', /^damaged file \(bytes that are neither UTF-8 nor GBK; it began: /);
    assert.equal(journal.reconciled(DAY), false);
  });

  it('a good file: compared, stored, each mismatch logged for attention with its reason; waits for a free kiosk', async () => {
    let frees = 0;
    const text = `${row('TEST0120261201000001', 300)}\n${row('OTHER20261201000001', 50)}\n`;
    const got = file(text);
    const { r } = await run(got, { whenFree: async () => void frees++ });
    assert.equal(r.kind, 'reconciled');
    if (r.kind !== 'reconciled') return;
    assert.deepEqual({ ...r, comparison: undefined }, {
      kind: 'reconciled', stlDate: DAY, ok: false, file: (got as { path: string }).path, bytes: Buffer.byteLength(text), charset: 'ascii', rows: 2,
      mismatches: [{ orderNo: 'TEST0120261201000001', kind: 'paid-not-delivered', reason: 'platform charged ¥3.00 for an order the journal does not know' }],
      newFindings: 1, comparison: undefined,
    });
    assert.equal(r.comparison.otherTerminals, 1);
    assert.ok(frees >= 3, `${frees} waits`);
    const last = journal.lastReconciliation()!;
    assert.equal(last.ok, false);
    assert.equal(last.at, '2026-12-02T03:00:00.000Z');
    assert.deepEqual(last.summary, { file: (got as { path: string }).path, bytes: Buffer.byteLength(text), charset: 'ascii', rows: 2, counts: r.comparison.counts, totals: r.comparison.totals, otherTerminals: 1, mismatches: 1 });
    const warned = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.event === 'attention');
    assert.deepEqual(warned.map((l) => [l.orderNo, l.kind, l.reason, l.msg]), [['TEST0120261201000001', 'paid-not-delivered', `settlement ${DAY}: platform charged ¥3.00 for an order the journal does not know`, 'order needs attention']]);
  });

  // A delivered order of this journal, paid at `orderTime` and settled on `stlDate`.
  const delivered = (orderTime: string, stlDate: string, txnAmt = '100', at = '2026-11-30T12:00:00.000Z', productId?: string): string => {
    const o = journal.createOrder({
      deviceId: 'TEST01', date: orderTime.slice(0, 8), orderTime, txnAmt, orderType: 'wechat', authCode: '134567890123456789', authMask: 'wechat…6789',
      goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 0, at, ...(productId ? { productId } : {}),
    });
    const path: Array<[OrderState, OrderState]> = [['created', 'paid'], ['paid', 'delivering'], ['delivering', 'delivered']];
    journal.transition(o.orderNo, path.map(([from, to]) => ({ from, to, event: { kind: kindOf(from, to), cause: 'test' }, patch: to === 'paid' ? { stlDate } : {} })), at);
    return o.orderNo;
  };

  it('the journal\'s own orders: matched when in the file; one paid just before midnight and settled on the file\'s day is asked for; a row with this journal\'s run id is not another journal\'s', async () => {
    const inFile = delivered(`${DAY}100000`, DAY, '120');
    const lateYesterday = delivered('20261130235900', DAY, '90');
    const runId = journal.identity().runs[0]!.runId;
    const unknownOfOurs = `TEST01${DAY}999999_${runId}`;
    const { r } = await run(file(`${row(inFile, 120)}\n${row(unknownOfOurs, 70)}\n`));
    assert.equal(r.kind, 'reconciled');
    if (r.kind !== 'reconciled') return;
    assert.deepEqual(r.comparison.findings.map((f) => [f.kind, f.orderNo]), [['matched', inFile], ['paid-not-delivered', unknownOfOurs], ['delivered-absent-there', lateYesterday]]);
    assert.deepEqual(r.mismatches.map((m) => m.kind), ['paid-not-delivered', 'delivered-absent-there'], 'a match is no mismatch');
  });

  it('a long damaged file: the cause quotes only its first 120 characters', async () => {
    const text = `${row('TEST0120261201000001', 100)}\n${'x'.repeat(300)}\n`;
    const r = (await run(file(text))).r;
    assert.equal(r.kind, 'failed');
    assert.ok(r.kind === 'failed' && r.cause.endsWith(`it began: ${JSON.stringify(text.slice(0, 120).replace(/\s+/g, ' '))})`), r.kind === 'failed' ? r.cause : '');
  });

  it("only rows that can be this kiosk's reach the comparison: the result is that of every row compared (an order of an earlier deviceId too)", async () => {
    const inFile = delivered(`${DAY}100000`, DAY, '120');
    // Made while the kiosk had another deviceId: its number does not start with this one's, the journal has it.
    const at = '2026-11-30T12:00:00.000Z';
    const old = journal.createOrder({
      deviceId: 'AAOLD', date: DAY, orderTime: `${DAY}090000`, txnAmt: '80', orderType: 'wechat', authCode: '134567890123456789', authMask: 'wechat…6789',
      goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 0, at,
    }).orderNo;
    const zOld = journal.createOrder({
      deviceId: 'ZZOLD', date: DAY, orderTime: `${DAY}090000`, txnAmt: '70', orderType: 'wechat', authCode: '134567890123456780', authMask: 'wechat…6780',
      goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 0, at,
    }).orderNo;
    const others = Array.from({ length: 3000 }, (_, i) => row(`OTHER${DAY}${String(i).padStart(6, '0')}`, 50 + (i % 7)));
    // Of the prefix but not of this kiosk's form: sent by the worker, set aside here.
    const lines = [...others.slice(0, 1500), row(inFile, 120), row(old, 80), row('TEST01X', 10), row(`TEST01${DAY}000077`, 60), ...others.slice(1500), row(zOld, 70), row('ZZOLD9', 5)];
    const text = `${lines.join('\n')}\n`;
    const { r } = await run(file(text));
    assert.equal(r.kind, 'reconciled');
    if (r.kind !== 'reconciled') return;
    const all = compareDay(journal, parseSettlement(text).rows, DAY, 'TEST01', '41509208');
    assert.deepEqual(r.comparison, all);
    assert.equal(r.rows, lines.length);
    assert.equal(all.otherTerminals, 3002);
    assert.deepEqual(all.findings.map((f) => [f.kind, f.orderNo]).slice(0, 4), [['matched', inFile], ['paid-not-delivered', old], ['paid-not-delivered', `TEST01${DAY}000077`], ['paid-not-delivered', zOld]]);
  });

  it('the comparison reads the journal a page at a time first, a customer going first in between: the same as compareDay', async () => {
    const mine = Array.from({ length: 7 }, (_, i) => delivered(`${DAY}1000${String(i).padStart(2, '0')}`, DAY, String(100 + i)));
    // Of an earlier day, not changed since: not among the days' orders, read as one of the rows'.
    const older = delivered('20261120100000', '20261120', '55', '2026-11-20T12:00:00.000Z', 'P7');
    // Last of the rows' others, so that it is in the last page (the first page does not reach it).
    const lines = [row(mine[0]!, 100), row(mine[2]!, 999), row(`TEST01${DAY}000077`, 60), row('OTHER1', 5), row(older, 56), row(mine[5]!, 105)];
    const rows = parseSettlement(`${lines.join('\n')}\n`).rows;
    let turns = 0;
    const paced = await compareDayPaced(journal, rows, DAY, 'TEST01', '41509208', async () => void turns++, 2);
    assert.deepEqual(paced, compareDay(journal, rows, DAY, 'TEST01', '41509208'));
    // 7 orders of the days in pages of 2 (4), then the rows' 3 others (000077, OTHER1, older) in pages of 2 (2).
    assert.equal(turns, 6);
    assert.deepEqual([paced.counts.matched, paced.counts['amount-mismatch'], paced.counts['delivered-absent-there']], [2, 2, 4]);
    // The older order was read: its amount differs, and the finding names its product (an MDB order).
    assert.deepEqual(paced.findings.find((f) => f.orderNo === older), { kind: 'amount-mismatch', orderNo: older, line: 5, hereState: 'delivered', hereAmountFen: 55, thereState: 'SUCCESS', thereAmountFen: 56, productId: 'P7' });
  });

  it("a day's mismatches are recorded a few at a time, then the day; recording it again repeats nothing", async () => {
    const o = delivered(`${DAY}100000`, DAY, '120');
    const mismatches = [o, 'X1', 'X2', 'X3', 'X4', 'X5'].map((orderNo) => ({ orderNo, kind: 'paid-not-delivered' as const, reason: `r ${orderNo}` }));
    let turns = 0;
    const sizes: number[] = [];
    const record = journal.recordSettleFindings.bind(journal);
    journal.recordSettleFindings = (d, at, f) => (sizes.push(f.length), record(d, at, f));
    const day = { stlDate: DAY, at: '2026-12-02T03:00:00.000Z', ok: false, summary: { rows: 6 } };
    assert.equal(await recordDay(journal, day, mismatches, async () => void turns++, 2), 6);
    // Then the day's row, with no findings of its own.
    assert.deepEqual([turns, sizes], [3, [2, 2, 2, 0]]);
    assert.equal(journal.reconciled(DAY), true);
    assert.deepEqual(journal.lastReconciliation()!.summary, { rows: 6 });
    assert.equal(await recordDay(journal, day, mismatches, async () => void turns++, 2), 0);
    assert.equal(journal.settleFindings(DAY).length, 6);
    assert.equal(journal.getPublic(o)!.flag, `settlement ${DAY}: r ${o}`);
  });

  it("the journal's order numbers without this kiosk's prefix, a page at a time, a customer going first in between", async () => {
    const at = '2026-11-30T12:00:00.000Z';
    const make = (deviceId: string) =>
      journal.createOrder({
        deviceId, date: DAY, orderTime: `${DAY}090000`, txnAmt: '80', orderType: 'wechat', authCode: '134567890123456789', authMask: 'wechat…6789',
        goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 0, at,
      }).orderNo;
    const ours = [make('TEST01'), make('TEST01')];
    const foreign = [make('A1'), make('TEST0'), make('TEST02'), make('TEST1'), make('Z9'), make('TEST'), make('TESU')].sort();
    assert.deepEqual(journal.orderNosWithout('TEST01', '', 100), foreign);
    assert.deepEqual(journal.orderNosWithout('TEST01', '', 2), foreign.slice(0, 2));
    assert.deepEqual(journal.orderNosWithout('TEST01', foreign[1], 3), foreign.slice(2, 5));
    assert.deepEqual(journal.orderNosWithout('TEST01', foreign[4], 3), foreign.slice(5));
    assert.deepEqual(journal.orderNosWithout('', '', 100), []);
    let turns = 0;
    const keep = await keepRows(journal, 'TEST-01', async () => void turns++, 3);
    assert.deepEqual(keep, { prefix: 'TEST01', orderNos: foreign.join('\n') });
    assert.equal(turns, 3, '7 numbers in pages of 3');
    assert.equal(await keepRows(journal, '--', async () => void turns++), undefined, 'no prefix: every row');
    assert.ok(ours.every((no) => no.startsWith('TEST01')));
  });

  it('a file with nothing of this kiosk is a good day', async () => {
    const { r } = await run(file(`${row('OTHER20261201000001', 50)}\n`));
    assert.equal(r.kind === 'reconciled' && r.ok, true);
    assert.equal(journal.lastReconciliation()!.ok, true);
  });
});

describe('payment/settle-day: what a technician reads', () => {
  const f = (kind: FindingKind, over: object = {}) => mismatchReason({ kind, orderNo: 'X', ...over });
  it('says each kind of mismatch with both amounts in yuan', () => {
    assert.equal(f('paid-not-delivered', { hereState: 'absent', thereAmountFen: 300 }), 'platform charged ¥3.00 for an order the journal does not know');
    assert.equal(f('paid-not-delivered', { hereState: 'unknown', thereAmountFen: 5 }), 'platform charged ¥0.05, here the order is unknown (product not released)');
    assert.equal(f('delivered-absent-there', { hereAmountFen: 150 }), 'delivered here (¥1.50), the platform\'s file has no payment for it');
    assert.equal(f('delivered-absent-there', { hereAmountFen: 150, note: 'near midnight' }), 'delivered here (¥1.50), the platform\'s file has no payment for it (near midnight)');
    assert.equal(f('amount-mismatch', { hereAmountFen: 150, thereAmountFen: 151, thereState: 'SUCCESS' }), 'amount differs: here ¥1.50, platform ¥1.51 (SUCCESS)');
    assert.equal(f('amount-mismatch', { thereAmountFen: 151, thereState: 'REFUND' }), 'amount differs: here ?, platform ¥1.51 (REFUND)');
    assert.equal(f('refund-absent-there', { hereState: 'refunded', hereAmountFen: 80 }), 'returned here (refunded, ¥0.80), the platform\'s file shows no refund');
    assert.equal(f('refund-unexpected', { hereState: 'delivered', thereAmountFen: 80 }), 'platform refunded ¥0.80, not made by this kiosk (here: delivered)');
    assert.equal(f('delivered-but-failed-there'), 'delivered here, the platform says the payment failed');
    assert.equal(f('paid-twice', { note: 'also on line 3' }), 'platform settled the order twice (also on line 3)');
    assert.equal(f('paid-twice'), 'platform settled the order twice ()');
    assert.equal(f('fee-mismatch', { note: 'fee 8 fen is not 0.6% of 1000' }), 'fees: fee 8 fen is not 0.6% of 1000');
    assert.equal(f('fee-mismatch'), 'fees: do not add up');
    assert.equal(f('other-journal', { note: 'run x is not this journal\'s' }), 'run x is not this journal\'s');
    assert.equal(f('returned-later'), 'returned-later');
  });

  it('has advice for every kind that needs any, none for a match', () => {
    for (const kind of Object.keys(ADVICE) as FindingKind[]) {
      if (kind === 'matched' || kind === 'refund-matched') assert.equal(ADVICE[kind], '', kind);
      else assert.ok(ADVICE[kind].length > 10, kind);
    }
    assert.deepEqual([...OK_KINDS].sort(), ['matched', 'refund-matched', 'returned-later']);
  });

  it('days are local yyyyMMdd; the previous day crosses months and years', () => {
    const d = new Date(2026, 11, 1, 0, 30);
    assert.equal(localYmd(d), '20261201');
    assert.equal(localYmd(d), formatOrderTime(d).slice(0, 8));
    assert.equal(previousDay(d), '20261130');
    assert.equal(previousDay(new Date(2027, 0, 1, 23, 59)), '20261231');
  });
});
