// The settlement file read, decoded and parsed as the worker thread does it (parseSettlementParts), in-process, and
// through the worker (parseSettlementFile): what is posted when, and what reaches the caller (issue 21 mutation run).
// settle-parse.test.ts has the hostile shapes at size and the event loop's time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keptBy, parseSettlementFile, parseSettlementParts } from '../../src/umpay/settle-parse.js';
import { parseSettlement, SETTLEMENT_COLUMNS } from '../../src/umpay/settlement.js';

const row = (no: string, amount = '100'): string => `${no},20261204100000,41509208,T1,S1,O1,Shop,P${no},01,SUCCESS,${amount},0,wechat`;

describe('umpay settlement file parsed in parts (the worker\'s work)', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'settle-parts-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('rows in batches as they are read, then the rest of the result with the first problems and their count', () => {
    const text = [SETTLEMENT_COLUMNS.join(','), row('A'), row('B', 'x'), row('C'), row('D'), row('E', 'y'), row('F'), ''].join('\n');
    const file = join(dir, 'Y471790403_20261204.csv');
    writeFileSync(file, text);
    const posted: unknown[] = [];
    parseSettlementParts({ path: file, fileName: 'Y471790403_20261204.csv', batch: 2, keepProblems: 1 }, (m) => posted.push(m));
    const all = parseSettlement(text, 'Y471790403_20261204.csv');
    assert.deepEqual(all.rows.map((r) => r.orderNo), ['A', 'C', 'D', 'F']);
    const [a, c, d, f] = all.rows;
    assert.deepEqual(posted, [
      { part: [a, c] },
      { part: [d, f] },
      { answer: { header: true, nameSpId: 'Y471790403', nameDate: '20261204', charset: 'ascii', problems: [all.problems[0]], problemCount: 2, rowCount: 4, setAside: 0, sample: text.slice(0, 120) } },
    ]);
    // With `keep`: only the rows it names are posted (prefix C, order F), the others counted as set aside.
    const kept: unknown[] = [];
    parseSettlementParts({ path: file, fileName: 'Y471790403_20261204.csv', batch: 2, keepProblems: 1, keep: { prefix: 'C', orderNos: 'F\nX' } }, (m) => kept.push(m));
    assert.deepEqual(kept.slice(0, -1), [{ part: [c] }, { part: [f] }]);
    assert.deepEqual([(kept.at(-1) as { answer: { rowCount: number; setAside: number } }).answer.rowCount, (kept.at(-1) as { answer: { setAside: number } }).answer.setAside], [4, 2]);
  });

  it('which rows keep names: those starting with its prefix (never ending with it) or named in full; no prefix or an empty one matches nothing', () => {
    const rows = parseSettlement(['C1', 'XC', 'D', 'AB', 'A', 'undefined-1', 'Z'].map((no) => row(no)).join('\n')).rows;
    const kept = (keep: Parameters<typeof keptBy>[0]): string[] => rows.filter(keptBy(keep)).map((r) => r.orderNo);
    assert.deepEqual(kept(undefined), ['C1', 'XC', 'D', 'AB', 'A', 'undefined-1', 'Z']);
    assert.deepEqual(kept({ prefix: 'C' }), ['C1']);
    assert.deepEqual(kept({ prefix: 'C', orderNos: 'AB\nZ' }), ['C1', 'AB', 'Z']);
    // Numbers are whole order numbers, one per line (never their characters).
    assert.deepEqual(kept({ orderNos: 'AB\nD' }), ['D', 'AB']);
    assert.deepEqual(kept({ prefix: '', orderNos: 'D' }), ['D']);
    assert.deepEqual(kept({ orderNos: '' }), []);
    assert.deepEqual(kept({}), []);
  });

  it('the last rows short of a batch come before the answer; no rows, no part', () => {
    const file = join(dir, 'few.csv');
    writeFileSync(file, `${row('A')}\n`);
    const posted: unknown[] = [];
    parseSettlementParts({ path: file, batch: 500, keepProblems: 20 }, (m) => posted.push(m));
    assert.equal(posted.length, 2);
    assert.deepEqual((posted[0] as { part: { orderNo: string }[] }).part.map((r) => r.orderNo), ['A']);
    const empty = join(dir, 'empty.csv');
    writeFileSync(empty, '');
    const none: unknown[] = [];
    parseSettlementParts({ path: empty, batch: 500, keepProblems: 20 }, (m) => none.push(m));
    assert.deepEqual(none, [{ answer: { header: false, charset: 'ascii', problems: [], problemCount: 0, rowCount: 0, setAside: 0, sample: '' } }]);
  });

  it('a file that cannot be read is an answer with its error, never a throw', () => {
    const posted: unknown[] = [];
    parseSettlementParts({ path: join(dir, 'missing.csv'), batch: 1, keepProblems: 1 }, (m) => posted.push(m));
    assert.deepEqual(posted, [{ answer: { error: `ENOENT: ENOENT: no such file or directory, open '${join(dir, 'missing.csv')}'` } }]);
  });

  it('through the worker: the same rows; the first 20 problems and the count; a missing file rejects with its error', async () => {
    const lines = Array.from({ length: 1200 }, (_, i) => row(`K${i}`, i % 50 === 0 ? 'bad' : '100'));
    const file = join(dir, 'Y471790403_20261205.csv');
    writeFileSync(file, `${lines.join('\n')}\n`);
    const got = await parseSettlementFile(file, 'Y471790403_20261205.csv');
    const want = parseSettlement(`${lines.join('\n')}\n`, 'Y471790403_20261205.csv');
    assert.deepEqual(got.rows, want.rows);
    assert.deepEqual([got.problemCount, got.problems, got.nameDate, got.charset], [24, want.problems.slice(0, 20), '20261205', 'ascii']);
    await assert.rejects(parseSettlementFile(join(dir, 'missing.csv')), { message: `ENOENT: ENOENT: no such file or directory, open '${join(dir, 'missing.csv')}'` });
  });
});
