// kiosk settle: files the sandbox produces for its ledger after real payments through it, and broken ones.
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { run as settle } from '../../src/cli/settle.js';
import { signRequest } from '../../src/umpay/signature.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { startFlow, type Flow } from './flow.js';
import { seedOrder, tempKiosk, wire } from './fixtures.js';

/** The day's file through the platform's own route: GET /pay/downloadSettleFile, signed. */
async function download(flow: Flow, stlDate: string): Promise<string> {
  const key = loadPrivateKey(join(flow.kiosk.dir, 'keys/merchant.key.p8'));
  const fields = { acqSpId: 'Y471790403', stlDate };
  const { signature } = signRequest(fields, key);
  const url = `${flow.sandbox.baseUrl}/pay/downloadSettleFile?${new URLSearchParams({ ...fields, signature })}`;
  const res = await fetch(url);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/csv/);
  return res.text();
}

describe('kiosk settle', function () {
  this.timeout(10000);
  let flow: Flow;
  let today: string;
  let csv: string;
  let file: string;

  before(async () => {
    flow = await startFlow();
    assert.equal((await flow.pay('paid')).kind, 'approved');
    assert.equal((await flow.pay('paid', { amountFen: 300, orderType: 'alipay' })).kind, 'approved');
    assert.equal((await flow.pay('pending-then-paid', { queries: 1 })).kind, 'approved');
    assert.equal((await flow.pay('answer-lost')).kind, 'approved');
    assert.equal((await flow.pay('insufficient-balance')).kind, 'declined');
    // Paid, but the product could not be released: the engine gives the money back.
    assert.equal((await flow.pay('paid', { amountFen: 200, deliverFails: true })).kind, 'not-charged');
    // Never paid while the customer waited: reversed.
    assert.equal((await flow.pay('pending-forever')).kind, 'not-charged');
    await flow.engine.whenIdle();
    const states = flow.journal.countsByState();
    // The failed delivery is reversed with cancelOrder (same day), which returns the charge: a REFUND row.
    assert.deepEqual(states, { delivered: 4, failed: 1, reversed: 2 }, JSON.stringify(states));
    today = wire(new Date()).slice(0, 8);
    csv = await download(flow, today);
    file = join(flow.kiosk.dir, `Y471790403_${today}.csv`);
    writeFileSync(file, csv);
  });
  after(() => flow.close());

  it('matches the sandbox file for its ledger after real payments: exit 0', async () => {
    const io = flow.kiosk.io();
    const code = await settle([file], io);
    assert.equal(code, 0, io.stdout() + io.stderr());
    assert.match(io.stdout(), /matched\s+5\s+ok/);
    assert.match(io.stdout(), /refund-matched\s+1\s+ok/);
    assert.match(io.stdout(), /all matched \(exit 0\)/);
    for (const c of flow.codes) assert.ok(!io.stdout().includes(c.slice(-8)));
  });

  it('--fetch downloads the day from the platform, reconciles it and records it in the journal: exit 0', async () => {
    const io = flow.kiosk.io();
    const day = `${today.slice(0, 4)}-${today.slice(4, 6)}-${today.slice(6)}`;
    const code = await settle(['--fetch', '--date', day, '--json', '--config', flow.kiosk.configFile], io);
    assert.equal(code, 0, io.stdout() + io.stderr());
    const r = JSON.parse(io.stdout()) as { kind: string; ok: boolean; rows: number; charset: string; file: string; mismatches: unknown[] };
    assert.deepEqual([r.kind, r.ok, r.rows, r.mismatches], ['reconciled', true, csv.trimEnd().split('\n').length, []]);
    assert.equal(readFileSync(r.file, 'utf8'), csv);
    const text = flow.kiosk.io();
    assert.equal(await settle(['--fetch', '--date', 'yesterday', '--config', flow.kiosk.configFile], text), 2);
    assert.match(text.stderr(), /--date "yesterday" is not a date/);
  });

  it('accepts the same file with a header, BOM and CRLF', async () => {
    const withHeader = join(flow.kiosk.dir, 'with-header.csv');
    const header = 'merchant order no,pay time,merchant id,terminal id,store id,operator id,merchant name,platform order no,card type,state,order amount,refund amount,order type';
    writeFileSync(withHeader, '\ufeff' + header + '\r\n' + csv.replace(/\n/g, '\r\n'));
    const io = flow.kiosk.io();
    assert.equal(await settle([withHeader, '--date', `${today.slice(0, 4)}-${today.slice(4, 6)}-${today.slice(6)}`, '--json'], io), 0, io.stdout());
    const r = JSON.parse(io.stdout());
    assert.equal(r.files[0].header, true);
    assert.equal(r.counts.matched, 5, 'four delivered, one paid and given back');
  });

  it('finds an amount mismatch, a payment not delivered here, a delivery absent there, and another terminal', async () => {
    const lines = csv.trimEnd().split('\n');
    const success = lines.filter((l) => l.split(',')[9] === 'SUCCESS');
    const [first, second, ...rest] = success;
    const cols = first!.split(',');
    cols[10] = String(Number(cols[10]) + 1); // amount differs
    const failedOrder = lines.find((l) => l.split(',')[9] === 'FAILED')!.split(',');
    const paidHere = [...failedOrder];
    paidHere[9] = 'SUCCESS'; // the platform says paid what the kiosk recorded as declined
    const other = [...cols];
    other[0] = 'OTHERKIOSK20261126000001';
    const edited = [cols.join(','), paidHere.join(','), other.join(','), ...rest, ...lines.filter((l) => l.split(',')[9] !== 'SUCCESS')].join('\n') + '\n';
    void second; // dropped: delivered here, absent there
    const broken = join(flow.kiosk.dir, `Y471790403_${today}.csv`.replace('.csv', '-edited.csv'));
    writeFileSync(broken, edited);
    const io = flow.kiosk.io();
    const code = await settle([broken, '--date', today], io);
    const out = io.stdout();
    assert.equal(code, 1, out + io.stderr());
    assert.match(out, /amount-mismatch\s+1\s+CHECK/);
    assert.match(out, /paid-not-delivered\s+1\s+CHECK/);
    assert.match(out, /delivered-absent-there\s+1\s+CHECK/);
    assert.match(out, /paid-not-delivered\s+K1\d+_[0-9a-z]{10}\s+\d+\s+failed\s+1\.50\s+SUCCESS\s+1\.50\s+final here as failed/);
    assert.match(out, /other terminals' rows: 1/);
    assert.match(out, /what to do:\n\s+amount-mismatch: /);
    assert.match(out, /3 orders do not match \(exit 1\)/);
  });

  it('issue 10 §1: an order of this deviceId with a run id that is not this journal\'s is another journal\'s (two kiosks, one deviceId)', async () => {
    const lines = csv.trimEnd().split('\n');
    const cols = lines.find((l) => l.split(',')[9] === 'SUCCESS')!.split(',');
    const ours = cols[0]!;
    assert.match(ours, /_[0-9a-z]{10}$/);
    const twin = [...cols];
    twin[0] = ours.replace(/_[0-9a-z]{10}$/, '_zzzzzzzzzz'); // same deviceId, date and sequence; another run
    const file = join(flow.kiosk.dir, `Y471790403_${today}-twin.csv`);
    writeFileSync(file, [...lines, twin.join(',')].join('\n') + '\n');
    const io = flow.kiosk.io();
    assert.equal(await settle([file, '--date', today], io), 1);
    assert.match(io.stdout(), /other-journal\s+1\s+CHECK/);
    assert.match(io.stdout(), /other-journal\s+K1\d+_zzzzzzzzzz\s+\d+\s+absent\s+-\s+SUCCESS\s+[\d.]+\s+run zzzzzzzzzz is not this journal's/);
    assert.match(io.stdout(), /other-journal: another journal makes order numbers with this deviceId/);
  });

  it('reports malformed rows by line and exits 2, still comparing the good rows', async () => {
    const bad = join(flow.kiosk.dir, 'bad.csv');
    const lines = csv.trimEnd().split('\n');
    lines.splice(1, 0, 'garbage line');
    lines.push(lines[0]!.replace(/,SUCCESS,(\d+),/, ',SUCCESS,1.5,'));
    writeFileSync(bad, lines.join('\n'));
    const io = flow.kiosk.io();
    assert.equal(await settle([bad, '--date', today], io), 2);
    assert.match(io.stdout(), /bad\.csv:2: 1 columns, expected at least 13/);
    assert.match(io.stdout(), new RegExp(`bad\\.csv:${lines.length}: order amount \\(column 11\\) "1\\.5"`));
    assert.match(io.stdout(), /BAD INPUT/);
  });

  it('exit 2 for a missing file, no file, or a bad --date', async () => {
    let io = flow.kiosk.io();
    assert.equal(await settle([join(flow.kiosk.dir, 'nope.csv')], io), 2);
    assert.match(io.stderr(), /nope\.csv: no such file/);
    io = flow.kiosk.io();
    assert.equal(await settle([], io), 2);
    assert.match(io.stderr(), /no settlement file given/);
    io = flow.kiosk.io();
    assert.equal(await settle([file, '--date', '26/11/2026'], io), 2);
  });

  it('exit 2, reading nothing, for a device (endless) or a file far larger than a settlement file', async () => {
    let io = flow.kiosk.io();
    assert.equal(await settle(['/dev/zero'], io), 2);
    assert.match(io.stderr(), /\/dev\/zero: not a regular file/);
    const huge = join(flow.kiosk.dir, 'huge.csv');
    writeFileSync(huge, '');
    truncateSync(huge, 65 * 1024 * 1024); // sparse: instant, no disk used
    io = flow.kiosk.io();
    assert.equal(await settle([huge], io), 2);
    assert.match(io.stderr(), /huge\.csv: 65\.0 MiB, larger than a settlement file can be/);
  });
});

describe('kiosk settle against hand-made journals', () => {
  it('flags a paid-twice row, an unexpected refund and a refund missing from the file', async () => {
    const k = tempKiosk();
    try {
      const j = k.journal();
      const at = new Date(2026, 10, 26, 10, 0, 0);
      const a = seedOrder(j, { state: 'delivered', at });
      const b = seedOrder(j, { state: 'delivered', at });
      // Paid the day before, refunded on the 26th: the 26th's file must carry its REFUND row.
      const c = seedOrder(j, { state: 'paid', at: new Date(2026, 10, 25, 10, 0, 0) });
      j.transition(c.orderNo, [{ from: 'paid', to: 'refunding', event: { kind: 'recovery', cause: 'test' }, patch: { refundNo: `${c.orderNo}R1`, refundAmt: '150', refundTime: wire(at) } }], at.toISOString());
      j.transition(c.orderNo, [{ from: 'refunding', to: 'refunded', event: { kind: 'answer', cause: 'test' } }], at.toISOString());
      j.close();
      const row = (orderNo: string, state: string, amount: number, refund: number) =>
        [orderNo, '20261126100500', '41509208', '', '', '', 'M', `T${orderNo}`, '', state, amount, refund, 'wechat', '2', '1', '0.60', 'T1', '149', '0', '0', '', '', 'pay', '', '', '', '', ''].join(',');
      const f = join(k.dir, 'Y471790403_20261126.csv');
      writeFileSync(f, [row(a.orderNo, 'SUCCESS', 150, 0), row(a.orderNo, 'SUCCESS', 150, 0), row(b.orderNo, 'SUCCESS', 150, 0), row(b.orderNo, 'REFUND', 0, 150)].join('\n'));
      const io = k.io();
      assert.equal(await settle([f, '--json'], io), 1);
      const r = JSON.parse(io.stdout());
      const kinds = r.findings.map((x: { kind: string; orderNo: string }) => `${x.kind} ${x.orderNo}`).sort();
      assert.deepEqual(kinds, [`paid-twice ${a.orderNo}`, `refund-absent-there ${c.orderNo}`, `refund-unexpected ${b.orderNo}`].sort());
      assert.ok(readFileSync(f, 'utf8').length > 0);
    } finally {
      k.cleanup();
    }
  });
});
