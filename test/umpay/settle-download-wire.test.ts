// The settlement file's download as the platform sees it and each way it can end, to the word (issue 21 mutation
// run), against local servers over real HTTP(S) on 127.0.0.1; and which partial files are whose.
// settle-download.test.ts has the download from the sandbox and the day's reconciliation.
import assert from 'node:assert/strict';
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { downloadSettleFile, removeStaleParts, type SettleGateway } from '../../src/umpay/settle-download.js';
import { signResponse, verifyRequest } from '../../src/umpay/signature.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';

const merchantKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const platformKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const DAY = '20261204';
const NAME = `Y471790403_${DAY}.csv`;

interface Seen {
  method: string;
  url: URL;
  headers: http.IncomingHttpHeaders;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('umpay settlement download: the wire, the results and their words', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'settle-wire-'))));
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(handler: Handler): Promise<{ gw: SettleGateway; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
      seen.push({ method: req.method!, url: new URL(req.url!, 'http://x'), headers: req.headers });
      handler(req, res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    }));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/entry`;
    return { gw: { base, acqSpId: 'Y471790403', privateKey: merchantKeys.privateKey, platformKey: platformKeys.publicKey, timeoutMs: 3000 }, seen };
  }
  const reply = (status: number, type: string, body: string | Buffer): Handler => (_req, res) => {
    res.writeHead(status, { 'content-type': type });
    res.end(body);
  };
  const files = (d = dir): string[] => readdirSync(d).sort();

  it('a signed GET for one day; the file kept whole under the platform\'s name, 0600, its folder made 0700', async () => {
    const csv = 'K1,20261204100000\r\nK2,可乐\r\n';
    const { gw, seen } = await serve(reply(200, 'text/csv', csv));
    const to = join(dir, 'new', 'settle');
    const r = await downloadSettleFile(gw, DAY, to);
    const s = seen[0]!;
    assert.deepEqual([s.method, s.url.pathname, [...s.url.searchParams.keys()], s.headers.accept, s.headers['accept-encoding']], ['GET', '/entry/pay/downloadSettleFile', ['acqSpId', 'stlDate', 'signature'], 'text/csv, application/json', undefined]);
    const fields = Object.fromEntries(s.url.searchParams);
    assert.deepEqual([fields.acqSpId, fields.stlDate], ['Y471790403', DAY]);
    assert.equal(verifyRequest(fields, merchantKeys.publicKey).valid, true);
    const { elapsedMs, ...rest } = r;
    assert.ok(Number.isInteger(elapsedMs) && elapsedMs >= 0 && elapsedMs < 10_000, String(elapsedMs));
    assert.deepEqual(rest, { kind: 'file', path: join(to, NAME), bytes: Buffer.byteLength(csv), charset: 'utf-8', httpStatus: 200, plaintext: `acqSpId=Y471790403&stlDate=${DAY}` });
    assert.equal(readFileSync(join(to, NAME), 'utf8'), csv);
    assert.equal(statSync(join(to, NAME)).mode & 0o777, 0o600);
    assert.equal(statSync(to).mode & 0o777, 0o700);
  });

  it('a file sent in chunks without a length is kept whole, its charset from all of it', async () => {
    const { gw } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv' });
      res.write('K1,A\n');
      setTimeout(() => res.end(Buffer.from([0x4b, 0x32, 0x2c, 0xbf, 0xc9, 0x0a])), 20);
    });
    const r = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual([r.kind, r.kind === 'file' && r.bytes, r.kind === 'file' && r.charset], ['file', 11, 'gbk']);
    assert.deepEqual(readFileSync(join(dir, NAME)), Buffer.concat([Buffer.from('K1,A\n'), Buffer.from([0x4b, 0x32, 0x2c, 0xbf, 0xc9, 0x0a])]));
  });

  it('a name already taken is never replaced: .1.csv, then .2.csv', async () => {
    const { gw } = await serve(reply(200, 'text/csv', 'A,B\n'));
    writeFileSync(join(dir, NAME), 'theirs');
    const one = await downloadSettleFile(gw, DAY, dir);
    const two = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual([one.kind === 'file' && one.path, two.kind === 'file' && two.path], [join(dir, `Y471790403_${DAY}.1.csv`), join(dir, `Y471790403_${DAY}.2.csv`)]);
    assert.equal(readFileSync(join(dir, NAME), 'utf8'), 'theirs');
    assert.equal(one.kind === 'file' && one.charset, 'ascii');
  });

  it('a day that is not yyyyMMdd is refused before anything is sent', async () => {
    const { gw, seen } = await serve(reply(200, 'text/csv', ''));
    for (const d of ['2026-12-04', '2026120', '202612041', 'x20261204']) await assert.rejects(downloadSettleFile(gw, d, dir), { name: 'RangeError', message: `stlDate ${JSON.stringify(d)}: must be yyyyMMdd` });
    assert.equal(seen.length, 0);
  });

  it('a JSON answer instead of a file (by its type, or by its first character): the platform\'s code and words, signature checked', async () => {
    const signed = JSON.stringify(signResponse({ respCode: '17', respMsg: 'no file' }, platformKeys.privateKey));
    let handler = reply(200, 'Application/JSON;charset=utf-8', signed);
    const { gw } = await serve((req, res) => handler(req, res));
    const a = await downloadSettleFile(gw, DAY, dir);
    const { elapsedMs: _e, ...rest } = a;
    assert.deepEqual(rest, { kind: 'answer', respCode: '17', respMsg: 'no file', signatureValid: true, raw: signed, httpStatus: 200, plaintext: `acqSpId=Y471790403&stlDate=${DAY}` });
    handler = reply(200, 'text/csv', ` \n{"respCode":11,"signature":"AAAA"}`);
    const b = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual(b.kind === 'answer' && [b.respCode, b.respMsg, b.signatureValid], ['11', '', false]);
    handler = reply(200, 'application/json', '{}');
    const c = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual(c.kind === 'answer' && [c.respCode, c.respMsg], ['', '']);
    for (const body of ['[1,2]', '{"a":', 'null', '5', '"x"']) {
      handler = reply(200, 'application/json', body);
      const f = await downloadSettleFile(gw, DAY, dir);
      assert.deepEqual(f.kind === 'failed' && [f.cause, f.raw, f.httpStatus], [`answer is neither a file nor a JSON object: ${body}`, body, 200], body);
    }
    // The cause quotes the start of the answer; raw keeps it all.
    const long = `[${'1,'.repeat(100)}1]`;
    handler = reply(200, 'application/json', long);
    const l = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual(l.kind === 'failed' && [l.cause, l.raw], [`answer is neither a file nor a JSON object: ${long.slice(0, 80)}`, long]);
    assert.deepEqual(files(), [], 'nothing kept');
  });

  it('every 2xx is an answer (299 too); a redirect is not followed (the signed request goes nowhere else)', async () => {
    const signed = JSON.stringify(signResponse({ respCode: '17', respMsg: 'no file' }, platformKeys.privateKey));
    let handler = reply(299, 'text/csv', 'K1,A\n');
    const { gw, seen } = await serve((req, res) => handler(req, res));
    assert.deepEqual((await downloadSettleFile(gw, DAY, dir)).kind, 'file');
    handler = reply(299, 'application/json', signed);
    const a = await downloadSettleFile(gw, DAY, join(dir, 'a'));
    assert.deepEqual(a.kind === 'answer' && [a.respCode, a.httpStatus], ['17', 299]);
    handler = (req, res) => {
      if (req.url!.startsWith('/elsewhere')) return reply(200, 'text/csv', 'K1,A\n')(req, res);
      res.writeHead(302, { location: '/elsewhere', 'content-type': 'text/plain' });
      res.end('moved');
    };
    const before = seen.length;
    const r = await downloadSettleFile(gw, DAY, join(dir, 'b'));
    assert.deepEqual(r.kind === 'failed' && [r.cause, r.httpStatus], ['HTTP 302: moved', 302]);
    assert.equal(seen.length, before + 1, 'only the one request');
  });

  it('no answer at all (connection refused): failed with the reason and no HTTP status', async () => {
    const { gw } = await serve(reply(200, 'text/csv', ''));
    await cleanup.pop()!();
    const r = await downloadSettleFile(gw, DAY, dir);
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /^ECONNREFUSED: /);
    assert.equal('httpStatus' in r, false);
  });

  it('no file under the folder is left open, kept or refused', async () => {
    const open = (): string[] => readdirSync('/proc/self/fd').flatMap((fd) => {
      try {
        return [readlinkSync(`/proc/self/fd/${fd}`)];
      } catch {
        return [];
      }
    }).filter((t) => t.startsWith(dir));
    let body = 'x'.repeat(100);
    const { gw } = await serve((req, res) => reply(200, 'text/csv', body)(req, res));
    assert.equal((await downloadSettleFile(gw, DAY, dir, { maxBytes: 100 })).kind, 'file');
    body = 'x'.repeat(101);
    assert.equal((await downloadSettleFile(gw, DAY, join(dir, 'b'), { maxBytes: 100 })).kind, 'failed');
    assert.deepEqual(open(), []);
  });

  it('an HTTP error page: failed, the status and the start of the page; at most 64 KiB of it kept', async () => {
    let body = '<html>\n  <b>Not   found</b>\n</html>';
    const { gw } = await serve((req, res) => reply(404, 'text/html', body)(req, res));
    const r = await downloadSettleFile(gw, DAY, dir);
    assert.deepEqual(r.kind === 'failed' && [r.cause, r.raw, r.httpStatus], ['HTTP 404: <html> <b>Not found</b> </html>', body, 404]);
    body = 'e'.repeat(200_000);
    const big = await downloadSettleFile(gw, DAY, dir);
    assert.equal(big.kind === 'failed' && big.raw, 'e'.repeat(65_536));
    assert.equal(big.kind === 'failed' && big.cause, `HTTP 404: ${'e'.repeat(80)}`);
    assert.deepEqual(files(), []);
  });

  it('an error page that never ends: failed with its start once 64 KiB are read, not at the time limit', async () => {
    const { gw } = await serve((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/html' });
      const more = (): void => void res.write('f'.repeat(16_384), (err) => {
        if (!err && !res.destroyed) setImmediate(more);
      });
      more();
    });
    const r = await downloadSettleFile(gw, DAY, dir, { timeoutMs: 5000 });
    assert.deepEqual(r.kind === 'failed' && [r.cause, r.raw], [`HTTP 500: ${'f'.repeat(80)}`, 'f'.repeat(65_536)]);
  });

  it('the size cap: exactly maxBytes is kept, one byte more is refused and nothing is left', async () => {
    let body = 'x'.repeat(100);
    const { gw } = await serve((req, res) => reply(200, 'text/csv', body)(req, res));
    assert.equal((await downloadSettleFile(gw, DAY, dir, { maxBytes: 100 })).kind, 'file');
    body = 'x'.repeat(101);
    const r = await downloadSettleFile(gw, DAY, join(dir, 'b'), { maxBytes: 100 });
    assert.deepEqual([r.kind, r.kind === 'failed' && r.cause, r.kind === 'failed' && r.httpStatus], ['failed', 'settlement file larger than 100 bytes', 200]);
    assert.deepEqual(files(join(dir, 'b')), []);
  });

  it('the time limit: at least 60 s unless given; given, a file not complete by then is failed and removed', async () => {
    let stall = false;
    const { gw } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '18' });
      res.write('K1,2026');
      if (!stall) setTimeout(() => res.end('1204100000\n'), 300);
    });
    // The gateway's own time limit (50 ms here) is for payments: a download waits at least a minute.
    const ok = await downloadSettleFile({ ...gw, timeoutMs: 50 }, DAY, dir);
    assert.equal(ok.kind, 'file', JSON.stringify(ok));
    stall = true;
    const r = await downloadSettleFile(gw, DAY, join(dir, 'late'), { timeoutMs: 150 });
    assert.deepEqual([r.kind, r.kind === 'failed' && r.cause, r.kind === 'failed' && r.httpStatus], ['failed', 'no complete file within the time limit', 200]);
    assert.deepEqual(files(join(dir, 'late')), []);
  });

  it('a file cut short (the connection closed early): failed with the reason, nothing kept', async () => {
    const { gw } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/csv', 'content-length': '1000' });
      res.write('K1,2026\n', () => res.socket?.destroy());
    });
    const r = await downloadSettleFile(gw, DAY, dir);
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /^[A-Z_]+: .+/);
    assert.deepEqual(files(), []);
  });

  it('a customer goes first: the pause is awaited before each chunk is written and before the file is made durable', async () => {
    const { gw } = await serve(reply(200, 'text/csv', 'K1,20261204100000\n'));
    const log: string[] = [];
    const r = await downloadSettleFile(gw, DAY, dir, {
      pause: () => {
        const parts = readdirSync(dir).filter((f) => f.endsWith('.part'));
        log.push(parts.length ? `part ${statSync(join(dir, parts[0]!)).size}` : 'none');
        return Promise.resolve();
      },
    });
    assert.equal(r.kind, 'file');
    assert.deepEqual(log, ['part 0', 'part 18']);
  });

  it('over https: the gateway\'s CA is trusted; without it the download fails and nothing is sent', async () => {
    const sb = await startSandbox({ tls: true });
    cleanup.push(() => sb.close());
    const gw: SettleGateway = { base: sb.baseUrl, acqSpId: 'Y471790403', privateKey: loadPrivateKey(sb.merchantKeyPath!), platformKey: sb.platformPublicKey, timeoutMs: 3000, ca: readFileSync(sb.caFile!) };
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    const trusted = await downloadSettleFile(gw, day, dir);
    assert.notEqual(trusted.kind, 'failed', JSON.stringify(trusted));
    const { ca: _ca, ...untrusted } = gw;
    const r = await downloadSettleFile(untrusted, day, join(dir, 'x'));
    assert.equal(r.kind, 'failed');
    assert.match(r.kind === 'failed' ? r.cause : '', /certificate/i);
  });
});

describe('umpay settlement download: whose partial files are stale (removeStaleParts)', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'settle-parts-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const dead = Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);
  const put = (name: string, mtimeMs?: number): string => {
    writeFileSync(join(dir, name), 'x');
    if (mtimeMs !== undefined) utimesSync(join(dir, name), mtimeMs / 1000, mtimeMs / 1000);
    return name;
  };

  it('only names of the download\'s own form are touched', () => {
    const kept = [
      `Y471790403_${DAY}.${dead}.0a1b2c3d.part`,
      `.Y471790403_${DAY}.${dead}.0a1b2c3d.part.x`,
      `x.Y471790403_${DAY}.${dead}.0a1b2c3d.part`,
      `.Y47-1790403_${DAY}.${dead}.0a1b2c3d.part`,
      `.Y471790403_2026120.${dead}.0a1b2c3d.part`,
      `.Y471790403_${DAY}.x${dead}.0a1b2c3d.part`,
      `.Y471790403_${DAY}.${dead}.0a1b2c3.part`,
      `.Y471790403_${DAY}.${dead}.0A1B2C3D.part`,
      `.Y471790403_${DAY}.${dead}.0a1b2c3dd.part`,
      `._${DAY}.${dead}.0a1b2c3d.part`,
    ].map((n) => put(n));
    const gone = put(`.Y471790403_${DAY}.${dead}.0a1b2c3d.part`);
    mkdirSync(join(dir, `.Y471790403_${DAY}.${dead}.ffffffff.part`));
    assert.deepEqual(removeStaleParts(dir), [gone]);
    assert.deepEqual(readdirSync(dir).sort(), [...kept, `.Y471790403_${DAY}.${dead}.ffffffff.part`].sort());
  });

  it('a live process\'s partial file is kept for a day, then removed; this process\'s from before it started is an earlier boot\'s', () => {
    const now = Date.now();
    const exact = put(`.Y471790403_${DAY}.1.00000000.part`, 1_700_000_000_000);
    assert.deepEqual(removeStaleParts(dir, 1_700_000_000_000 + 24 * 3600_000 - 1), [], 'a live process\'s, younger than a day');
    assert.deepEqual(removeStaleParts(dir, 1_700_000_000_000 + 24 * 3600_000), [exact], 'a day old: removed');
    const live = put(`.Y471790403_${DAY}.1.0a1b2c3d.part`, now - 24 * 3600_000 + 60_000);
    assert.deepEqual(removeStaleParts(dir, now), []);
    assert.deepEqual(removeStaleParts(dir, now + 120_000), [live]);
    const started = now - process.uptime() * 1000;
    const mineNow = put(`.Y471790403_${DAY}.${process.pid}.00000001.part`, started - 500);
    const mineBefore = put(`.Y471790403_${DAY}.${process.pid}.00000002.part`, started - 5000);
    assert.deepEqual(removeStaleParts(dir, now), [mineBefore]);
    assert.deepEqual(readdirSync(dir), [mineNow]);
  });

  it('a process another user runs (kill answers EPERM) is alive: its partial file is kept; one that is gone (ESRCH) is not', () => {
    const kill = Object.getOwnPropertyDescriptor(process, 'kill')!;
    const answer: Record<number, string> = { 4_000_001: 'EPERM', 4_000_002: 'ESRCH' };
    process.kill = (pid: number) => {
      throw Object.assign(new Error(`kill ${pid}`), { code: answer[pid] });
    };
    try {
      const other = put(`.Y471790403_${DAY}.4000001.0a1b2c3d.part`);
      const gone = put(`.Y471790403_${DAY}.4000002.0a1b2c3d.part`);
      assert.deepEqual(removeStaleParts(dir), [gone]);
      assert.deepEqual(readdirSync(dir), [other]);
    } finally {
      Object.defineProperty(process, 'kill', kill);
    }
  });

  it('a folder that cannot be read: nothing removed, no error', () => {
    assert.deepEqual(removeStaleParts(join(dir, 'none')), []);
  });
});
