// The signed settlement-file download (HttpGateway.downloadSettleFile) and one day's reconciliation
// (fetchAndReconcile) against the sandbox over real HTTP on 127.0.0.1.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Journal } from '../../src/journal/journal.js';
import { compareDay, fetchAndReconcile, mismatchReason, ordersKnown, setAsideOthers } from '../../src/payment/settle-day.js';
import { compareSettlement } from '../../src/payment/settle-compare.js';
import { testCode, type Sandbox } from '../../src/sandbox/index.js';
import { ymd } from '../../src/sandbox/ledger.js';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { removeStaleParts } from '../../src/umpay/settle-download.js';
import { decodeSettlementFile, parseSettlement, parseSettlementPaced } from '../../src/umpay/settlement.js';
import { settleWorld } from '../sandbox/settle-world.js';
import { call, micropayFields, SP } from '../sandbox/helpers.js';

describe('umpay: settlement file download and daily reconciliation', () => {
  let sb: Sandbox;
  let dir: string;
  let gw: HttpGateway;
  let journal: Journal;
  const today = () => ymd(new Date());
  const world = settleWorld('settle-dl-');
  beforeEach(() => ({ sb, dir, gw, journal } = world));

  let seq = 900000;
  const pay = async (amount = '100') => {
    // An order number of this kiosk's form (TEST01 + day + sequence), never journaled: the sandbox is paid directly.
    const f = micropayFields(testCode('paid', 'wechat'), 'wechat', { txnAmt: amount, orderNo: `TEST01${today()}${++seq}` });
    const r = await call(sb, 'micropay', f);
    assert.equal(r.json!.respCode, '00');
    return f.orderNo;
  };

  it('downloads the day\'s file to <acqSpId>_<day>.csv (0600); a second download never replaces it', async () => {
    await pay();
    await pay('250');
    const a = await gw.downloadSettleFile(today(), join(dir, 'files'));
    assert.equal(a.kind, 'file', JSON.stringify(a));
    if (a.kind !== 'file') return;
    assert.equal(a.path, join(dir, 'files', `Y471790403_${today()}.csv`));
    assert.equal(statSync(a.path).mode & 0o777, 0o600);
    assert.equal(a.charset, 'ascii');
    const parsed = parseSettlement(readFileSync(a.path, 'utf8'));
    assert.deepEqual(parsed.problems, []);
    assert.deepEqual(parsed.rows.map((r) => r.orderAmountFen).sort(), [100, 250]);
    const b = await gw.downloadSettleFile(today(), join(dir, 'files'));
    assert.equal(b.kind === 'file' && b.path, join(dir, 'files', `Y471790403_${today()}.1.csv`));
    assert.deepEqual(readdirSync(join(dir, 'files')).filter((f) => f.endsWith('.part')), []);
  });

  it('a signed JSON error instead of a file is reported as the platform said it (a key the platform does not know: 11)', async () => {
    const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    const stranger = new HttpGateway({ baseUrl: sb.baseUrl, merchant: SP, privateKey: other, platformKey: sb.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 3000 });
    try {
      const r = await stranger.downloadSettleFile(today(), dir);
      assert.deepEqual({ kind: r.kind, respCode: r.kind === 'answer' && r.respCode, signatureValid: r.kind === 'answer' && r.signatureValid }, { kind: 'answer', respCode: '11', signatureValid: true });
      const day = await fetchAndReconcile({ download: (d, to) => stranger.downloadSettleFile(d, to), journal, deviceId: 'TEST01', acqMerId: SP.acqMerId, dir }, today());
      assert.equal(day.kind, 'answered');
      assert.match(day.kind === 'answered' ? day.cause : '', /the platform answered respCode 11/);
      assert.equal(journal.reconciled(today()), false);
    } finally {
      stranger.close();
    }
  });

  it('sandbox faults: a dropped download fails (nothing kept); a corrupted file is not compared', async () => {
    for (let i = 0; i < 20; i++) await pay();
    sb.addFault({ kind: 'settle-drop' });
    const dropped = await gw.downloadSettleFile(today(), dir);
    assert.equal(dropped.kind, 'failed');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.csv') || f.endsWith('.part')), []);
    sb.addFault({ kind: 'settle-corrupt' });
    const day = await fetchAndReconcile({ download: (d, to) => gw.downloadSettleFile(d, to), journal, deviceId: 'TEST01', acqMerId: SP.acqMerId, dir }, today());
    assert.equal(day.kind, 'failed');
    assert.match(day.kind === 'failed' ? day.cause : '', /damaged file/);
    assert.equal(journal.reconciled(today()), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.csv')), [], 'the damaged download is not kept (retries would pile up copies)');
  });

  it('a folder mkdir cannot make (/proc: ENOENT under a folder that exists) fails the download at once instead of retrying for ever', async () => {
    await pay();
    const r = await gw.downloadSettleFile(today(), '/proc/kiosk-settle');
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /^ENOENT: /);
  });

  it('partial downloads a killed process left (kill -9) are removed at the next download; nothing else in the folder is', async () => {
    await pay();
    const files = join(dir, 'parts');
    mkdirSync(files, { recursive: true });
    // A process that has ended (as after kill -9), this one, and a live one (kiosk settle --fetch beside the daemon).
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    const dead = Number(child.stdout);
    const names = {
      dead: `.Y471790403_${today()}.${dead}.0a1b2c3d.part`,
      mine: `.Y471790403_${today()}.${process.pid}.0a1b2c3d.part`,
      live: `.Y471790403_${today()}.1.0a1b2c3d.part`,
      other: 'notes.part',
      csv: `Y471790403_${today()}.csv`,
    };
    for (const n of Object.values(names)) writeFileSync(join(files, n), 'x'.repeat(1000));
    // A link with the pattern's name is never followed nor removed.
    symlinkSync(join(files, 'notes.part'), join(files, `.Y471790403_${today()}.${dead}.ffffffff.part`));
    const r = await gw.downloadSettleFile(today(), files);
    assert.equal(r.kind, 'file', JSON.stringify(r));
    const left = readdirSync(files).sort();
    assert.ok(!left.includes(names.dead), 'the dead process\'s partial file is removed');
    for (const n of [names.mine, names.live, names.other, names.csv, `.Y471790403_${today()}.${dead}.ffffffff.part`]) assert.ok(left.includes(n), `${n} kept`);
    // Of this pid but older than this process: an earlier boot's (the daemon may get the same pid after a power cut).
    const old = new Date(Date.now() - process.uptime() * 1000 - 60_000);
    utimesSync(join(files, names.mine), old, old);
    assert.deepEqual(removeStaleParts(files), [names.mine]);
  });

  it("other terminals' rows are set aside a slice at a time: the comparison over the rest is the same", async () => {
    const mine = await pay('300');
    await pay('120');
    const got = await gw.downloadSettleFile(today(), dir);
    assert.equal(got.kind, 'file');
    if (got.kind !== 'file') return;
    const base = parseSettlement(readFileSync(got.path, 'utf8')).rows;
    const others = Array.from({ length: 12_000 }, (_, i) => ({ ...base[0]!, orderNo: `OTHER7${today()}${i}`, line: 100 + i }));
    const rows = [...others.slice(0, 6000), ...base, ...others.slice(6000)];
    const known = await ordersKnown(journal, rows, () => Promise.resolve());
    let turns = 0;
    const { ours, others: n } = await setAsideOthers(rows, known, 'TEST01', async () => void turns++);
    assert.equal(n, 12_000);
    assert.ok(turns >= 3, `${turns} slices`);
    assert.ok(ours.some((r) => r.orderNo === mine));
    const all = compareDay(journal, rows, today(), 'TEST01', SP.acqMerId, known);
    const part = compareDay(journal, ours, today(), 'TEST01', SP.acqMerId, known);
    assert.deepEqual({ ...part, otherTerminals: part.otherTerminals + n }, all);
  });

  it('a file over the size cap is refused and removed', async () => {
    for (let i = 0; i < 5; i++) await pay();
    const r = await gw.downloadSettleFile(today(), dir, { maxBytes: 200 });
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /larger than 200 bytes/);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.part') || f.endsWith('.csv')), []);
  });

  it('reach(): a TCP connect to the gateway that sends nothing (the sandbox sees no request); a closed port fails', async () => {
    const before = sb.stats().total;
    const up = await gw.reach();
    assert.equal(up.ok, true, up.cause);
    assert.equal(sb.stats().total, before, 'no HTTP request reached the platform');
    const port = new URL(sb.baseUrl).port;
    const closed = new HttpGateway({ baseUrl: 'http://127.0.0.1:9/x', merchant: SP, privateKey: loadPrivateKey(sb.merchantKeyPath!), platformKey: sb.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 3000 });
    const down = await closed.reach();
    closed.close();
    assert.equal(down.ok, false);
    assert.match(down.cause, /127\.0\.0\.1:9: ECONNREFUSED/);
    assert.ok(port);
  });

  it('charset by evidence: UTF-8, GBK, ASCII, neither', () => {
    assert.deepEqual(decodeSettlementFile(Buffer.from('A1,可乐\n', 'utf8')), { text: 'A1,可乐\n', charset: 'utf-8' });
    assert.deepEqual(decodeSettlementFile(Buffer.from([0x41, 0x2c, 0xbf, 0xc9, 0xc0, 0xd6, 0x0a])), { text: 'A,可乐\n', charset: 'gbk' });
    assert.equal(decodeSettlementFile(Buffer.from('A,B\n')).charset, 'ascii');
    assert.equal(decodeSettlementFile(Buffer.from([0x41, 0xff, 0xff, 0xff])).charset, 'unknown');
  });

  it('a platform charge the journal does not know is a mismatch with a clear reason, stored once', async () => {
    const orderNo = await pay('300'); // never journaled: the sandbox was paid directly
    const run = () => fetchAndReconcile({ download: (d, to) => gw.downloadSettleFile(d, to), journal, deviceId: 'TEST01', acqMerId: SP.acqMerId, dir }, today());
    const day = await run();
    assert.equal(day.kind, 'reconciled');
    if (day.kind !== 'reconciled') return;
    assert.equal(day.ok, false);
    assert.deepEqual(day.mismatches, [{ orderNo, kind: 'paid-not-delivered', reason: 'platform charged ¥3.00 for an order the journal does not know' }]);
    assert.equal(journal.reconciled(today()), true);
    assert.equal((await run()).kind === 'reconciled' && journal.settleFindings().length, 1, 'the same finding is not stored twice');
    assert.equal(journal.lastReconciliation()!.ok, false);
  });

  it('the paced parse (gives the event loop back every few ms) reads exactly what the plain one does', async () => {
    const lines = ['merchant order no,pay time,merchant id,terminal id,store id,operator id,merchant name,platform order no,card type,state,order amount,refund amount,order type'];
    for (let i = 0; i < 3000; i++) lines.push(`A${i},20261201093015,41509208,,,,"商户, ""引号""\n第二行",T${i},,SUCCESS,${100 + i},0,wechat,2,1,0.60,T1,99,0,0,P,D,pay,,,,,`);
    lines.push('bad,row');
    const text = '\ufeff' + lines.join('\r\n') + '\r\n\r\n';
    const plain = parseSettlement(text, 'Y471790403_20261201.csv');
    const paced = await parseSettlementPaced(text, 'Y471790403_20261201.csv', 0);
    assert.deepEqual(paced, plain);
    assert.equal(plain.rows.length, 3000);
    assert.equal(plain.rows[5]!.fields.merchantName, '商户, "引号"\n第二行');
    assert.equal(plain.problems.length, 1);
  });

  it('which rows the journal has is found a slice at a time, a customer going first in between; the comparison is the same', async () => {
    const orderNo = await pay('300');
    const mine = journal.createOrder({ deviceId: 'TEST01', date: today(), orderTime: `${today()}100000`, txnAmt: '100', orderType: 'wechat', authCode: '134567890123456789', authMask: 'wechat…6789', goodsId: 'G1', goodsInfo: 'g', acqSpId: SP.acqSpId, acqMerId: SP.acqMerId, scannedAt: 1, at: new Date().toISOString() }).orderNo;
    const got = await gw.downloadSettleFile(today(), dir);
    assert.equal(got.kind, 'file');
    if (got.kind !== 'file') return;
    const file = parseSettlement(readFileSync(got.path, 'utf8')).rows;
    const others = Array.from({ length: 2499 }, (_, i) => ({ ...file[0]!, orderNo: `OTHER${i}` }));
    const rows = [...others, { ...file[0]!, orderNo: mine }, ...file];
    let between = 0;
    const known = await ordersKnown(journal, rows, async () => void between++, 1000);
    assert.equal(between, 3, '2,501 rows in slices of 1,000');
    assert.deepEqual([...known], [mine]);
    assert.ok(!known.has(orderNo), 'a platform charge the journal does not know');
    assert.deepEqual(compareDay(journal, rows, today(), 'TEST01', SP.acqMerId, known), compareDay(journal, rows, today(), 'TEST01', SP.acqMerId));
  });

  it('fees are checked against the row\'s own rate and settlement amount', () => {
    const row = (fee: string, settled: string) =>
      parseSettlement(`T20261201000001,20261201093015,41509208,,,,m,P1,,SUCCESS,1000,0,wechat,2,${fee},0.60,T1,${settled},0,0,S1,D1,pay,,,,,\n`).rows;
    const cmp = (rows: ReturnType<typeof row>) => compareSettlement({ rows, lookup: () => undefined, ordersOnDays: [], days: new Set(), deviceId: 'T', acqMerId: '41509208' });
    assert.equal(cmp(row('6', '994')).counts['fee-mismatch'], 0);
    const bad = cmp(row('60', '940'));
    assert.equal(bad.counts['fee-mismatch'], 1);
    assert.match(mismatchReason(bad.findings.find((f) => f.kind === 'fee-mismatch')!), /^fees: fee 60 fen is not 0.6% of 1000/);
    assert.equal(cmp(row('5', '995')).counts['fee-mismatch'], 0, 'a fen either way');
  });
});
