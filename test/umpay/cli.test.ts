import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { signResponse, verifyRequest } from '../../src/umpay/signature.js';
import type { WireValue } from '../../src/umpay/canonical.js';
import { CERT_FILE, KEY_FILE, vectors } from './helpers.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

const KIOSK = path.resolve(process.cwd(), 'dist/src/cli/kiosk.js');

function run(args: string[], stdin = ''): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [KIOSK, 'umpay', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

const WECHAT = '134579761426152164';

describe('kiosk umpay (spawned CLI)', function () {
  this.timeout(10000);
  let dir: string;
  let server: http.Server;
  let base: string;
  let platformCert: string;
  let answerWith: (fields: Record<string, string>) => Record<string, WireValue> | string = () => ({});
  const received: Record<string, string>[] = [];
  const merchantPublic = createPublicKey(loadPrivateKey(KEY_FILE));

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'umpay-cli-'));
    const platform = generateKeyPairSync('rsa', { modulusLength: 1024 });
    platformCert = path.join(dir, 'platform.pub.pem');
    writeFileSync(platformCert, platform.publicKey.export({ format: 'pem', type: 'spki' }));
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const fields = JSON.parse(body) as Record<string, string>;
        received.push(fields);
        const a = verifyRequest(fields, merchantPublic).valid ? answerWith(fields) : { respCode: '11', respMsg: 'signature rejected' };
        res.setHeader('content-type', 'application/json');
        res.end(typeof a === 'string' ? a : JSON.stringify(signResponse(a, platform.privateKey)));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/entry`;
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    await new Promise<void>((r) => server.close(() => r()));
  });
  const common = () => ['--base', base, '--key', KEY_FILE, '--cert', platformCert, '--sp', 'Y471790403', '--mer', '41509208'];

  it('sign: the vector request gives the vector plaintext and signature', async () => {
    const v = vectors.requestSignatures[0]!;
    const r = await run(['sign', '--key', KEY_FILE], JSON.stringify(v.fields));
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), { plaintext: v.plaintext, signature: v.signature });
  });

  it('verify: a real answer is valid (exit 0), the tampered one is not (exit 1)', async () => {
    const good = await run(['verify', '--cert', CERT_FILE], JSON.stringify(vectors.responseSignatures[1]!.response));
    assert.equal(good.code, 0, good.stderr);
    assert.deepEqual(JSON.parse(good.stdout), { plaintext: vectors.responseSignatures[1]!.plaintext, valid: true, rule: 'exact' });
    const bad = await run(['verify', '--cert', CERT_FILE], JSON.stringify(vectors.responseSignatures[2]!.response));
    assert.equal(bad.code, 1);
    assert.equal(JSON.parse(bad.stdout).valid, false);
  });

  const badInputs: [string, string[], string, RegExp][] = [
    ['bad JSON on stdin', ['sign', '--key', KEY_FILE], '{"a":', /stdin is not valid JSON/],
    ['an array on stdin', ['verify', '--cert', CERT_FILE], '[1]', /one JSON object/],
    // Unquoted, a payment code loses its last digits in JSON.parse: the signature would cover another code.
    ['a payment code as a JSON number', ['sign', '--key', KEY_FILE], '{"txnAmt":"1","authCode":134567890123456789}', /^(?!.*1345678901).*authCode: a number too large to be exact; quote it as a string/],
    ['a missing --key', ['sign'], '{}', /missing --key/],
    ['a certificate as the key', ['sign', '--key', CERT_FILE], '{}', /test-platform\.cert\.crt: .*expected an RSA private key/],
    ['an unknown command', ['pay'], '', /unknown subcommand "pay"/],
  ];
  for (const [name, args, stdin, pattern] of badInputs) {
    it(`exit 2 with one stderr line on ${name} (then the usage, for a usage error)`, async () => {
      const r = await run(args, stdin);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      const [first, ...rest] = r.stderr.trim().split('\n');
      assert.match(first!, pattern);
      assert.ok(rest.length === 0 || /^usage: kiosk umpay/.test(rest[0]!), r.stderr);
    });
  }

  it('micropay: bad field and missing flag are exit 2 and send nothing', async () => {
    const before = received.length;
    const r1 = await run(['micropay', ...common(), '--txnAmt', '0', '--authCode', WECHAT, '--goodsId', '1', '--goodsInfo', 'cola']);
    assert.equal(r1.code, 2);
    assert.match(r1.stderr, /field txnAmt/);
    const r2 = await run(['micropay', '--base', base, '--txnAmt', '1']);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /missing --key/);
    assert.equal(received.length, before);
  });

  it('micropay: generated orderNo/orderTime, derived orderType, signed 00 → PAID, exit 0, code masked', async () => {
    answerWith = (f) => ({ respCode: '00', respMsg: 'ok', orderNo: f.orderNo!, txnAmt: f.txnAmt!, transactionId: 'P77' });
    const r = await run(['micropay', ...common(), '--txnAmt', '1', '--authCode', WECHAT, '--goodsId', '1', '--goodsInfo', '口罩']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.outcome, 'PAID');
    assert.equal(out.signatureValid, true);
    assert.equal(out.delivery, 'answered');
    assert.ok(!r.stdout.includes(WECHAT), 'payment code printed in full');
    const sent = received.at(-1)!;
    assert.equal(sent.orderType, 'wechat');
    assert.match(sent.orderNo!, /^JD\d{20}$/);
    assert.match(sent.orderTime!, /^\d{14}$/);
    assert.equal(out.request.orderNo, sent.orderNo);
  });

  it('micropay: a signed 001100WN → NOT_PAID, exit 0 (a verified answer)', async () => {
    answerWith = () => ({ respCode: '001100WN', respMsg: '101 每个二维码仅限使用一次' });
    const r = await run(['micropay', ...common(), '--txnAmt', '1', '--authCode', WECHAT, '--goodsId', '1', '--goodsInfo', 'cola', '--orderNo', 'FIXED1', '--reveal']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.outcome, 'NOT_PAID');
    assert.ok(out.plaintext.includes(`authCode=${WECHAT}`), 'with --reveal the plaintext is exact');
    assert.equal(received.at(-1)!.orderNo, 'FIXED1');
  });

  it('query: an unsigned answer → exit 3', async () => {
    answerWith = () => '{"respCode":"00","origRespCode":"00"}';
    const r = await run(['query', ...common(), '--orderNo', 'FIXED1']);
    assert.equal(r.code, 3);
    assert.equal(JSON.parse(r.stdout).outcome, 'UNKNOWN');
  });

  it('cancel: no server on the port → exit 3, not-sent', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const args = common();
    args[1] = `http://127.0.0.1:${port}`;
    const r = await run(['cancel', ...args, '--orderNo', 'FIXED1']);
    assert.equal(r.code, 3);
    assert.equal(JSON.parse(r.stdout).delivery, 'not-sent');
  });

  it('--verbose: the body as sent, the plaintext under both vendor rules, the rule the answer verified under', async () => {
    answerWith = (f) => ({ respCode: '17', respMsg: '无此交易', orderNo: f.orderNo!, txnAmt: 150 });
    const r = await run(['query', ...common(), '--orderNo', 'FIXED2', '--verbose']);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(JSON.parse(out.body), received.at(-1));
    assert.deepEqual(out.requestRules, { doc: out.plaintext, java: out.plaintext, same: true });
    assert.equal(out.answerRule, 'exact');
    assert.equal(out.httpStatus, 200);
    assert.match(out.raw, /"respCode":"17"/);
  });
});

describe('kiosk umpay check (against the sandbox)', function () {
  this.timeout(10000);
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ merchantPublicKey: KEY_FILE });
  });
  after(() => sb.close());

  it('connect, queryOrder of an unknown order, settlement file: all worked, exit 0', async () => {
    const r = await run(['check', '--base', sb.baseUrl, '--key', KEY_FILE, '--cert', sb.platformCertPath]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.filter((l) => l.startsWith('ok ')).length, 3, r.stdout);
    assert.match(r.stdout, /queryOrder .*respCode 17/);
    assert.match(r.stdout, /all worked/);
    assert.deepEqual(sb.ledger().orders, [], 'nothing was charged');
  });

  it('the wrong platform certificate is named as the thing to fix, exit 3', async () => {
    const r = await run(['check', '--base', sb.baseUrl, '--key', KEY_FILE, '--cert', CERT_FILE]);
    assert.equal(r.code, 3);
    assert.match(r.stdout, /FAIL {2}queryOrder .*does not verify/);
    assert.match(r.stdout, /use the platform certificate of this environment/);
  });
});

describe('kiosk umpay check over https (kiosk sandbox --tls)', function () {
  this.timeout(10000);
  let sb: Sandbox;
  before(async () => {
    sb = await startSandbox({ merchantPublicKey: KEY_FILE, tls: true });
  });
  after(() => sb.close());

  it('--ca FILE: the sandbox CA is trusted, the settlement download too; without it nothing connects', async () => {
    const ok = await run(['check', '--base', sb.baseUrl, '--key', KEY_FILE, '--cert', sb.platformCertPath, '--ca', sb.caFile!]);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /all worked/);
    const refused = await run(['check', '--base', sb.baseUrl, '--key', KEY_FILE, '--cert', sb.platformCertPath]);
    assert.equal(refused.code, 3, refused.stdout + refused.stderr);
    assert.match(refused.stdout, /certificate/i);
  });
});
