// The gateway client's connections (issue 21 mutation run): where it connects by default, when a warm-up opens,
// what close() closes, and that a request on a kept-alive connection counts as sent. Local servers on 127.0.0.1.
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { generateKeyPairSync } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import { pino } from 'pino';
import { HttpGateway, type HttpGatewayOptions } from '../../src/umpay/client.js';
import { signResponse } from '../../src/umpay/signature.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { startSandbox, testCode } from '../../src/sandbox/index.js';
import { readFileSync } from 'node:fs';
import type { MicropayFields } from '../../src/umpay/types.js';

const merchantKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const platformKeys = generateKeyPairSync('rsa', { modulusLength: 1024 });
const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const pay: MicropayFields = { orderTime: '20240101120000', orderNo: 'T1', txnAmt: '100', orderType: 'wechat', authCode: '134579761426152164' };
const paid = JSON.stringify(signResponse({ respCode: '00', orderNo: 'T1', txnAmt: '100' }, platformKeys.privateKey));

describe('umpay HttpGateway: connections', () => {
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    while (cleanup.length) await cleanup.pop()!();
  });
  const gateway = (baseUrl: string, o: Partial<HttpGatewayOptions> = {}): HttpGateway => {
    const gw = new HttpGateway({ baseUrl, merchant, privateKey: merchantKeys.privateKey, platformKey: platformKeys.publicKey, connectTimeoutMs: 2000, timeoutMs: 5000, ...o });
    cleanup.push(() => gw.close());
    return gw;
  };
  async function serve(handler: (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void) {
    const sockets: Socket[] = [];
    let n = 0;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => handler(req, res, ++n));
    });
    server.on('connection', (s: Socket) => sockets.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => {
      server.closeAllConnections();
      server.close(r);
    }));
    return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, sockets };
  }
  /** What the warm-up would connect to (its options are the agent's createConnection's). */
  const target = (gw: HttpGateway) => (gw.warmer as unknown as { o: { mode: string; minIntervalMs: number; connectTimeoutMs: number; connect: Record<string, unknown> } }).o;

  it('the warm-up connects where the requests go: the URL\'s port or the scheme\'s, IPv6 without brackets, SNI only for a name', () => {
    const c = (url: string) => {
      const { secureContext, ...rest } = target(gateway(url)).connect;
      return { ...rest, context: secureContext !== undefined };
    };
    assert.deepEqual(c('http://127.0.0.1/x'), { protocol: 'http:', host: '127.0.0.1', port: 80, context: false });
    assert.deepEqual(c('http://[::1]:8011/x'), { protocol: 'http:', host: '::1', port: 8011, context: false });
    assert.deepEqual(c('https://127.0.0.1/x'), { protocol: 'https:', host: '127.0.0.1', port: 443, context: true });
    assert.deepEqual(c('https://gateway.example:8443'), { protocol: 'https:', host: 'gateway.example', port: 8443, servername: 'gateway.example', context: true });
    assert.deepEqual(c('https://[::1]:8443'), { protocol: 'https:', host: '::1', port: 8443, context: true });
    const o = target(gateway('http://127.0.0.1:1', { connectTimeoutMs: 1234 }));
    assert.deepEqual([o.mode, o.minIntervalMs, o.connectTimeoutMs], ['customer', 60_000, 1234]);
    assert.deepEqual([target(gateway('http://127.0.0.1:1', { warm: 'off', warmMinIntervalMs: 5 })).mode, target(gateway('http://127.0.0.1:1', { warmMinIntervalMs: 5 })).minIntervalMs], ['off', 5]);
  });

  it('reach() without a port in the URL knocks at the scheme\'s own', async () => {
    assert.match((await gateway('http://127.0.0.1/entry').reach()).cause, /127\.0\.0\.1:80\b/);
    assert.match((await gateway('https://127.0.0.1/entry').reach()).cause, /127\.0\.0\.1:443\b/);
  });

  it('by default a connection is opened when a customer starts, not before', async () => {
    const { base, sockets } = await serve((_q, res) => res.end(paid));
    const gw = gateway(base);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sockets.length, 0);
    const warm = once(gw.warmer, 'warm');
    gw.warm();
    await warm;
    assert.equal(sockets.length, 1);
    assert.equal((await gw.micropay(pay)).outcome.kind, 'PAID');
    assert.equal(sockets.length, 1, 'the payment rode it');
  });

  it('close() closes the kept-alive connection and stops the warm-up', async () => {
    const { base, sockets } = await serve((_q, res) => res.end(paid));
    const gw = gateway(base, { warm: 'keep', warmMinIntervalMs: 0 });
    await once(gw.warmer, 'warm');
    await gw.micropay(pay);
    assert.equal(sockets.length, 1);
    const closed = once(sockets[0]!, 'close');
    gw.close();
    await closed;
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(sockets.length, 1, 'no warm-up after close');
  });

  it('a signed micropay 00 about another order or amount is not paid; the result of a call that never left has only what is known', async () => {
    let answer = signResponse({ respCode: '00', orderNo: 'T2', txnAmt: '100' }, platformKeys.privateKey);
    const { base } = await serve((_q, res) => res.end(JSON.stringify(answer)));
    const gw = gateway(base);
    assert.deepEqual((await gw.micropay(pay)).outcome, { kind: 'UNKNOWN', cause: 'answer is about order T2, not T1' });
    answer = signResponse({ respCode: '00', orderNo: 'T1', txnAmt: '1' }, platformKeys.privateKey);
    assert.deepEqual((await gw.micropay(pay)).outcome, { kind: 'UNKNOWN', cause: 'answer says txnAmt 1, the request said 100' });
    const lines: Record<string, unknown>[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) });
    const r = await gateway('http://127.0.0.1:1', { log }).micropay(pay);
    const { elapsedMs: _e, request: _r, plaintext: _p, cause, ...rest } = r;
    assert.deepEqual(rest, { call: 'micropay', outcome: { kind: 'UNKNOWN', cause: `no answer: ${cause}` }, delivery: 'not-sent' });
    assert.match(cause!, /^ECONNREFUSED: /);
    assert.deepEqual([lines.length, lines[0]!.delivery, lines[0]!.respCode, lines[0]!.httpStatus], [1, 'not-sent', undefined, undefined]);
  });

  it('over TLS: a request whose connection drops after the handshake, before the answer, is maybe-sent', async () => {
    const sb = await startSandbox({ tls: true });
    cleanup.push(() => sb.close());
    const gw = gateway(sb.baseUrl, { privateKey: loadPrivateKey(sb.merchantKeyPath!), platformKey: sb.platformPublicKey, ca: readFileSync(sb.caFile!) });
    const r = await gw.micropay({ ...pay, orderNo: `TLS${Date.now()}`, authCode: testCode('answer-lost', 'wechat') });
    assert.deepEqual([r.delivery, r.outcome.kind, r.httpStatus], ['maybe-sent', 'UNKNOWN', undefined]);
  });

  it('over TLS: a request on a kept-alive connection was sent: dropped before the answer, it is maybe-sent, never not-sent', async () => {
    const sb = await startSandbox({ tls: true });
    cleanup.push(() => sb.close());
    const gw = gateway(sb.baseUrl, { privateKey: loadPrivateKey(sb.merchantKeyPath!), platformKey: sb.platformPublicKey, ca: readFileSync(sb.caFile!) });
    const first = await gw.micropay({ ...pay, orderNo: `TLSA${Date.now()}`, authCode: testCode('paid', 'wechat') });
    assert.equal(first.delivery, 'answered');
    const r = await gw.micropay({ ...pay, orderNo: `TLSB${Date.now()}`, authCode: testCode('answer-lost', 'wechat') });
    assert.equal(sb.stats().connections, 1, 'the second request rode the kept-alive connection');
    assert.deepEqual([r.delivery, r.outcome.kind, r.httpStatus], ['maybe-sent', 'UNKNOWN', undefined]);
  });

  it('a request on a kept-alive connection was sent: the connection dropped before the answer is maybe-sent, never not-sent', async () => {
    const { base, sockets } = await serve((req, res, n) => (n === 1 ? res.end(paid) : req.socket.destroy()));
    const gw = gateway(base);
    assert.equal((await gw.micropay(pay)).delivery, 'answered');
    const r = await gw.micropay(pay);
    assert.equal(sockets.length, 1, 'the second request rode the kept-alive connection');
    assert.deepEqual([r.delivery, r.outcome.kind, r.httpStatus], ['maybe-sent', 'UNKNOWN', undefined]);
  });
});
