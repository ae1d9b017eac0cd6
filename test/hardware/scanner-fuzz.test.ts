// Serial fuzz: 100,000 random lines (noise, overlong, partial, valid-looking) through the scanner parser in random
// chunks. Only digit strings come out, every digit line that fits comes out, and the parser's buffer stays bounded.
// (Which digit strings are payment codes is the kiosk's decision: test/kiosk/interaction.test.ts.)
import assert from 'node:assert/strict';
import { SimScanner } from '../../src/hardware/sim/sim-scanner.js';

/** Small deterministic PRNG (mulberry32): the same 100,000 lines on every run. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('hardware/scanner fuzz', function () {
  this.timeout(20_000);

  it('100,000 random lines: only digit strings out, buffer bounded', () => {
    const rand = rng(20261126);
    const int = (n: number) => Math.floor(rand() * n);
    const digits = (n: number) => Array.from({ length: n }, () => String(int(10))).join('');
    const scanner = new SimScanner({ terminator: 'CRLF', maxLineLength: 64 });
    void scanner.open();
    const out: string[] = [];
    let bad = 0;
    scanner.on('code', (c: string) => out.push(c));
    scanner.on('bad', () => bad++);
    const expected: string[] = [];
    let maxBuffered = 0;
    const heapBefore = process.memoryUsage().heapUsed;
    let pending = Buffer.alloc(0);
    const flush = () => {
      // random chunking, as a UART delivers it
      let i = 0;
      while (i < pending.length) {
        const n = 1 + int(200);
        scanner.write(pending.subarray(i, i + n));
        maxBuffered = Math.max(maxBuffered, scanner.parser.buffered);
        i += n;
      }
      pending = Buffer.alloc(0);
    };
    const chunks: Buffer[] = [];
    for (let i = 0; i < 100_000; i++) {
      const kind = int(6);
      let line: Buffer;
      if (kind === 0) {
        const code = ['13', '28', '62'][int(3)];
        line = Buffer.from(code === '62' ? code + digits(17) : code + digits(16)); // valid-looking (valid shape)
      } else if (kind === 1) {
        line = Buffer.from(Array.from({ length: int(80) }, () => int(256)).filter((b) => b !== 0x0a)); // binary noise
      } else if (kind === 2) {
        line = Buffer.from(digits(65 + int(600))); // overlong
      } else if (kind === 3) {
        line = Buffer.from(digits(1 + int(17))); // partial code
      } else if (kind === 4) {
        line = Buffer.from(digits(int(30)) + 'x' + digits(int(10))); // digits with junk
      } else {
        line = Buffer.from(digits(16 + int(9))); // random digit strings, some valid by chance
      }
      const text = line.toString('latin1').replace(/^[\r\n]+|[\r\n]+$/g, '').trim();
      if (/^[0-9]+$/.test(text) && text.length <= 64) expected.push(text);
      chunks.push(line, Buffer.from('\r\n'));
      if (chunks.length >= 2000) {
        pending = Buffer.concat(chunks.splice(0));
        flush();
      }
    }
    pending = Buffer.concat(chunks.splice(0));
    flush();
    for (const c of out) assert.ok(/^[0-9]{1,64}$/.test(c), `not a digit string out: ${c.length} chars`);
    assert.deepEqual(out, expected, 'every digit line, in order, and nothing else');
    assert.ok(out.length > 10_000, `digit strings: ${out.length}`);
    assert.ok(bad > 40_000, `bad lines: ${bad}`); // noise, overlong and junk: half the kinds
    assert.ok(maxBuffered <= 64 + 2, `parser held ${maxBuffered} bytes`);
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 64 * 1024 * 1024, `heap grew ${grown} bytes`);
  });
});
