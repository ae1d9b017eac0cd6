// The technician commands' shared helpers: tables, money, check lines, the settlement parser.
import assert from 'node:assert/strict';
import { checkLines, table, yuan, ago } from '../../src/cli/tech/format.js';
import { csvRecords, decodeSettlement, parseSettlement } from '../../src/umpay/settlement.js';

describe('cli/tech format', () => {
  it('aligns text left and numbers right under a rule', () => {
    const t = table(['state', 'count'], [
      ['delivered', 12],
      ['refunded', 3],
    ]);
    assert.equal(t, 'state      count\n---------  -----\ndelivered     12\nrefunded       3\n');
  });
  it('says (none) for an empty table', () => {
    assert.match(table(['a'], []), /\(none\)\n$/);
  });
  it('prints fen as yuan without floating point', () => {
    assert.equal(yuan(1), '0.01');
    assert.equal(yuan(123456), '1234.56');
    assert.equal(yuan(-250), '-2.50');
    assert.equal(yuan(9007199254740993n), '90071992547409.93');
  });
  it('marks checks and gives the fix only for failures', () => {
    const s = checkLines([
      { name: 'config', ok: true, detail: 'valid', fix: 'never shown' },
      { name: 'key', ok: false, detail: 'mode 0644', fix: 'chmod 600 k' },
    ]);
    assert.equal(s, '✓ config  valid\n✗ key     mode 0644\n          fix: chmod 600 k\n');
  });
  it('words durations', () => {
    assert.equal(ago(5_000), '5s');
    assert.equal(ago(3_725_000), '1h02m');
  });
});

const ROW = (over: Partial<Record<number, string>> = {}) => {
  const cols = ['K1-0001', '20261126101010', '41509208', 'K1', '', '', 'Shop', 'T0001', '01', 'SUCCESS', '150', '0', 'wechat', '2', '1', '0.6', 'D1', '149', '0', '0', 'P1', 'W1', '', '', '', '', '', 'R1'];
  for (const [k, v] of Object.entries(over)) cols[Number(k)] = v!;
  return cols.join(',');
};

describe('cli/tech settlement parser', () => {
  it('reads BOM, CRLF, a header row and quoted fields with commas, quotes and newlines', () => {
    const header = 'merchant order no,pay time,merchant id,terminal id,store id,operator id,merchant name,platform order no,card type,state,order amount,refund amount,order type';
    const text = '\ufeff' + header + '\r\n' + ROW({ 6: '"Shop, ""A""\nline 2"' }) + '\r\n\r\n' + ROW({ 0: 'K1-0002', 9: 'REFUND', 10: '0', 11: '150' }) + '\r\n';
    const p = parseSettlement(decodeSettlement(Buffer.from(text, 'utf8')), 'Y471790403_20261126.csv');
    assert.equal(p.header, true);
    assert.deepEqual(p.problems, []);
    assert.equal(p.rows.length, 2);
    assert.equal(p.rows[0]!.fields.merchantName, 'Shop, "A"\nline 2');
    assert.equal(p.rows[0]!.line, 2);
    assert.equal(p.rows[1]!.line, 5, 'line numbers count the newline inside the quoted field and the blank line');
    assert.equal(p.rows[1]!.state, 'REFUND');
    assert.equal(p.rows[1]!.refundAmountFen, 150);
    assert.equal(p.nameDate, '20261126');
    assert.equal(p.nameSpId, 'Y471790403');
  });
  it('accepts a file without header and Excel text guards', () => {
    const p = parseSettlement(ROW({ 0: '="K1-0009"', 10: ' 150 ' }) + '\n');
    assert.equal(p.header, false);
    assert.equal(p.rows[0]!.orderNo, 'K1-0009');
    assert.equal(p.rows[0]!.orderAmountFen, 150);
  });
  it('reports malformed rows with their line numbers and keeps the good ones', () => {
    const text = [ROW(), 'a,b,c', ROW({ 10: '1.50' }), ROW({ 9: 'PAID', 1: '2026-11-26' }), ROW({ 0: 'K1-0003' }), '"unclosed,x'].join('\n');
    const p = parseSettlement(text);
    assert.deepEqual(
      p.problems.map((x) => x.line),
      [2, 3, 4, 6],
    );
    assert.match(p.problems[0]!.message, /3 columns, expected at least 13/);
    assert.match(p.problems[1]!.message, /order amount \(column 11\) "1.50"/);
    assert.match(p.problems[2]!.message, /pay time .*state \(column 10\) "PAID"/);
    assert.match(p.problems[3]!.message, /not closed/);
    assert.deepEqual(
      p.rows.map((r) => r.orderNo),
      ['K1-0001', 'K1-0003'],
    );
  });
  it('decodes GBK merchant names when the file is not UTF-8', () => {
    // "测试" in GBK
    const withName = Buffer.concat([Buffer.from('K1-0001,20261126101010,41509208,K1,,,', 'latin1'), Buffer.from([0xb2, 0xe2, 0xca, 0xd4]), Buffer.from(',T1,01,SUCCESS,150,0,wechat', 'latin1')]);
    const p = parseSettlement(decodeSettlement(withName));
    assert.equal(p.rows[0]!.fields.merchantName, '测试');
  });
  it('never loops or throws on arbitrary bytes', () => {
    for (const s of ['', '\n\n', '"', '""', ',,,', '\r', 'x\r\ny', '"a""', '\ufeff']) {
      const recs = csvRecords(s);
      assert.ok(Array.isArray(recs));
      parseSettlement(s);
    }
  });
});
