import assert from 'node:assert/strict';
import { classifyAuthCode, maskAuthCode } from '../../src/umpay/authcode.js';

// PROTOCOL.md "Payment codes": WeChat 10-15 + 18 digits, Alipay 25-30 + 16 to 24, UnionPay 62 + 19.
const digits = (prefix: string, len: number) => (prefix + '1234567890'.repeat(4)).slice(0, len);

describe('umpay/authcode: which wallet a code belongs to', () => {
  it('takes each wallet only at its documented lengths, one digit either side is refused', () => {
    const cases: Array<[prefix: string, min: number, max: number, orderType: string]> = [
      ['10', 18, 18, 'wechat'],
      ['15', 18, 18, 'wechat'],
      ['25', 16, 24, 'alipay'],
      ['30', 16, 24, 'alipay'],
      ['62', 19, 19, 'unionpay'],
    ];
    for (const [prefix, min, max, orderType] of cases) {
      for (let len = 12; len <= 26; len++) {
        const c = classifyAuthCode(digits(prefix, len));
        const want = len >= min && len <= max;
        assert.equal(c.ok, want, `${prefix}… with ${len} digits`);
        if (c.ok) assert.equal(c.orderType, orderType);
        else assert.match(c.reason, new RegExp(`${len} digits`));
      }
    }
  });

  it('refuses unknown prefixes, non-digits, empty and over-long input with a reason', () => {
    assert.match((classifyAuthCode(digits('16', 18)) as { reason: string }).reason, /unknown prefix 16/);
    assert.match((classifyAuthCode(digits('63', 19)) as { reason: string }).reason, /unknown prefix 63/);
    assert.match((classifyAuthCode('13456789012345678x') as { reason: string }).reason, /not all digits/);
    assert.match((classifyAuthCode('') as { reason: string }).reason, /empty/);
    assert.match((classifyAuthCode('1'.repeat(33)) as { reason: string }).reason, /too long/);
  });

  it('masks to the wallet and the last 4 digits, never more; a short or odd code shows only its length', () => {
    assert.equal(maskAuthCode('134579761426152164'), 'wechat…2164');
    assert.equal(maskAuthCode('2812345678901234'), 'alipay…1234');
    assert.equal(maskAuthCode('13457976142615216'), 'code…5216', 'a code that does not classify is still masked');
    assert.equal(maskAuthCode('12345678901'), 'code…(11 chars)');
    // A mask read back (kiosk logs on the daemon's log) stays as it is: a person matches the wallet and last four.
    for (const m of ['unionpay…6916', 'wechat…2164', 'alipay…1234', 'code…5216', 'code…(11 chars)']) assert.equal(maskAuthCode(m), m);
    assert.equal(maskAuthCode('abc-1234567890123'), 'code…(17 chars)');
    assert.equal(maskAuthCode(''), '-');
    assert.equal(maskAuthCode(undefined), '-');
  });
});
