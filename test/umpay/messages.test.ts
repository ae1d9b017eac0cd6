import assert from 'node:assert/strict';
import { buildRequest, CALL_FIELDS, FieldError, formatOrderTime, PATHS, REQUIRED_FIELDS } from '../../src/umpay/messages.js';
import type { CallName, MicropayFields } from '../../src/umpay/types.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const WECHAT = '134579761426152164';
const micropay: MicropayFields = { orderTime: '20200305105724', orderNo: 'JD202003051057240001', txnAmt: '1', orderType: 'wechat', authCode: WECHAT, goodsId: '123', goodsInfo: '口罩' };

function fails(fn: () => unknown, field: string, pattern?: RegExp): FieldError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof FieldError, `expected FieldError on ${field}, got ${String(caught)}`);
  assert.equal(caught.code, 'E_FIELD');
  assert.equal(caught.field, field);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

describe('umpay messages', () => {
  it('micropay: the vector fields give exactly the vector wire object', () => {
    assert.deepEqual(buildRequest('micropay', merchant, micropay), { ...micropay, ...merchant });
  });
  it('drops empty optional fields and keeps given ones', () => {
    const out = buildRequest('micropay', merchant, { ...micropay, backUrl: '', merPriv: 'note', faceFlag: '1' });
    assert.equal('backUrl' in out, false);
    assert.equal(out.merPriv, 'note');
    assert.deepEqual(buildRequest('queryOrder', merchant, { orderNo: 'A1', transactionId: '' }), { ...merchant, orderNo: 'A1' });
  });
  it('paths and field lists per call', () => {
    assert.equal(PATHS.micropay, '/pay/micropay');
    assert.equal(PATHS.refundQuery, '/pay/refundQuery');
    assert.deepEqual(CALL_FIELDS.cancelOrder, ['acqSpId', 'acqMerId', 'orderNo']);
    assert.ok(!REQUIRED_FIELDS.micropay.includes('backUrl'));
    assert.ok(REQUIRED_FIELDS.refund.includes('origTxnAmt'));
  });

  const bad: [string, Partial<Record<keyof MicropayFields, string>>, string, RegExp][] = [
    ['goodsInfo with ", " (the Java demo signs it as "&")', { goodsInfo: '可乐, 冰' }, 'goodsInfo', /Java demo/],
    ['goodsId with a brace', { goodsId: 'A{1}' }, 'goodsId', /"\{"/],
    ['merPriv with a brace', { merPriv: 'x}' }, 'merPriv', /"\}"/],
    ['faceFlag 0 (only 1 is defined)', { faceFlag: '0' }, 'faceFlag', /only value/],
    ['ledgerAccountFlag 0', { ledgerAccountFlag: '0' }, 'ledgerAccountFlag', /only value/],
    ['longitude not a number', { longitude: 'east' }, 'longitude', /degrees/],
    ['goodsTag too long', { goodsTag: 'x'.repeat(33) }, 'goodsTag', /at most 32/],
    ['orderTime format', { orderTime: '2020-03-05 10:57' }, 'orderTime', /yyyyMMddHHmmss/],
    ['orderTime 30 February', { orderTime: '20200230105724' }, 'orderTime', /real date/],
    ['orderTime 24h', { orderTime: '20200305245724' }, 'orderTime', /real date/],
    ['txnAmt 0', { txnAmt: '0' }, 'txnAmt', /> 0/],
    ['txnAmt leading zero', { txnAmt: '01' }, 'txnAmt', /leading zero/],
    ['txnAmt decimal', { txnAmt: '1.5' }, 'txnAmt', /whole number/],
    ['txnAmt negative', { txnAmt: '-1' }, 'txnAmt', /whole number/],
    ['txnAmt too long', { txnAmt: '12345678901234' }, 'txnAmt', /too long/],
    ['orderNo too long', { orderNo: 'A'.repeat(65) }, 'orderNo', /at most 64/],
    ['orderNo with &', { orderNo: 'A&B' }, 'orderNo', /letters, digits/],
    ['goodsId too long', { goodsId: '12345678901234567' }, 'goodsId', /at most 16/],
    ['goodsInfo over 128 bytes', { goodsInfo: '口'.repeat(43) }, 'goodsInfo', /129 bytes/],
    ['backUrl https', { backUrl: 'https://a.example/cb' }, 'backUrl', /http:\/\//],
    ['backUrl with a space', { backUrl: 'http://a.example/c b' }, 'backUrl', /letters, digits/],
    ['backUrl with #', { backUrl: 'http://a.example/cb#x' }, 'backUrl', /letters, digits/],
    ['faceFlag 2', { faceFlag: '2' }, 'faceFlag', /"1"/],
    ['orderType unknown', { orderType: 'paypal' }, 'orderType', /wechat, alipay or unionpay/],
    ['orderType does not match the code', { orderType: 'alipay' }, 'orderType', /wechat code/],
    ['authCode not a code', { authCode: '99123456789012345678' }, 'authCode', /unknown prefix/],
    ['authCode too short', { authCode: '1345797614' }, 'authCode', /18/],
    ['control character', { goodsInfo: 'a\nb' }, 'goodsInfo', /control/],
  ];
  for (const [name, patch, field, pattern] of bad) {
    it(`micropay rejects ${name}, naming ${field}`, () => {
      fails(() => buildRequest('micropay', merchant, { ...micropay, ...patch } as MicropayFields), field, pattern);
    });
  }
  it('goodsId/goodsInfo are optional (current docs; the Java demo omits both); goodsTag, subAppId, longitude, latitude are sent', () => {
    const { goodsId: _i, goodsInfo: _g, ...bare } = micropay;
    assert.deepEqual(buildRequest('micropay', merchant, bare), { ...bare, ...merchant });
    const extra = { goodsTag: 'COUPON1', subAppId: 'wx1234567890abcdef', longitude: '-83.2345', latitude: '-24.3094' };
    assert.deepEqual(buildRequest('micropay', merchant, { ...micropay, ...extra }), { ...micropay, ...extra, ...merchant });
    assert.ok(!REQUIRED_FIELDS.micropay.includes('goodsInfo'));
    assert.ok(CALL_FIELDS.micropay.includes('subAppId'));
  });
  it('refund sends no orderType (the field table and the Java demo leave it out)', () => {
    assert.ok(!CALL_FIELDS.refund.includes('orderType'));
  });
  it('accepts a good backUrl with host, port and query', () => {
    assert.equal(buildRequest('micropay', merchant, { ...micropay, backUrl: 'http://10.0.0.1:8080/cb?a=1&b=%20' }).backUrl, 'http://10.0.0.1:8080/cb?a=1&b=%20');
  });
  it('orderType follows the code for alipay and unionpay', () => {
    const alipay = buildRequest('micropay', merchant, { ...micropay, authCode: '2850123456789012', orderType: 'alipay' });
    assert.equal(alipay.orderType, 'alipay');
    assert.equal(alipay.authCode, '2850123456789012');
    const unionpay = buildRequest('micropay', merchant, { ...micropay, authCode: '6212345678901234567', orderType: 'unionpay' });
    assert.equal(unionpay.orderType, 'unionpay');
    // The other way round is refused: the code decides the orderType.
    fails(() => buildRequest('micropay', merchant, { ...micropay, authCode: '2850123456789012', orderType: 'unionpay' }), 'orderType', /alipay code/);
    fails(() => buildRequest('micropay', merchant, { ...micropay, authCode: '6212345678901234567', orderType: 'wechat' }), 'orderType', /unionpay code/);
  });
  it('masks the payment code in the error', () => {
    const err = fails(() => buildRequest('micropay', merchant, { ...micropay, orderType: 'alipay' }), 'orderType');
    assert.ok(!err.message.includes(WECHAT), err.message);
    const err2 = fails(() => buildRequest('micropay', merchant, { ...micropay, authCode: '13457976142615216' }), 'authCode');
    assert.ok(!err2.message.includes('13457976142615216') && !err2.value.includes('13457976142615216'), err2.message);
  });
  it('merchant ids: acqSpId 10 starting Y, acqMerId 8', () => {
    fails(() => buildRequest('cancelOrder', { ...merchant, acqSpId: 'X471790403' }, { orderNo: 'A' }), 'acqSpId', /starting with Y/);
    fails(() => buildRequest('cancelOrder', { ...merchant, acqSpId: 'Y4717904' }, { orderNo: 'A' }), 'acqSpId');
    fails(() => buildRequest('cancelOrder', { ...merchant, acqMerId: '4150920' }, { orderNo: 'A' }), 'acqMerId', /8/);
    fails(() => buildRequest('cancelOrder', { acqSpId: 'Y471790403' } as never, { orderNo: 'A' }), 'acqMerId', /missing/);
  });
  it('an extra field is refused (it would break the platform signature check)', () => {
    fails(() => buildRequest('queryOrder', merchant, { orderNo: 'A', foo: 'x' } as never), 'foo', /not a field of queryOrder/);
    fails(() => buildRequest('cancelOrder', merchant, { orderNo: 'A', signature: 'x' } as never), 'signature');
  });
  it('a number where a string is due is refused', () => {
    fails(() => buildRequest('micropay', merchant, { ...micropay, txnAmt: 1 as never }), 'txnAmt', /string/);
  });
  it('refund: amounts, and not more than the original', () => {
    const r = { orderTime: '20200305105724', origOrderNo: 'A1', origTxnAmt: '100', orderNo: 'R1', txnAmt: '100' };
    assert.deepEqual(buildRequest('refund', merchant, r), { ...merchant, ...r });
    fails(() => buildRequest('refund', merchant, { ...r, txnAmt: '101' }), 'txnAmt', /exceeds/);
    fails(() => buildRequest('refund', merchant, { ...r, origTxnAmt: '0' }), 'origTxnAmt');
    fails(() => buildRequest('refund', merchant, { ...r, origOrderNo: '' }), 'origOrderNo', /missing/);
  });
  for (const call of ['queryOrder', 'cancelOrder', 'closeOrder', 'refundQuery'] as CallName[]) {
    it(`${call} requires orderNo`, () => fails(() => buildRequest(call, merchant, {} as never), 'orderNo', /missing/));
  }
  it('formatOrderTime gives a time the builder accepts', () => {
    const t = formatOrderTime(new Date(2024, 1, 29, 23, 59, 58));
    assert.equal(t, '20240229235958');
    buildRequest('micropay', merchant, { ...micropay, orderTime: t });
  });
});
