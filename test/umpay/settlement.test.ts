// The settlement file read record by record and row by row, small inputs with exact answers (issue 21 mutation run):
// the CSV envelope (quotes, line ends, blank lines, damage and the line it is reported at), each money column's rule
// and its words, the header, the file's name, the paced parse, and the charset a chunk at a time. settle-parse.test.ts
// has the hostile shapes at size (timed), settle-download.test.ts the file from the sandbox.
import assert from 'node:assert/strict';
import { CharsetSniffer, csvRecords, decodeSettlement, decodeSettlementFile, MAX_RECORD_CHARS, parseSettlement, parseSettlementPaced, SETTLEMENT_COLUMNS, SettlementParser } from '../../src/umpay/settlement.js';

/** A pay row with its 28 columns; `patch` replaces columns by index. */
function row(patch: Record<number, string> = {}, columns = 28): string {
  const base = ['K1', '20261204100000', '41509208', 'T1', 'S1', 'O1', 'Shop', 'P1', '01', 'SUCCESS', '100', '0', 'wechat', '2', '1', '0.6', 'T1', '99', '0', '0', 'PS1', 'TS1', 'pay', '', '', '', '', 'R1'];
  for (const [i, v] of Object.entries(patch)) base[Number(i)] = v;
  return base.slice(0, columns).join(',');
}

describe('umpay settlement: CSV records', () => {
  it('lines, CRLF, a last line without an end, blank lines skipped, each record with the line it starts on', () => {
    assert.deepEqual(csvRecords('a,b\nc,d\n'), [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c', 'd'] }]);
    assert.deepEqual(csvRecords('a,b\r\nc\r\n'), [{ line: 1, fields: ['a', 'b'] }, { line: 2, fields: ['c'] }]);
    assert.deepEqual(csvRecords('a,b'), [{ line: 1, fields: ['a', 'b'] }]);
    assert.deepEqual(csvRecords('a\n\n  \nb\n'), [{ line: 1, fields: ['a'] }, { line: 4, fields: ['b'] }]);
    assert.deepEqual(csvRecords(',\n'), [{ line: 1, fields: ['', ''] }]);
    assert.deepEqual(csvRecords(''), []);
  });

  it('lone \\r ends a record too, and \\r\\n after a quoted field is one line end', () => {
    assert.deepEqual(csvRecords('a\rb\rc'), [{ line: 1, fields: ['a'] }, { line: 2, fields: ['b'] }, { line: 3, fields: ['c'] }]);
    assert.deepEqual(csvRecords('"a"\r\nb\n'), [{ line: 1, fields: ['a'] }, { line: 2, fields: ['b'] }]);
    assert.deepEqual(csvRecords('a\r\rb\n'), [{ line: 1, fields: ['a'] }, { line: 3, fields: ['b'] }]);
    assert.deepEqual(csvRecords('x,"y"\r'), [{ line: 1, fields: ['x', 'y'] }]);
    // A blank record ended by a lone \r is skipped like a blank line; two line feeds are two lines.
    assert.deepEqual(csvRecords('  \rb\n'), [{ line: 2, fields: ['b'] }]);
    assert.deepEqual(csvRecords('a"b\n\nc\n'), [{ line: 1, fields: ['a"b'] }, { line: 3, fields: ['c'] }]);
  });

  it('quoted fields hold commas, doubled quotes and line ends; the next record starts on its own line', () => {
    assert.deepEqual(csvRecords('"a,b","c""d","e\nf",g\nh\n'), [{ line: 1, fields: ['a,b', 'c"d', 'e\nf', 'g'] }, { line: 3, fields: ['h'] }]);
    assert.deepEqual(csvRecords('"a\n\nb",c\nd\n'), [{ line: 1, fields: ['a\n\nb', 'c'] }, { line: 4, fields: ['d'] }]);
    assert.deepEqual(csvRecords('"",x\n'), [{ line: 1, fields: ['', 'x'] }]);
    assert.deepEqual(csvRecords('""""\n'), [{ line: 1, fields: ['"'] }]);
    // A quote inside a field (not at its start) is text.
    assert.deepEqual(csvRecords('a"b,c\n'), [{ line: 1, fields: ['a"b', 'c'] }]);
    assert.deepEqual(csvRecords('x,a"b\ny\n'), [{ line: 1, fields: ['x', 'a"b'] }, { line: 2, fields: ['y'] }]);
  });

  it('text after a closing quote is kept and noted; blanks after it are kept without a note', () => {
    assert.deepEqual(csvRecords('"a"x,b\n'), [{ line: 1, fields: ['ax', 'b'], error: 'text after a closing quote' }]);
    assert.deepEqual(csvRecords('"a" ,b\n'), [{ line: 1, fields: ['a ', 'b'] }]);
    assert.deepEqual(csvRecords('"a" x y\n'), [{ line: 1, fields: ['a x y'], error: 'text after a closing quote' }]);
    assert.deepEqual(csvRecords('"a"x'), [{ line: 1, fields: ['ax'], error: 'text after a closing quote' }]);
  });

  it('a quote not closed by the end of the file: one damaged record with what it read', () => {
    assert.deepEqual(csvRecords('a,"b\nc'), [{ line: 1, fields: ['a', 'b\nc'], error: 'a quoted field is not closed before the end of the file' }]);
    assert.deepEqual(csvRecords('"'), [{ line: 1, fields: [''], error: 'a quoted field is not closed before the end of the file' }]);
  });

  it('a record past MAX_RECORD_CHARS is damage at its line; reading goes on at the line after its first', () => {
    assert.equal(MAX_RECORD_CHARS, 65_536);
    const words = `a record longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`;
    const quoted = csvRecords(`k,"${'x'.repeat(MAX_RECORD_CHARS)}\nnext,1\nlast,2\n`);
    assert.deepEqual(quoted.map((r) => [r.line, r.error, r.error ? undefined : r.fields]), [[1, words, undefined], [2, undefined, ['next', '1']], [3, undefined, ['last', '2']]]);
    const unquoted = csvRecords(`a"${'y'.repeat(MAX_RECORD_CHARS)}\nz\n`);
    assert.deepEqual(unquoted.map((r) => [r.line, r.error]), [[1, words], [2, undefined]]);
    // Just under the limit is one record, read whole.
    const fits = csvRecords(`"${'x'.repeat(MAX_RECORD_CHARS - 10)}",b\n`);
    assert.deepEqual(fits.map((r) => [r.line, r.error, r.fields[1]]), [[1, undefined, 'b']]);
    // A closed quoted field past the cap is damage too. Its line end counted: a record of MAX_RECORD_CHARS characters
    // and its line feed is damage, one less is not.
    assert.deepEqual(csvRecords(`"${'x'.repeat(MAX_RECORD_CHARS + 10)}",b\nz\n`).map((r) => [r.line, r.error]), [[1, words], [2, undefined]]);
    assert.deepEqual(csvRecords(`"${'x'.repeat(MAX_RECORD_CHARS - 2)}"\nz\n`).map((r) => [r.line, r.error]), [[1, words], [2, undefined]]);
    assert.deepEqual(csvRecords(`"${'x'.repeat(MAX_RECORD_CHARS - 3)}"\nz\n`).map((r) => [r.line, r.error]), [[1, undefined], [2, undefined]]);
    assert.deepEqual(csvRecords(`a"${'y'.repeat(MAX_RECORD_CHARS - 2)}\nz\n`).map((r) => [r.line, r.error]), [[1, words], [2, undefined]]);
    assert.deepEqual(csvRecords(`a"${'y'.repeat(MAX_RECORD_CHARS - 3)}\nz\n`).map((r) => [r.line, r.error]), [[1, undefined], [2, undefined]]);
    // An unclosed quote whose line ends early is still damage past the cap, not a record ending at that line...
    assert.deepEqual(csvRecords(`k,"ab\nnext,1\n${'z'.repeat(MAX_RECORD_CHARS)}\n`).map((r) => [r.line, r.error, r.error ? undefined : r.fields.length]), [[1, words, undefined], [2, undefined, 2], [3, undefined, 1]]);
    // ... and a doubled quote across the cap at the very end of the file is damage past the cap, not an unclosed quote.
    assert.deepEqual(csvRecords(`"${'x'.repeat(MAX_RECORD_CHARS - 2)}""`).map((r) => [r.line, r.error]), [[1, words]]);
    // A long line without quotes is no damage: it is split as it is.
    assert.equal(csvRecords(`${'w'.repeat(MAX_RECORD_CHARS + 10)},b\n`)[0]!.error, undefined);
  });
});

describe('umpay settlement: rows and problems', () => {
  it('a pay row: the money columns as numbers, every column by its name', () => {
    const p = parseSettlement(`${row()}\n`);
    assert.equal(p.header, false);
    assert.deepEqual(p.problems, []);
    const r = p.rows[0]!;
    assert.deepEqual(
      { ...r, fields: undefined },
      { line: 1, orderNo: 'K1', payTime: '20261204100000', merchantId: '41509208', transactionId: 'P1', state: 'SUCCESS', orderAmountFen: 100, refundAmountFen: 0, orderType: 'wechat', fields: undefined },
    );
    assert.deepEqual(Object.keys(r.fields), [...SETTLEMENT_COLUMNS]);
    assert.equal(r.fields.referenceNo, 'R1');
    assert.equal(r.fields.merchantName, 'Shop');
    // Only the columns the row has are named.
    const short = parseSettlement(`${row({}, 13)}\n`).rows[0]!;
    assert.deepEqual(Object.keys(short.fields), SETTLEMENT_COLUMNS.slice(0, 13));
  });

  it('Excel\'s text guards and blanks are taken off every column; the state in any case', () => {
    const p = parseSettlement(`${row({ 0: ' ="K-0009" ', 7: "'P7", 9: 'success', 10: '="\t150"', 11: '=" 0 "', 12: "=\"'alipay\"" })}\n`);
    assert.deepEqual(p.problems, []);
    const r = p.rows[0]!;
    assert.deepEqual([r.orderNo, r.transactionId, r.state, r.orderAmountFen, r.refundAmountFen, r.orderType], ['K-0009', 'P7', 'SUCCESS', 150, 0, 'alipay']);
    // Only a whole column ="…" is a guard; a tab inside one is a blank.
    const g = parseSettlement(`${row({ 0: 'K="1"', 7: '="P2"x', 12: '="wechat\t"' })}\n`).rows[0]!;
    assert.deepEqual([g.orderNo, g.transactionId, g.orderType], ['K="1"', '="P2"x', 'wechat']);
  });

  it('a header row is skipped only as the first record; a first row with a state or an amount is data', () => {
    const header = SETTLEMENT_COLUMNS.join(',');
    const p = parseSettlement(`${header}\n${row()}\n`);
    assert.deepEqual([p.header, p.rows.length, p.problems.length], [true, 1, 0]);
    assert.equal(p.rows[0]!.line, 2);
    const twice = parseSettlement(`${row()}\n${header}\n`);
    assert.deepEqual([twice.header, twice.rows.length], [false, 1]);
    assert.match(twice.problems[0]!.message, /^pay time \(column 2\) "payTime" is not YYYYMMDDHHMMSS; state \(column 10\) "state"/);
    // A first row with a good state but a bad amount, or a good amount but a bad state, is data with a problem.
    assert.deepEqual(parseSettlement(`${row({ 10: 'x' })}\n`).header, false);
    assert.deepEqual(parseSettlement(`${row({ 9: 'PAID' })}\n`).header, false);
    assert.deepEqual(parseSettlement('a,b\n').header, true);
    // A damaged first record is reported, never taken for a header.
    const damaged = parseSettlement('"x\n');
    assert.deepEqual([damaged.header, damaged.problems], [false, [{ line: 1, message: 'a quoted field is not closed before the end of the file' }]]);
  });

  it('each money column\'s rule, in words, all of a row\'s problems at once', () => {
    const problem = (patch: Record<number, string>): string => parseSettlement(`${row()}\n${row(patch)}\n`).problems.map((x) => `${x.line}: ${x.message}`).join(' / ');
    assert.equal(problem({ 0: '' }), '2: merchant order no (column 1) is empty');
    assert.equal(problem({ 1: '2026120410000' }), '2: pay time (column 2) "2026120410000" is not YYYYMMDDHHMMSS');
    assert.equal(problem({ 1: '202612041000000' }), '2: pay time (column 2) "202612041000000" is not YYYYMMDDHHMMSS');
    assert.equal(problem({ 9: 'PAID' }), '2: state (column 10) "PAID" is not SUCCESS, REFUND or FAILED');
    assert.equal(problem({ 10: '1.5' }), '2: order amount (column 11) "1.5" is not a whole number of fen');
    assert.equal(problem({ 10: '12345678901234' }), '2: order amount (column 11) "12345678901234" is not a whole number of fen');
    assert.equal(problem({ 11: '-1' }), '2: refund amount (column 12) "-1" is not a whole number of fen');
    assert.equal(problem({ 0: '', 11: '' }), '2: merchant order no (column 1) is empty; refund amount (column 12) "" is not a whole number of fen');
    assert.equal(problem({ 9: 'REFUND', 10: '0', 11: '0' }), '2: a REFUND row with refund amount 0');
    assert.equal(problem({ 10: '0' }), '2: a SUCCESS row with order amount 0');
    assert.equal(problem({ 9: 'FAILED', 10: '0' }), '');
    // A zero amount is named only when the row has no other problem.
    assert.equal(problem({ 0: '', 9: 'REFUND', 10: '0', 11: '0' }), '2: merchant order no (column 1) is empty');
    assert.equal(problem({ 0: '', 10: '0' }), '2: merchant order no (column 1) is empty');
    assert.equal(problem({ 9: 'REFUND', 10: '0', 11: '50' }), '');
    assert.equal(problem({ 10: '1234567890123' }), '');
    const short = parseSettlement(`${row()}\n${row({}, 12)}\n`).problems;
    assert.deepEqual(short, [{ line: 2, message: '12 columns, expected at least 13 (order no … order type) of the 28 in PROTOCOL.md' }]);
    assert.deepEqual(parseSettlement(`${row()}\n"${row()}"x\n`).problems, [{ line: 2, message: 'text after a closing quote' }]);
  });

  it('the file\'s name gives the merchant and the day when it is the platform\'s form', () => {
    assert.deepEqual([parseSettlement('', 'Y471790403_20261204.csv').nameSpId, parseSettlement('', 'Y471790403_20261204.csv').nameDate], ['Y471790403', '20261204']);
    assert.equal(parseSettlement('', 'Y471790403_20261204.CSV').nameDate, '20261204');
    for (const name of ['Y471790403_2026120.csv', 'Y471790403_20261204.csv.1', 'x/Y471790403_20261204.csv', 'Y471790403_20261204.1.csv', '_20261204.csv', undefined]) {
      const p = parseSettlement('', name);
      assert.deepEqual([p.nameSpId, p.nameDate, 'nameDate' in p], [undefined, undefined, false], String(name));
    }
  });

  it('the paced parse gives way after every 64 records once its slice is used, and reads what the plain one does', async () => {
    const text = Array.from({ length: 130 }, (_, i) => row({ 0: `K${i}` })).join('\n');
    let pauses = 0;
    const paced = await parseSettlementPaced(text, 'Y471790403_20261204.csv', 0, () => {
      pauses++;
      return Promise.resolve();
    });
    assert.equal(pauses, 2);
    assert.deepEqual(paced, parseSettlement(text, 'Y471790403_20261204.csv'));
    let none = 0;
    await parseSettlementPaced(text, undefined, 60_000, () => Promise.resolve(void none++));
    assert.equal(none, 0, 'within its slice it never pauses');
    assert.equal((await parseSettlementPaced(text, undefined, 0)).rows.length, 130);
  });

  it('the parser hands over the rows read so far; the result has the later ones', () => {
    const p = new SettlementParser('Y471790403_20261204.csv');
    for (const rec of csvRecords(`${SETTLEMENT_COLUMNS.join(',')}\n${row({ 0: 'A' })}\n${row({ 0: 'B' })}\n`)) p.add(rec);
    assert.equal(p.rowsHeld, 2);
    assert.deepEqual(p.take().map((r) => r.orderNo), ['A', 'B']);
    assert.equal(p.rowsHeld, 0);
    p.add(csvRecords(row({ 0: 'C' }))[0]!);
    const r = p.result();
    assert.deepEqual([r.rows.map((x) => x.orderNo), r.header, r.nameDate], [['C'], true, '20261204']);
  });
});

describe('umpay settlement: the charset, whole and a chunk at a time', () => {
  const cases: [string, number[], string][] = [
    ['ascii', [0x41, 0x2c, 0x42, 0x0a], 'ascii'],
    ['utf-8', [...Buffer.from('A,可乐\n')], 'utf-8'],
    ['GBK pair at the low trail edge', [0x81, 0x40], 'gbk'],
    ['GBK pair at 0x7e', [0x81, 0x7e], 'gbk'],
    ['GBK pair at 0x80', [0x81, 0x80], 'gbk'],
    ['GBK pair at 0xfe', [0xfe, 0xfe, 0x41], 'gbk'],
    ['GBK euro sign alone', [0x41, 0x80, 0x41], 'gbk'],
    ['GBK euro sign last', [0x41, 0x80], 'gbk'],
    ['trail below 0x40', [0x81, 0x3f], 'unknown'],
    ['trail 0x7f', [0x81, 0x7f], 'unknown'],
    ['trail 0xff', [0x81, 0xff], 'unknown'],
    ['lead 0xff', [0x41, 0xff, 0x41], 'unknown'],
    ['a lead byte last', [0x41, 0x81], 'unknown'],
    ['utf-8 cut short', [0x41, 0xc3], 'unknown'],
  ];
  for (const [name, bytes, want] of cases) {
    it(`${name}: ${want}, whole and in chunks of 1, 2 and 3 bytes`, () => {
      const data = Buffer.from(bytes);
      assert.equal(decodeSettlementFile(data).charset, want);
      for (const size of [1, 2, 3, data.length]) {
        const s = new CharsetSniffer();
        for (let i = 0; i < data.length; i += size) s.push(data.subarray(i, i + size));
        assert.equal(s.charset, want, `chunks of ${size}`);
      }
    });
  }

  it('an empty chunk between a GBK lead byte and its trail byte changes nothing', () => {
    const s = new CharsetSniffer();
    for (const c of [[0x41, 0x81], [], [0x40, 0x41]]) s.push(Buffer.from(c));
    assert.equal(s.charset, 'gbk');
    const bad = new CharsetSniffer();
    for (const c of [[0x81], [], [0x3f]]) bad.push(Buffer.from(c));
    assert.equal(bad.charset, 'unknown');
    // Asked twice, the same answer (a UTF-8 sequence cut at the end stays invalid).
    const cut = new CharsetSniffer();
    cut.push(Buffer.from([0x41, 0xc3]));
    assert.deepEqual([cut.charset, cut.charset], ['unknown', 'unknown']);
  });

  it('decodes UTF-8 and GBK to the same text, a byte order mark dropped (only at the start)', () => {
    assert.deepEqual(decodeSettlementFile(Buffer.from('\ufeffA,可\n')), { text: 'A,可\n', charset: 'utf-8' });
    // A doubled mark (an editor adding one to a file that had one): both go.
    assert.deepEqual(decodeSettlementFile(Buffer.from('\ufeff\ufeffA,可\n')), { text: 'A,可\n', charset: 'utf-8' });
    assert.deepEqual(decodeSettlementFile(Buffer.from([0x41, 0x2c, 0xbf, 0xc9])), { text: 'A,可', charset: 'gbk' });
    assert.equal(decodeSettlement(Buffer.from('A,\ufeff可')), 'A,\ufeff可');
    assert.equal(decodeSettlement(Buffer.from('ABC')), 'ABC');
    assert.deepEqual(decodeSettlementFile(Buffer.alloc(0)), { text: '', charset: 'ascii' });
  });
});
