import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { loadPrivateKey, loadPublicKey } from '../../src/umpay/keys.js';
import { signRequest, verifyResponse } from '../../src/umpay/signature.js';
import { testCode } from '../../src/sandbox/index.js';
import { ymd } from '../../src/sandbox/ledger.js';
import { micropayFields, SP } from './helpers.js';

const KIOSK = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: child.stdout! });
    rl.once('line', (line) => {
      rl.close();
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`exited ${code} before printing a line`)));
  });
}

describe('kiosk sandbox (CLI)', function () {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'sbx-cli-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints one JSON line when listening, serves signed answers, writes the settlement file, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, [KIOSK, 'sandbox', '--port', '0', '--state', dir, '--fault', 'rate-limit:1'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const info = JSON.parse(await firstLine(child)) as { baseUrl: string; platformCert: string; merchantKey: string };
    assert.match(info.baseUrl, /^http:\/\/127\.0\.0\.1:[0-9]+$/);
    const platform = loadPublicKey(info.platformCert);
    const key = loadPrivateKey(info.merchantKey);
    const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
    const body = JSON.stringify({ ...SP, ...f, signature: signRequest({ ...SP, ...f }, key).signature });
    const post = async () => (await (await fetch(`${info.baseUrl}/pay/micropay`, { method: 'POST', body })).json()) as Record<string, string>;
    assert.equal((await post()).respCode, '37', '--fault applied to the first request');
    const answer = await post();
    assert.equal(answer.respCode, '00');
    assert.equal(verifyResponse(answer, platform).valid, true);
    child.kill('SIGTERM');
    assert.equal(await exited, 0);
    assert.ok(stderr.trim().split('\n').every((l) => JSON.parse(l)), 'stderr is JSON lines');
    assert.ok(!stderr.includes(f.authCode), 'no payment code in the log');

    const settle = spawnSync(process.execPath, [KIOSK, 'sandbox', 'settle-file', '--state', dir, '--date', ymd(new Date())], { encoding: 'utf8' });
    assert.equal(settle.status, 0, settle.stderr);
    assert.match(settle.stdout, new RegExp(`^${f.orderNo},[0-9]{14},${SP.acqMerId},.*,SUCCESS,100,0,wechat,2,`));
  });

  it('settle-file without a ledger (no --state, none in the default folder): where it looked, in words; exit 2', () => {
    const r = spawnSync(process.execPath, [KIOSK, 'sandbox', 'settle-file', '--date', '2026-01-01'], { encoding: 'utf8', env: { ...process.env, TMPDIR: dir } });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no sandbox ledger in \S+kiosk-sandbox-\S+ \(the default: where `kiosk sandbox` keeps it without --state\): give --state DIR/);
    assert.doesNotMatch(r.stderr, /ENOENT|open '/);
  });

  it('refuses a non-loopback host without --allow-remote (exit 2, says why)', () => {
    const r = spawnSync(process.execPath, [KIOSK, 'sandbox', '--host', '0.0.0.0', '--state', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /loopback/);
  });

  it('rejects an unknown fault name (exit 2)', () => {
    const r = spawnSync(process.execPath, [KIOSK, 'sandbox', '--fault', 'gremlins', '--state', dir], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /gremlins/);
  });
});
