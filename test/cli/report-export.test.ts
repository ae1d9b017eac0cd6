// kiosk report and kiosk export against a temp journal.
import assert from 'node:assert/strict';
import { run as report } from '../../src/cli/report.js';
import { run as exportCmd, csvCell } from '../../src/cli/export.js';
import { seedOrder, tempKiosk, type TempKiosk } from './fixtures.js';

const CODE = '134567890123456789';

describe('kiosk report', () => {
  let k: TempKiosk;
  const day = new Date(2026, 10, 26, 10, 0, 0);
  before(() => {
    k = tempKiosk();
    const j = k.journal();
    seedOrder(j, { state: 'delivered', amountFen: 150, at: day, authCode: CODE });
    seedOrder(j, { state: 'delivered', amountFen: 300, orderType: 'alipay', at: new Date(2026, 10, 26, 11, 0, 0) });
    seedOrder(j, { state: 'delivered', amountFen: 150, at: new Date(2026, 10, 26, 12, 0, 0) });
    seedOrder(j, { state: 'failed', amountFen: 150, at: new Date(2026, 10, 26, 12, 5, 0) });
    seedOrder(j, { state: 'refunded', amountFen: 200, at: new Date(2026, 10, 26, 13, 0, 0) });
    seedOrder(j, { state: 'delivered', amountFen: 999, at: new Date(2026, 10, 25, 13, 0, 0) }); // other day
    seedOrder(j, { state: 'attention', amountFen: 150, at: new Date(2026, 10, 26, 14, 0, 0), reason: 'cancelOrder refused 35' });
    j.close();
  });
  after(() => k.cleanup());

  it('adds up the day by payment type and state, lists refunds and the attention list; exit 1 for attention', async () => {
    const io = k.io();
    const code = await report(['--day', '2026-11-26'], io, () => new Date(2026, 10, 26, 20, 0, 0));
    const out = io.stdout();
    assert.equal(code, 1, io.stderr());
    assert.match(out, /wechat\s+delivered\s+2\s+3\.00/);
    assert.match(out, /alipay\s+delivered\s+1\s+3\.00/);
    assert.match(out, /wechat\s+failed\s+1\s+1\.50/);
    assert.doesNotMatch(out, /9\.99/, 'another day is not counted');
    assert.match(out, /refunded\s+K120261126000005_[0-9a-z]{10}R1\s+2\.00/);
    assert.match(out, /delivered 6\.00; refunds completed that day 2\.00/);
    assert.match(out, /attention\s+wechat\s+1\.50\s+\S+\s+cancelOrder refused 35/);
    assert.ok(!out.includes(CODE) && !out.includes('6789'), 'no payment code, not even its tail');
  });

  it('answers JSON with the same figures', async () => {
    const io = k.io();
    await report(['--day=2026-11-26', '--json'], io, () => new Date(2026, 10, 26, 20, 0, 0));
    const r = JSON.parse(io.stdout());
    assert.equal(r.takenFen, 600);
    assert.equal(r.refundedFen, 200);
    assert.deepEqual(r.byType.wechat, { count: 2, takenFen: 300 });
    assert.equal(r.attention.length, 1);
  });

  it('exit 0 on a quiet day; 2 on a bad day or unknown flag, with the reason', async () => {
    const k2 = tempKiosk();
    try {
      const io = k2.io();
      assert.equal(await report(['--day', '2026-11-26'], io), 0);
      assert.match(io.stdout(), /\(none\)/);
    } finally {
      k2.cleanup();
    }
    let io = k.io();
    assert.equal(await report(['--day', '2026-02-30'], io), 2);
    assert.match(io.stderr(), /--day "2026-02-30" is not a date/);
    io = k.io();
    assert.equal(await report(['--dya', 'x'], io), 2);
    assert.match(io.stderr(), /unknown option --dya/);
  });

  it('names the config problem and exits 2 when the config is bad', async () => {
    const io = k.io();
    assert.equal(await report(['--config', k.dir + '/nope.json'], io), 2);
    assert.match(io.stderr(), /nope\.json.*no such file/);
  });
});

describe('kiosk export', () => {
  let k: TempKiosk;
  before(() => {
    k = tempKiosk();
    const j = k.journal();
    seedOrder(j, { state: 'delivered', amountFen: 150, at: new Date(2026, 10, 24, 9, 0, 0), authCode: CODE });
    seedOrder(j, { state: 'refunded', amountFen: 250, refundFen: 100, at: new Date(2026, 10, 25, 9, 0, 0) });
    seedOrder(j, { state: 'delivered', amountFen: 150, at: new Date(2026, 10, 27, 9, 0, 0) });
    j.close();
  });
  after(() => k.cleanup());

  it('writes CSV of the orders between the days (both included), never a code', async () => {
    const io = k.io();
    assert.equal(await exportCmd(['--from', '2026-11-24', '--to', '2026-11-26', '--csv'], io), 0);
    const lines = io.stdout().split('\r\n').filter(Boolean);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^orderNo,orderTime,createdAt,orderType,txnAmt,amountYuan,state/);
    assert.match(lines[1]!, /^K120261124000001_[0-9a-z]{10},20261124090000,.*,wechat,150,1\.50,delivered,yes/);
    assert.match(lines[2]!, /,refunded,yes,.*,100,/);
    assert.ok(!io.stdout().includes(CODE) && !io.stdout().includes('6789'));
  });

  it('shows a table for people and JSON for machines', async () => {
    let io = k.io();
    await exportCmd(['--from', '2026-11-01', '--to', '2026-11-30'], io);
    assert.match(io.stdout(), /3 orders created 2026-11-01 … 2026-11-30/);
    io = k.io();
    await exportCmd(['--from', '2026-11-27', '--to', '2026-11-27', '--json'], io);
    assert.equal(JSON.parse(io.stdout()).length, 1);
  });

  it('refuses missing or reversed dates with exit 2', async () => {
    let io = k.io();
    assert.equal(await exportCmd(['--from', '2026-11-27'], io), 2);
    assert.match(io.stderr(), /missing --(from|to)/);
    io = k.io();
    assert.equal(await exportCmd(['--from', '2026-11-27', '--to', '2026-11-01'], io), 2);
    assert.match(io.stderr(), /is after --to/);
  });

  it('guards spreadsheet formulas and quotes separators', () => {
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-150'), '-150');
    assert.equal(csvCell('a,b'), '"a,b"');
  });
});
