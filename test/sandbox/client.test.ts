// The real client against the sandbox: the two halves of the protocol agree.
import assert from 'node:assert/strict';
import { HttpGateway } from '../../src/umpay/client.js';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { startSandbox, testCode, type Sandbox } from '../../src/sandbox/index.js';
import { orderNo, SP } from './helpers.js';

describe('sandbox through HttpGateway', () => {
  let sb: Sandbox;
  let gw: HttpGateway;
  before(async () => {
    sb = await startSandbox();
    gw = new HttpGateway({ baseUrl: sb.baseUrl, merchant: SP, privateKey: loadPrivateKey(sb.merchantKeyPath!), platformKey: sb.platformPublicKey, connectTimeoutMs: 1000, timeoutMs: 2000 });
  });
  after(async () => {
    gw.close();
    await sb.close();
  });
  const fields = (code: string) => ({ orderTime: '20260101120000', orderNo: orderNo(), txnAmt: '100', orderType: 'wechat' as const, authCode: code, goodsId: 'G1', goodsInfo: 'cola' });

  it('PAID, NOT_PAID (001100WN), UNKNOWN on a bad signature and a lost answer, and the query settles it', async () => {
    assert.equal((await gw.micropay(fields(testCode('paid', 'wechat')))).outcome.kind, 'PAID');
    assert.equal((await gw.micropay(fields(testCode('reused', 'wechat')))).outcome.kind, 'NOT_PAID');
    sb.setFaults([{ kind: 'bad-signature' }]);
    const bad = await gw.micropay(fields(testCode('paid', 'wechat')));
    assert.equal(bad.outcome.kind, 'UNKNOWN');
    assert.equal(bad.signatureValid, false);
    const lost = fields(testCode('answer-lost', 'wechat'));
    const r = await gw.micropay(lost);
    assert.equal(r.outcome.kind, 'UNKNOWN');
    assert.equal(r.delivery, 'maybe-sent');
    assert.equal((await gw.queryOrder({ orderNo: lost.orderNo })).outcome.kind, 'PAID');
    const pending = fields(testCode('pending-forever', 'wechat'));
    assert.equal((await gw.micropay(pending)).outcome.kind, 'UNKNOWN');
    assert.equal((await gw.queryOrder({ orderNo: pending.orderNo })).outcome.kind, 'PENDING');
    assert.equal((await gw.cancelOrder({ orderNo: pending.orderNo })).outcome.kind, 'DONE');
    assert.equal(sb.ledger().orders.find((o) => o.orderNo === pending.orderNo)!.charged, 0);
  });
});
