// Issue 10 (also): between a scan and the vend pulse the customer waits for exactly the two commits that protect
// the money (order created; paid + delivering), also after the idle WAL purge. Counted at the system-call
// level: the real daemon in a child process under strace, fsync and fdatasync between two markers.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { testCode } from '../../src/sandbox/index.js';
import { DaemonFixture } from './daemon-helpers.js';

const CHILD = fileURLToPath(new URL('./fsync-child.js', import.meta.url));

/** fsync/fdatasync calls between "SCAN i" and "PULSE i", per payment, from an strace -f log. */
export function syncsPerPayment(trace: string): number[] {
  const counts: number[] = [];
  let open: number | undefined;
  for (const line of trace.split('\n')) {
    const scan = /write\(2, "SCAN (\d+)\\n"/.exec(line);
    if (scan) {
      open = Number(scan[1]);
      counts[open] = 0;
      continue;
    }
    if (/write\(2, "PULSE \d+\\n"/.test(line)) {
      open = undefined;
      continue;
    }
    if (open !== undefined && /\b(fsync|fdatasync)\(\d+/.test(line)) counts[open]!++;
  }
  return counts;
}

describe('fsyncs on the customer path (strace over the real daemon)', function () {
  this.timeout(30_000);
  let fx: DaemonFixture;
  before(async () => (fx = await new DaemonFixture().start()));
  after(async () => fx.dispose());

  it('exactly two between scan and vend pulse: the first payment and those after ≥ the idle WAL purge', async () => {
    try {
      execFileSync('strace', ['-V'], { stdio: 'ignore' });
    } catch {
      assert.fail('strace is needed for this test (apt-get install strace; .ci/run installs it)');
    }
    const config = fx.writeConfig();
    const codes = [0, 1, 2].map((i) => testCode('paid', 'wechat', `fsync${i}${Date.now() % 100000}`));
    const trace = join(fx.dir, 'strace.log');
    const child = spawn('strace', ['-f', '-qq', '-e', 'trace=fsync,fdatasync,write', '-e', 'signal=none', '-o', trace, process.execPath, CHILD, config, JSON.stringify(codes), '400'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(out.trim()), ['approved', 'approved', 'approved']);
    const counts = syncsPerPayment(readFileSync(trace, 'utf8'));
    assert.deepEqual(counts, [2, 2, 2], `fsyncs between scan and vend pulse per payment: ${JSON.stringify(counts)}`);
  });
});
