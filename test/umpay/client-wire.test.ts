// What the gateway client puts on the wire and what it makes of each way a call can end, to the word (issue 21
// mutation run): local servers over real HTTP on 127.0.0.1 (and ::1). client.test.ts has the verdicts per failure;
// this file has the request as the platform sees it, the result as the journal keeps it, and the causes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { Socket, type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { pino } from 'pino';
import { answerOf, HttpGateway, KEEP_WARM_MIN_MS, type HttpGatewayOptions } from '../../src/umpay/client.js';
import { signResponse, verifyRequest } from '../../src/umpay/signature.js';
import type { TimeEvidence } from '../../src/umpay/platform-clock.js';
import type { MicropayFields } from '../../src/umpay/types.js';

const merchantKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const platformKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const pay: MicropayFields = { orderTime: '20240101120000', orderNo: 'T1', txnAmt: '100', orderType: 'wechat', authCode: '134579761426152164', goodsInfo: 'cola' };
const paid = (extra: Record<string, string> = {}) => JSON.stringify(signResponse({ respCode: '00', respMsg: 'ok', orderNo: 'T1', txnAmt: '100', transactionId: 'P1', ...extra }, platformKeys.privateKey));

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

describe('umpay HttpGateway: the wire and the words', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });

  async function serve(handler: Handler, host = '127.0.0.1'): Promise<{ base: string; port: number; seen: Seen[] }> {
    const seen: Seen[] = [];
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        handler(req, res);
      });
    });
    await new Promise<void>((r) => server.listen(0, host, r));
    cleanup.push(() => new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    }));
    const port = (server.address() as AddressInfo).port;
    return { base: `http://${host.includes(':') ? `[${host}]` : host}:${port}`, port, seen };
  }
  function gateway(baseUrl: string, o: Partial<HttpGatewayOptions> = {}): HttpGateway {
    const gw = new HttpGateway({ baseUrl, merchant, privateKey: merchantKeys.privateKey, platformKey: platformKeys.publicKey, connectTimeoutMs: 2000, timeoutMs: 5000, ...o });
    cleanup.push(() => gw.close());
    return gw;
  }
  const answer = (body: string, headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' }, status = 200): Handler => (_req, res) => {
    res.writeHead(status, headers);
    res.end(body);
  };

  it('a micropay as the platform sees it: POST, JSON, the signed fields and nothing else, no compression asked for', async () => {
    const { base, seen } = await serve(answer(paid()));
    const r = await gateway(`${base}/entry//`).micropay(pay);
    assert.equal(seen.length, 1);
    const s = seen[0]!;
    assert.deepEqual([s.method, s.url, s.headers['content-type'], s.headers.accept, s.headers['accept-encoding']], ['POST', '/entry/pay/micropay', 'application/json; charset=utf-8', 'application/json', undefined]);
    const body = JSON.parse(s.body) as Record<string, string>;
    assert.deepEqual(Object.keys(body).sort(), ['acqMerId', 'acqSpId', 'authCode', 'goodsInfo', 'orderNo', 'orderTime', 'orderType', 'signature', 'txnAmt']);
    assert.deepEqual(verifyRequest(body, merchantKeys.publicKey).valid, true);
    assert.deepEqual(body, r.request);
    const { elapsedMs, ...rest } = r;
    assert.ok(Number.isInteger(elapsedMs) && elapsedMs >= 0);
    assert.deepEqual(rest, {
      call: 'micropay',
      outcome: { kind: 'PAID', transactionId: 'P1' },
      request: body,
      plaintext: 'acqMerId=41509208&acqSpId=Y471790403&authCode=134579761426152164&goodsInfo=cola&orderNo=T1&orderTime=20240101120000&orderType=wechat&txnAmt=100',
      delivery: 'answered',
      httpStatus: 200,
      raw: paid(),
      answer: JSON.parse(paid()) as unknown,
      signatureValid: true,
      answerPlaintext: 'T1|00|ok|P1|100',
    });
  });

  it('postSigned: fields as given, empty and null ones and a given signature left out, signed again', async () => {
    const { base, seen } = await serve(answer('{"respCode":"00"}'));
    // A given signature first: the body still carries the fields in their order and the new signature last.
    const p = await gateway(base).postSigned('/pay/refundQuery', { signature: 'forged', acqSpId: 'Y471790403', orderNo: 'Z', a: '', b: null as never });
    assert.deepEqual(Object.keys(JSON.parse(seen[0]!.body) as object), ['acqSpId', 'orderNo', 'signature']);
    assert.notEqual(p.request.signature, 'forged');
    assert.equal(p.plaintext, 'acqSpId=Y471790403&orderNo=Z');
    assert.deepEqual(answerOf(p), { respCode: '00' });
    assert.equal(seen[0]!.url, '/pay/refundQuery');
  });

  it('answerOf: the answer object when the body is one, else nothing', () => {
    const base = { request: {}, plaintext: '', signature: '', delivery: 'answered' as const, elapsedMs: 0 };
    assert.deepEqual(answerOf({ ...base, exchange: { httpStatus: 200, body: '{"a":1.50}' } }), { a: '1.50' });
    for (const body of ['[1]', 'null', 'x', '"s"']) assert.equal(answerOf({ ...base, exchange: { httpStatus: 200, body } }), undefined, body);
    assert.equal(answerOf({ ...base, exchange: { transportError: 'E' } }), undefined);
  });

  it('only http and https base URLs', () => {
    assert.throws(() => gateway('ftp://127.0.0.1/x'), { message: 'baseUrl ftp://127.0.0.1/x: must be http:// or https://' });
    assert.equal(KEEP_WARM_MIN_MS, 60_000);
  });

  it('the platform\'s time from each signed answer (Date header, platDate as text); none from an unsigned one', async () => {
    const evidence: TimeEvidence[] = [];
    let body = paid({ platDate: '20240101' });
    const { base } = await serve((req, res) => answer(body, { 'content-type': 'application/json', date: 'Mon, 01 Jan 2024 04:00:00 GMT' })(req, res));
    const gw = gateway(base, { timeEvidence: (e) => evidence.push(e) });
    await gw.micropay(pay);
    assert.equal(evidence.length, 1);
    assert.deepEqual({ ...evidence[0], elapsedMs: 0 }, { date: 'Mon, 01 Jan 2024 04:00:00 GMT', platDate: '20240101', elapsedMs: 0 });
    body = paid();
    await gw.micropay(pay);
    assert.deepEqual(Object.keys(evidence[1]!).sort(), ['date', 'elapsedMs']);
    body = JSON.stringify({ respCode: '00', platDate: '20240101', signature: 'AAAA' });
    await gw.micropay(pay);
    body = JSON.stringify({ respCode: '00' });
    await gw.micropay(pay);
    assert.equal(evidence.length, 2);
  });

  it('each call is logged once: call, order, delivery, verdict, status, code, cause, time; never the payment code', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const { base } = await serve(answer(JSON.stringify(signResponse({ respCode: '06', respMsg: 'busy' }, platformKeys.privateKey))));
    await gateway(base, { log }).micropay(pay);
    assert.equal(lines.length, 1);
    const { time: _t, pid: _p, hostname: _h, elapsedMs, ...line } = lines[0]!;
    assert.equal(typeof elapsedMs, 'number');
    assert.deepEqual(line, { level: 30, call: 'micropay', orderNo: 'T1', delivery: 'answered', outcome: 'UNKNOWN', httpStatus: 200, respCode: '06', cause: 'respCode 06 (busy: busy) is not final', msg: 'umpay call' });
    assert.ok(!JSON.stringify(lines).includes(pay.authCode));
  });

  it('a query answer about another order is not taken as paid; a reversal answer names no order to compare', async () => {
    const { base } = await serve(answer(JSON.stringify(signResponse({ respCode: '00', origRespCode: '00', orderNo: 'OTHER' }, platformKeys.privateKey))));
    const gw = gateway(base);
    assert.deepEqual((await gw.queryOrder({ orderNo: 'T1' })).outcome, { kind: 'UNKNOWN', cause: 'answer is about order OTHER, not T1' });
    assert.deepEqual((await gw.cancelOrder({ orderNo: 'T1' })).outcome, { kind: 'DONE' });
    for (const call of ['closeOrder', 'refundQuery'] as const) assert.equal((await gw[call]({ orderNo: 'T1' })).call, call);
    const refund = await gw.refund({ orderTime: '20240101120000', origOrderNo: 'T1', origTxnAmt: '100', orderNo: 'R1', txnAmt: '100' });
    assert.deepEqual([refund.call, refund.outcome], ['refund', { kind: 'ACCEPTED' }]);
  });

  it('a compressed answer is not unpacked (the size cap counts what arrives): not JSON, UNKNOWN', async () => {
    const { base } = await serve(answer(gzipSync(paid()) as unknown as string, { 'content-type': 'application/json', 'content-encoding': 'gzip' }));
    const r = await gateway(base).micropay(pay);
    assert.equal(r.outcome.kind, 'UNKNOWN');
    assert.match(r.cause!, /^answer is not JSON/);
  });

  it('a redirect is not followed: one request, UNKNOWN naming the status', async () => {
    const { base, seen } = await serve(answer('', { location: '/elsewhere' }, 302));
    const r = await gateway(base).micropay(pay);
    assert.deepEqual([seen.length, r.delivery, r.httpStatus, r.cause], [1, 'answered', 302, 'HTTP 302']);
  });

  it('the answer cap: 64 KiB by default, exactly that is read, one byte more is refused (declared or counted)', async () => {
    const sized = (n: number): string => {
      const head = paid({ pad: '' });
      const text = paid({ pad: 'x'.repeat(n - head.length) });
      assert.equal(Buffer.byteLength(text), n);
      return text;
    };
    const exact = sized(65_536);
    let body = exact;
    let declare = true;
    const { base } = await serve((_req, res) => {
      if (declare) res.setHeader('content-length', Buffer.byteLength(body));
      else res.write(body); // chunked: no length declared
      res.end(declare ? body : undefined);
    });
    const gw = gateway(base);
    assert.equal((await gw.micropay(pay)).outcome.kind, 'PAID');
    declare = false;
    assert.equal((await gw.micropay(pay)).outcome.kind, 'PAID');
    body = sized(65_537);
    const counted = await gw.micropay(pay);
    assert.deepEqual([counted.delivery, counted.cause, counted.httpStatus], ['maybe-sent', 'answer larger than 65536 bytes', 200]);
    declare = true;
    const declared = await gw.micropay(pay);
    assert.deepEqual([declared.delivery, declared.cause], ['maybe-sent', 'answer larger than 65536 bytes (Content-Length 65537)']);
  });

  it('the causes a technician reads: refused (never sent), no complete answer in time (after the status when it came)', async () => {
    const { base, port } = await serve(() => undefined);
    const refused = gateway(`http://127.0.0.1:1`);
    const r = await refused.micropay(pay);
    assert.deepEqual([r.delivery, r.httpStatus, r.outcome.kind], ['not-sent', undefined, 'UNKNOWN']);
    assert.match(r.cause!, /^ECONNREFUSED: request to http:\/\/127\.0\.0\.1:1\/pay\/micropay failed, reason: connect ECONNREFUSED 127\.0\.0\.1:1$/);
    const silent = await gateway(base, { timeoutMs: 150 }).micropay(pay);
    assert.deepEqual([silent.delivery, silent.cause], ['maybe-sent', 'ETIMEDOUT: no complete answer within 150 ms']);
    const { base: slowBody } = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{');
    });
    const cut = await gateway(slowBody, { timeoutMs: 150 }).micropay(pay);
    assert.deepEqual([cut.delivery, cut.httpStatus, cut.cause], ['maybe-sent', 200, 'ETIMEDOUT: no complete answer within 150 ms (after HTTP 200)']);
    assert.ok(port > 0);
  });

  it('a connect that never completes (a SYN lost on the way): not sent, after the connect timeout, not the total one', async () => {
    const gw = gateway('http://127.0.0.1:9', { connectTimeoutMs: 60, timeoutMs: 5000 });
    let sockets = 0;
    // The agent's connection: a socket that stays "connecting" (no SYN-ACK ever comes).
    (gw as unknown as { agent: { createConnection: () => Socket } }).agent.createConnection = () => {
      sockets++;
      const s = new Socket();
      (s as unknown as { connecting: boolean }).connecting = true;
      return s;
    };
    const t0 = performance.now();
    const r = await gw.micropay(pay);
    const took = performance.now() - t0;
    assert.deepEqual([r.delivery, r.cause, r.outcome.kind, sockets], ['not-sent', 'connect timeout after 60 ms', 'UNKNOWN', 1]);
    assert.ok(took >= 55 && took < 2000, String(took));
  });

  it('the total timeout: an answered call leaves no timer behind; a call that ended before any status has no httpStatus at all', async () => {
    // Answered: the total timeout is cleared with it (a one-shot command would wait for it to fire to exit).
    const { base } = await serve(answer(paid()));
    const gw = gateway(base, { timeoutMs: 60_000 });
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    assert.equal((await gw.micropay(pay)).delivery, 'answered');
    assert.equal(timers(), before);
    const posted = await gateway('http://127.0.0.1:1').postSigned('/micropay', { orderNo: 'T1' });
    assert.equal(posted.delivery, 'not-sent');
    assert.equal('httpStatus' in posted, false);
  });

  it('reach(): a handshake that never completes is not ok, after the connect timeout', async () => {
    // A listener whose accept queue is full drops the next SYN: its process blocks (no CPU) before accepting.
    const blocked = "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () " +
      "{ process.stdout.write(this.address().port + '\\n', () => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0)); })";
    const child = spawn(process.execPath, ['-e', blocked], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanup.push(() => child.kill('SIGKILL'));
    const [line] = (await once(child.stdout, 'data')) as [Buffer];
    const port = Number(line.toString().trim());
    // The queue takes backlog + 1 completed handshakes.
    for (let i = 0; i < 2; i++) {
      const s = new Socket();
      cleanup.push(() => s.destroy());
      s.connect(port, '127.0.0.1');
      await once(s, 'connect');
    }
    const r = await gateway(`http://127.0.0.1:${port}`, { connectTimeoutMs: 60 }).reach();
    assert.deepEqual([r.ok, r.cause], [false, `connect to 127.0.0.1:${port}: no answer within 60 ms`]);
    assert.ok(r.elapsedMs >= 55, String(r.elapsedMs));
  });

  it('a failure without an error code is still said with a code word: ERR', () => {
    const gw = gateway('http://127.0.0.1:1') as unknown as { describeFailure(e: unknown, t: object, s: undefined, aborted: boolean): object };
    assert.deepEqual(gw.describeFailure(new Error('boom'), { connected: false, connectTimedOut: false }, undefined, false), { delivery: 'not-sent', cause: 'ERR: boom' });
  });

  it('reach(): a TCP connect and nothing else, in words; IPv6 hosts without their brackets', async () => {
    const { base, port, seen } = await serve(() => undefined);
    const t0 = performance.now();
    const ok = await gateway(base).reach();
    const took = performance.now() - t0;
    assert.deepEqual([ok.ok, ok.cause], [true, `127.0.0.1:${port} takes connections`]);
    assert.ok(Number.isInteger(ok.elapsedMs) && ok.elapsedMs >= 0 && ok.elapsedMs <= Math.ceil(took), `${ok.elapsedMs} of ${took}`);
    const six = await serve(() => undefined, '::1');
    const v6 = await gateway(`${six.base}/entry`).reach();
    assert.deepEqual([v6.ok, v6.cause], [true, `::1:${six.port} takes connections`]);
    const closed = await gateway('http://127.0.0.1:1').reach();
    assert.deepEqual([closed.ok, closed.cause], [false, 'connect to 127.0.0.1:1: ECONNREFUSED']);
    assert.equal(seen.length + six.seen.length, 0, 'no request');
  });
});
