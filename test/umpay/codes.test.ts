// Payment codes in words and masks, and the answer's numbers as the platform wrote them (issue 21 mutation run):
// every reason classifyAuthCode gives, what a mask keeps, and parseWireJson's exact-text rule.
import assert from 'node:assert/strict';
import { classifyAuthCode, maskAuthCode, maskDigitRuns } from '../../src/umpay/authcode.js';
import { parseWireJson } from '../../src/umpay/json.js';

const reason = (code: string): string => {
  const c = classifyAuthCode(code);
  assert.equal(c.ok, false, code);
  return (c as { reason: string }).reason;
};

describe('umpay payment codes: reasons, masks and the wire\'s numbers', () => {
  it('every refusal in words', () => {
    assert.equal(reason(''), 'empty code');
    assert.equal(reason(5 as unknown as string), 'empty code');
    assert.equal(reason('1'.repeat(33)), 'too long (33 characters, at most 24)');
    assert.equal(reason('1'.repeat(32)), 'WeChat prefix 11 but 32 digits (WeChat codes have 18)');
    assert.equal(reason('13457976142615216x'), 'not all digits');
    assert.equal(reason('134579761426152164 '), 'not all digits');
    assert.equal(reason('x34579761426152164'), 'not all digits');
    assert.equal(reason('2'.repeat(25)), 'unknown prefix 22 (WeChat 10-15, Alipay 25-30, UnionPay 62)');
    assert.equal(reason(`25${'0'.repeat(23)}`), 'Alipay prefix 25 but 25 digits (Alipay codes have 16 to 24)');
    assert.equal(reason(`30${'0'.repeat(13)}`), 'Alipay prefix 30 but 15 digits (Alipay codes have 16 to 24)');
    assert.equal(reason(`62${'0'.repeat(18)}`), 'UnionPay prefix 62 but 20 digits (UnionPay codes have 19)');
    assert.equal(reason(`10${'0'.repeat(15)}`), 'WeChat prefix 10 but 17 digits (WeChat codes have 18)');
    for (const p of ['00', '09', '16', '24', '31', '61', '63', '99']) assert.equal(reason(`${p}${'0'.repeat(16)}`), `unknown prefix ${p} (WeChat 10-15, Alipay 25-30, UnionPay 62)`);
  });

  it('the wallets at their prefix edges', () => {
    const ok = (code: string) => classifyAuthCode(code);
    assert.deepEqual(ok(`10${'0'.repeat(16)}`), { ok: true, orderType: 'wechat' });
    assert.deepEqual(ok(`15${'0'.repeat(16)}`), { ok: true, orderType: 'wechat' });
    assert.deepEqual(ok(`25${'0'.repeat(14)}`), { ok: true, orderType: 'alipay' });
    assert.deepEqual(ok(`30${'0'.repeat(22)}`), { ok: true, orderType: 'alipay' });
    assert.deepEqual(ok(`62${'0'.repeat(17)}`), { ok: true, orderType: 'unionpay' });
  });

  it('masks: the wallet and the last four of a code of 12 or more digits, the length of anything else; a mask stays a mask', () => {
    assert.equal(maskAuthCode('123456789012'), 'code…9012');
    assert.equal(maskAuthCode('12345678901'), 'code…(11 chars)');
    assert.equal(maskAuthCode('1234567890ab'), 'code…(12 chars)');
    assert.equal(maskAuthCode(`62${'0'.repeat(13)}4321`), 'unionpay…4321');
    assert.equal(maskAuthCode(null), '-');
    for (const m of ['alipay…0000', 'code…(7 chars)', 'unionpay…(19 chars)']) assert.equal(maskAuthCode(m), m);
    // Near misses are not masks: they are masked themselves (never passed through).
    assert.equal(maskAuthCode('wechat…123'), 'code…(10 chars)');
    assert.equal(maskAuthCode('xwechat…1234'), 'code…(12 chars)');
    assert.equal(maskAuthCode('wechat…12345'), 'code…(12 chars)');
    assert.equal(maskAuthCode('code…(x chars)'), 'code…(14 chars)');
    assert.equal(maskAuthCode('paypal…1234'), 'code…(11 chars)');
  });

  it('digit runs of 8 or more become their last four; shorter ones stay', () => {
    assert.equal(maskDigitRuns('a1234567b12345678c134579761426152164'), 'a1234567b…5678c…2164');
    assert.equal(maskDigitRuns('no digits'), 'no digits');
  });

  it('numbers keep the text they were sent with unless a JS number gives it back exactly', () => {
    assert.deepEqual(parseWireJson('{"a":1,"b":1.50,"c":9007199254740993,"d":1e2,"e":-0,"f":0.5,"g":-12,"h":"1.50"}'), { a: 1, b: '1.50', c: '9007199254740993', d: '1e2', e: '-0', f: 0.5, g: -12, h: '1.50' });
    assert.deepEqual(parseWireJson('[1, 2.0]'), [1, '2.0']);
    assert.throws(() => parseWireJson('{"a":1,"a":2}'));
    assert.throws(() => parseWireJson('{"a":'));
  });
});
