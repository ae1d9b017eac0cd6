// The joint-debugging manual's sandbox example, run as written: the sandbox line, then each `kiosk umpay`
// call. Only the port and the state folder are swapped for free ones (8011 may be taken on this machine).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KIOSK = path.join(ROOT, 'dist/src/cli/kiosk.js');

/** The shell block that starts with `kiosk sandbox`, joined across backslash continuations. */
function exampleCommands(): string[] {
  const doc = readFileSync(path.join(ROOT, 'docs/joint-debugging.md'), 'utf8');
  const block = [...doc.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.startsWith('kiosk sandbox '));
  assert.ok(block, 'docs/joint-debugging.md has a sh block starting with `kiosk sandbox`');
  return block.replace(/\\\n\s*/g, '').split('\n').filter((l) => l.trim() !== '');
}

/** Shell-like words: the example uses no quotes, so whitespace splits them. */
const words = (line: string) => line.trim().replace(/\s*&$/, '').split(/\s+/);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('docs/joint-debugging.md: the sandbox example works as written', function () {
  this.timeout(15000);
  let dir: string;
  let sandbox: ChildProcess | undefined;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'docs-example-'));
  });
  after(() => {
    sandbox?.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts the sandbox, pays with the published test key, and the query finds the order paid', async () => {
    const port = await freePort();
    const state = path.join(dir, 'state');
    const lines = exampleCommands().map((l) => l.replaceAll('127.0.0.1:8011', `127.0.0.1:${port}`).replace('--port 8011', `--port ${port}`).replaceAll('/tmp/kiosk-sandbox', state));
    assert.equal(lines.length, 3, lines.join('\n'));
    const [start, pay, query] = lines.map(words);
    assert.equal(start![0], 'kiosk');
    sandbox = spawn(process.execPath, [KIOSK, ...start!.slice(1)], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    // Ready when it prints its base URL (it writes its certificate before listening).
    await new Promise<void>((resolve, reject) => {
      let out = '';
      sandbox!.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes(`127.0.0.1:${port}`)) resolve();
      });
      sandbox!.once('exit', (code) => reject(new Error(`sandbox exited ${code}: ${out}`)));
    });
    assert.ok(existsSync(path.join(state, 'platform.cert.crt')));
    const call = (w: string[]) => spawnSync(process.execPath, [KIOSK, ...w.slice(1)], { cwd: ROOT, encoding: 'utf8' });
    const paid = call(pay!);
    assert.equal(paid.status, 0, paid.stderr + paid.stdout);
    const p = JSON.parse(paid.stdout) as { signatureValid: boolean; outcome: string };
    assert.equal(p.signatureValid, true);
    assert.equal(p.outcome, 'PAID');
    const q = call(query!);
    assert.equal(q.status, 0, q.stderr + q.stdout);
    const qa = JSON.parse(q.stdout) as { signatureValid: boolean; outcome: string };
    assert.equal(qa.signatureValid, true);
    assert.equal(qa.outcome, 'PAID');
  });
});
