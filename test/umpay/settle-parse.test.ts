// Hostile settlement files (issue 21 §11): an unclosed quote, `""` then text, lone \r line ends. Each used to be read
// one character at a time as one record (seconds on the daemon's event loop, again at every retry); now the reading
// is linear, no record runs past MAX_RECORD_CHARS, and the file is read and parsed in a worker thread.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CharsetSniffer, csvRecords, decodeSettlementFile, MAX_RECORD_CHARS, parseSettlement } from '../../src/umpay/settlement.js';
import { parseSettlementFile } from '../../src/umpay/settle-parse.js';

const row = (i: number): string =>
  `TEST0120261204000${String(i).padStart(7, '0')},20261204100000,41509208,T1,S1,O1,Shop,P${i},CARD,SUCCESS,100,0,wechat,scene,1,0.6,T1,99,0,0,PS${i},TS${i},K,,,,,R${i}`;
const rows = (n: number): string[] => Array.from({ length: n }, (_, i) => row(i));

/** Median of 3 runs of fn, ms. */
function timed(fn: () => void): number {
  const t: number[] = [];
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    fn();
    t.push(performance.now() - t0);
  }
  return t.sort((a, b) => a - b)[1]!;
}

describe('settlement parsing: hostile shapes', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'settle-parse-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('an unclosed quote is one damaged record at its line, not the rest of the file: the rows after it are still read', () => {
    const text = `${rows(10).join('\n')}\n"${rows(3000).slice(10).join('\n')}\n`;
    const p = parseSettlement(text);
    assert.equal(p.problems.length, 1);
    assert.equal(p.problems[0]!.line, 11);
    assert.match(p.problems[0]!.message, new RegExp(`record longer than ${MAX_RECORD_CHARS} characters`));
    assert.equal(p.rows.length, 2999, 'every row but the damaged one');
    // A small file keeps its words: the quote runs to the end of the file.
    assert.deepEqual(csvRecords('a,"b\nc'), [{ line: 1, fields: ['a', 'b\nc'], error: 'a quoted field is not closed before the end of the file' }]);
  });

  it('`""` then text and lone \\r line ends are read in linear time (against the same rows with \\n, same run)', () => {
    const plain = rows(20_000).join('\n');
    const lone = rows(20_000).join('\r');
    const quoted = `""${rows(20_000).join(' ')}`;
    const base = timed(() => csvRecords(plain));
    const tLone = timed(() => csvRecords(lone));
    const tQuoted = timed(() => csvRecords(quoted));
    assert.equal(csvRecords(lone).length, 20_000);
    assert.equal(parseSettlement(lone).rows.length, 20_000);
    assert.deepEqual(csvRecords(quoted).map((r) => r.error), [`a record longer than ${MAX_RECORD_CHARS} characters (an unclosed quote?)`]);
    // Quadratic (before) was minutes for these; linear is the order of the plain file's time.
    assert.ok(tLone < 10 * base + 200, `lone \\r: ${tLone.toFixed(0)} ms against ${base.toFixed(0)} ms`);
    assert.ok(tQuoted < 10 * base + 200, `"" then text: ${tQuoted.toFixed(0)} ms against ${base.toFixed(0)} ms`);
  });

  it('in a worker thread: the same rows as the in-process parse, a damaged file counted in full with its first problems', async () => {
    const good = join(dir, 'Y471790403_20261204.csv');
    writeFileSync(good, `${rows(1234).join('\r\n')}\r\n`);
    const p = await parseSettlementFile(good, 'Y471790403_20261204.csv');
    const q = parseSettlement(`${rows(1234).join('\r\n')}\r\n`, 'Y471790403_20261204.csv');
    assert.deepEqual(p.rows, q.rows);
    assert.deepEqual([p.charset, p.problemCount, p.nameDate, p.nameSpId, p.header], ['ascii', 0, '20261204', 'Y471790403', false]);
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, rows(100).map((r, i) => (i % 2 ? 'x,y' : r)).join('\n'));
    const d = await parseSettlementFile(bad);
    assert.equal(d.problemCount, 50);
    assert.ok(d.problems.length <= 20 && d.problems[0]!.line === 2, JSON.stringify(d.problems[0]));
    await assert.rejects(parseSettlementFile(join(dir, 'missing.csv')), /ENOENT/);
  });

  it('in a worker thread with `keep`: only the rows of the prefix or named are sent, the others counted', async () => {
    const file = join(dir, 'keep.csv');
    const text = `${rows(2000).join('\n')}\n`;
    writeFileSync(file, text);
    const all = parseSettlement(text).rows;
    const named = [all[7]!.orderNo, all[1999]!.orderNo, 'NOT-IN-FILE'];
    const prefix = all[1000]!.orderNo.slice(0, -2);
    const p = await parseSettlementFile(file, undefined, { prefix, orderNos: named.join('\n') });
    const want = all.filter((r) => r.orderNo.startsWith(prefix) || named.includes(r.orderNo));
    assert.ok(want.length > 2 && want.length < 200, `${want.length} kept`);
    assert.deepEqual(p.rows, want);
    assert.deepEqual([p.rowCount, p.setAside], [2000, 2000 - want.length]);
    const none = await parseSettlementFile(file, undefined, { orderNos: '' });
    assert.deepEqual([none.rows.length, none.rowCount, none.setAside], [0, 2000, 2000]);
    const every = await parseSettlementFile(file);
    assert.deepEqual([every.rows, every.rowCount, every.setAside], [all, 2000, 0]);
  });

  it('the event loop keeps turning while a large file is parsed in the worker', async () => {
    const big = join(dir, 'big.csv');
    writeFileSync(big, `${rows(60_000).join('\n')}\n`);
    let last = performance.now();
    let longest = 0;
    let ticking = true;
    const tick = (): void => {
      const t = performance.now();
      longest = Math.max(longest, t - last);
      last = t;
      if (ticking) setImmediate(tick);
    };
    setImmediate(tick);
    const t0 = performance.now();
    const p = await parseSettlementFile(big);
    const took = performance.now() - t0;
    ticking = false;
    assert.equal(p.rows.length, 60_000);
    // Generous for a loaded machine; bench/settle.ts measures it (≤ 20 ms).
    assert.ok(longest < Math.max(100, took / 5), `longest hold ${longest.toFixed(1)} ms of ${took.toFixed(0)} ms`);
  });

  it('the download decides the charset a chunk at a time, as the whole file would', () => {
    const samples = [Buffer.from('abc,1\n'), Buffer.from('商户,1\n'), Buffer.from([0x61, 0xc9, 0xcc, 0xbb, 0xa7, 0x0a]), Buffer.from([0x61, 0xff, 0xfe, 0x0a]), Buffer.from([0xc9])];
    for (const data of samples) {
      for (const size of [1, 2, 3, 64]) {
        const s = new CharsetSniffer();
        for (let i = 0; i < data.length; i += size) s.push(data.subarray(i, i + size));
        assert.equal(s.charset, decodeSettlementFile(data).charset, `${data.toString('hex')} in chunks of ${size}`);
      }
    }
  });
});
