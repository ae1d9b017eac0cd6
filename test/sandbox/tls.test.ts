// Issue 20 §4: the sandbox over HTTPS with its own CA (`kiosk sandbox --tls`), the gateway client trusting that
// CA from a file (gateway.ca), and the connection warm-up (src/umpay/warm.ts): a connection only, used by the
// next request, never a request of its own.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { startSandbox, testCode, type Sandbox } from '../../src/sandbox/index.js';
import { HttpGateway, type HttpGatewayOptions } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { FakeClock } from '../fake-clock.js';
import { orderNo, SP } from './helpers.js';


describe('sandbox over TLS and the connection warm-up (issue 20 §4)', function () {
  this.timeout(10_000);
  let sandbox: Sandbox;
  let gw: HttpGateway | undefined;
  before(async () => {
    sandbox = await startSandbox({ tls: true });
  });
  after(() => sandbox.close());
  afterEach(() => {
    gw?.close();
    gw = undefined;
    sandbox.reset();
  });

  const gateway = (o: Partial<HttpGatewayOptions> = {}): HttpGateway =>
    new HttpGateway({
      baseUrl: sandbox.baseUrl,
      merchant: SP,
      privateKey: loadPrivateKey(sandbox.merchantKeyPath!),
      platformKey: sandbox.platformPublicKey,
      connectTimeoutMs: 2000,
      timeoutMs: 4000,
      ...o,
    });
  const pay = (g: HttpGateway) => g.micropay({ orderTime: '20260101120000', orderNo: orderNo(), txnAmt: '100', orderType: 'wechat', authCode: testCode('paid', 'wechat'), goodsId: 'G1', goodsInfo: 'cola' });

  it('serves https with a certificate its CA file vouches for (127.0.0.1, ::1, localhost)', () => {
    assert.match(sandbox.baseUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = new X509Certificate(readFileSync(sandbox.caFile!));
    assert.equal(ca.ca, true);
  });

  it('a client that trusts the CA file gets a verified answer', async () => {
    gw = gateway({ ca: readFileSync(sandbox.caFile!) });
    const res = await pay(gw);
    assert.equal(res.delivery, 'answered');
    assert.equal(res.outcome.kind, 'PAID');
  });

  it('a client without it refuses the connection: nothing was sent', async () => {
    gw = gateway();
    const res = await pay(gw);
    assert.equal(res.delivery, 'not-sent');
    assert.match(res.cause ?? '', /certificate/i);
    assert.equal(sandbox.stats().total, 0);
  });

  it('warm(): one connection and no request; the payment then rides it and is sent once', async () => {
    gw = gateway({ ca: readFileSync(sandbox.caFile!), warm: 'customer' });
    const before = sandbox.stats().connections;
    const warm = once(gw.warmer, 'warm');
    gw.warm();
    gw.warm(); // a second key press while it connects: still one
    await warm;
    assert.equal(sandbox.stats().connections, before + 1);
    assert.equal(sandbox.stats().total, 0, 'the warm-up is no request');
    const res = await pay(gw);
    assert.equal(res.outcome.kind, 'PAID');
    assert.equal(sandbox.stats().connections, before + 1, 'the payment used the warm connection');
    assert.equal(sandbox.stats().requests['/pay/micropay'], 1);
    assert.equal(gw.warmer.opened, 1);
  });

  it('a payment while the warm-up is still connecting waits for that one connection, not a second', async () => {
    gw = gateway({ ca: readFileSync(sandbox.caFile!), warm: 'customer' });
    const before = sandbox.stats().connections;
    gw.warm();
    const res = await pay(gw); // issued in the same tick: the warm-up has not connected yet
    assert.equal(res.outcome.kind, 'PAID');
    assert.equal(sandbox.stats().connections, before + 1);
    assert.equal(sandbox.stats().requests['/pay/micropay'], 1);
  });

  it('keep: a closed idle connection is reopened, at most once per minIntervalMs', async () => {
    const clock = new FakeClock();
    gw = gateway({ ca: readFileSync(sandbox.caFile!), warm: 'keep', warmMinIntervalMs: 60_000, timers: clock });
    await once(gw.warmer, 'warm');
    assert.equal(gw.warmer.opened, 1);
    const cold = once(gw.warmer, 'cold');
    sandbox.closeIdleConnections(); // the gateway's idle timeout, now
    await cold;
    clock.tick(59_999);
    assert.equal(gw.warmer.opened, 1, 'not before the minute is over');
    const warm = once(gw.warmer, 'warm');
    clock.tick(1);
    await warm;
    assert.equal(gw.warmer.opened, 2);
    assert.equal(sandbox.stats().total, 0, 'keeping warm sends no request');
  });
});
