import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { WireValue } from '../../src/umpay/canonical.js';
import { signResponse, verifyResponse } from '../../src/umpay/signature.js';
import { classify, DEFINITE_FAILURES, KNOWN_8_CHAR_REFUSALS, NOT_THIS_ORDER, notAboutOrder, payTimeDoubt, REQUEST_REFUSALS, REVERSAL_ALREADY_PAID, RESP_CODE_MEANING, type Exchange } from '../../src/umpay/outcome.js';
import { parsePublicKey } from '../../src/umpay/keys.js';
import type { CallName } from '../../src/umpay/types.js';
import { vectors } from './helpers.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const verify = (a: Record<string, WireValue>) => verifyResponse(a, publicKey);
const signed = (answer: Record<string, WireValue>): Exchange => ({ httpStatus: 200, body: JSON.stringify(signResponse(answer, privateKey)) });
const kindOf = (call: CallName, ex: Exchange) => classify(call, ex, verify, { orderNo: 'K1', txnAmt: '100' }).outcome;

// Every documented two-character code plus the 8-character ones we know of.
const DOCUMENTED = Object.keys(RESP_CODE_MEANING);
const ALL_CALLS: CallName[] = ['micropay', 'queryOrder', 'cancelOrder', 'closeOrder', 'refund', 'refundQuery'];

describe('umpay outcome: micropay', () => {
  const expected = (code: string): string => {
    if (code === '00') return 'PAID';
    if (DEFINITE_FAILURES.includes(code) || KNOWN_8_CHAR_REFUSALS.includes(code) || NOT_THIS_ORDER.includes(code)) return 'NOT_PAID';
    return 'UNKNOWN';
  };
  for (const code of DOCUMENTED) {
    it(`respCode ${code} → ${expected(code)}`, () => {
      const o = kindOf('micropay', signed({ respCode: code, respMsg: 'm', orderNo: 'K1', txnAmt: '100', transactionId: 'T1' }));
      assert.equal(o.kind, expected(code));
      if (o.kind === 'NOT_PAID') assert.equal(o.code, code);
      if (o.kind === 'PAID') assert.equal(o.transactionId, 'T1');
    });
  }
  it('the documented definite failures are exactly the list PROTOCOL.md gives', () => {
    assert.deepEqual([...DEFINITE_FAILURES].sort(), ['08', '10', '11', '13', '15', '20', '21', '23', '31', '32', '33', '38', '39', '43']);
    assert.deepEqual([...KNOWN_8_CHAR_REFUSALS], ['001100WN']);
  });
  it('16 (order number already used with other fields) is a definite "not this order": NOT_PAID, marked notOurs, never queried', () => {
    assert.deepEqual([...NOT_THIS_ORDER], ['16']);
    const o = kindOf('micropay', signed({ respCode: '16', respMsg: '订单号重复', orderNo: 'K1', txnAmt: '100' }));
    assert.deepEqual(o, { kind: 'NOT_PAID', code: '16', reason: 'order number already used: 订单号重复', notOurs: true });
    // Only 16 says so: the definite failures are about this request, not another order.
    assert.equal((kindOf('micropay', signed({ respCode: '15' })) as { notOurs?: boolean }).notOurs, undefined);
  });
  for (const code of ['01', '02', '04', '05', '06', '12', '99', '03', '09', '14', '17', '35', '36']) {
    it(`respCode ${code} is not final for micropay → UNKNOWN (query)`, () => assert.equal(kindOf('micropay', signed({ respCode: code })).kind, 'UNKNOWN'));
  }
  for (const code of ['001100WN', '00000000', '0000', '000', '00 ', ' 00', '0', '01000000', '00110000', '00AB12CD', 'ZZZZZZZZ', '77']) {
    const want = code === '001100WN' ? 'NOT_PAID' : 'UNKNOWN';
    it(`respCode ${JSON.stringify(code)} → ${want}, never PAID`, () => assert.equal(kindOf('micropay', signed({ respCode: code })).kind, want));
  }
  it('the real 001100WN answer from the vectors, verified with the test certificate, is NOT_PAID', () => {
    const v = vectors.responseSignatures[1]!;
    const cert = parsePublicKey(Buffer.from(vectors.platformCertificateDerBase64));
    const c = classify('micropay', { httpStatus: 200, body: JSON.stringify(v.response) }, (a) => verifyResponse(a, cert));
    assert.equal(c.signatureValid, true);
    assert.deepEqual(c.outcome, { kind: 'NOT_PAID', code: '001100WN', reason: 'payment code already used (each code can be used once): 101 每个二维码仅限使用一次，请刷新再试' });
  });
  it('the tampered vector (respCode 00) is UNKNOWN, not PAID', () => {
    const v = vectors.responseSignatures[2]!;
    const cert = parsePublicKey(Buffer.from(vectors.platformCertificateDerBase64));
    const c = classify('micropay', { httpStatus: 200, body: JSON.stringify(v.response) }, (a) => verifyResponse(a, cert));
    assert.equal(c.outcome.kind, 'UNKNOWN');
    assert.equal(c.signatureValid, false);
  });
  it('respCode as the number 0 is not "00"', () => assert.equal(kindOf('micropay', signed({ respCode: 0 })).kind, 'UNKNOWN'));
  it('a signed 00 about another order or amount is UNKNOWN', () => {
    assert.equal(kindOf('micropay', signed({ respCode: '00', orderNo: 'OTHER' })).kind, 'UNKNOWN');
    assert.equal(kindOf('micropay', signed({ respCode: '00', txnAmt: 1 })).kind, 'UNKNOWN');
    assert.equal(kindOf('micropay', signed({ respCode: '00', txnAmt: 100 })).kind, 'PAID');
  });
});

describe('umpay outcome: answers that are not trustworthy, every call', () => {
  const good = { respCode: '00', origRespCode: '00', respMsg: 'ok' };
  const cases: [string, Exchange][] = [
    ['unsigned 00', { httpStatus: 200, body: JSON.stringify(good) }],
    ['tampered 00', { httpStatus: 200, body: JSON.stringify({ ...signResponse({ ...good, txnAmt: '1' }, privateKey), txnAmt: '2' }) }],
    ['signed with another key', { httpStatus: 200, body: JSON.stringify(signResponse(good, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey)) }],
    ['non-JSON body', { httpStatus: 200, body: 'respCode=00' }],
    ['truncated JSON', { httpStatus: 200, body: JSON.stringify(signResponse(good, privateKey)).slice(0, 30) }],
    ['JSON array', { httpStatus: 200, body: '[]' }],
    ['empty body', { httpStatus: 200, body: '' }],
    ['HTTP 500 with HTML', { httpStatus: 500, body: '<html><body><h1>500 Internal Server Error</h1></body></html>' }],
    ['HTTP 502 with a signed 00 body', { httpStatus: 502, body: JSON.stringify(signResponse(good, privateKey)) }],
    ['transport error', { transportError: 'ECONNRESET: socket hang up' }],
    ['signed 37 rate limit', signed({ respCode: '37', respMsg: 'too frequent' })],
  ];
  for (const call of ALL_CALLS) {
    for (const [name, ex] of cases) {
      it(`${call}: ${name} → UNKNOWN with the cause`, () => {
        const c = classify(call, ex, verify);
        assert.equal(c.outcome.kind, 'UNKNOWN');
        assert.ok(c.cause && c.cause.length > 0);
        const o = c.outcome as { cause: string; rateLimited?: boolean };
        assert.equal(o.rateLimited === true, name.includes('37'));
      });
    }
  }
});

describe('umpay outcome: queryOrder', () => {
  const table: [string, string][] = [['00', 'PAID'], ['01', 'NOT_PAID:refunded'], ['02', 'PENDING'], ['03', 'NOT_PAID:closed'], ['04', 'NOT_PAID:cancelled'], ['06', 'NOT_PAID:failed'], ['05', 'UNKNOWN'], ['99', 'UNKNOWN'], ['00000000', 'UNKNOWN'], ['', 'UNKNOWN']];
  for (const [orig, want] of table) {
    it(`respCode 00, origRespCode ${JSON.stringify(orig)} → ${want}`, () => {
      const o = kindOf('queryOrder', signed({ respCode: '00', origRespCode: orig, origRespDescMsg: 'x', transactionId: 'T9' }));
      assert.equal(o.kind + ('state' in o ? `:${o.state}` : ''), want);
    });
  }
  it('respCode 17 (no such trade) → NOT_PAID no-such-order', () => {
    assert.deepEqual(kindOf('queryOrder', signed({ respCode: '17', respMsg: 'none' })), { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade: none' });
  });
  for (const code of DOCUMENTED.filter((c) => c !== '00' && c !== '17')) {
    it(`respCode ${code} → UNKNOWN even with origRespCode 00`, () => assert.equal(kindOf('queryOrder', signed({ respCode: code, origRespCode: '00' })).kind, 'UNKNOWN'));
  }
  it('paid but about another order → UNKNOWN', () => assert.equal(kindOf('queryOrder', signed({ respCode: '00', origRespCode: '00', orderNo: 'X' })).kind, 'UNKNOWN'));
  it('unsigned origRespCode 00 → UNKNOWN', () => assert.equal(kindOf('queryOrder', { httpStatus: 200, body: JSON.stringify({ respCode: '00', origRespCode: '00' }) }).kind, 'UNKNOWN'));
});

describe('umpay outcome: cancelOrder, closeOrder, refund', () => {
  for (const call of ['cancelOrder', 'closeOrder', 'refund'] as const) {
    const ok = call === 'refund' ? 'ACCEPTED' : 'DONE';
    for (const code of [...DOCUMENTED, '00000000', '01000000']) {
      const want = code === '00' ? ok : REQUEST_REFUSALS.includes(code) || (call === 'refund' && code === '16') || (call !== 'refund' && REVERSAL_ALREADY_PAID.includes(code)) ? 'REFUSED' : 'UNKNOWN';
      it(`${call} respCode ${code} → ${want}`, () => {
        const o = kindOf(call, signed({ respCode: code, respMsg: 'm' }));
        assert.equal(o.kind, want);
        if (o.kind === 'REFUSED') assert.equal(o.code, code);
      });
    }
  }
  it('refund 16: the serial is another refund\'s (ours re-sends the same fields): refused, notOurs, never "already accepted"', () => {
    assert.deepEqual(kindOf('refund', signed({ respCode: '16', respMsg: 'm' })), { kind: 'REFUSED', code: '16', reason: 'order number already used: m', notOurs: true });
  });
  it('the refusal list holds the documented final codes: 03 09 14 17 35 36 and the failures', () => {
    for (const c of ['03', '09', '14', '17', '35', '36', ...DEFINITE_FAILURES]) assert.ok(REQUEST_REFUSALS.includes(c), c);
    for (const c of ['00', '01', '02', '04', '05', '06', '12', '16', '37', '99']) assert.ok(!REQUEST_REFUSALS.includes(c), c);
  });
});

describe('umpay outcome: refundQuery', () => {
  const table: [string, string, string][] = [['00', '00', 'REFUNDED'], ['00', '01', 'FAILED'], ['00', '02', 'PENDING'], ['00', '03', 'UNKNOWN'], ['00', '', 'UNKNOWN'], ['17', '00', 'UNKNOWN'], ['001100WN', '00', 'UNKNOWN']];
  for (const [code, orig, want] of table) {
    it(`respCode ${code} origRespCode ${JSON.stringify(orig)} → ${want}`, () => assert.equal(kindOf('refundQuery', signed({ respCode: code, origRespCode: orig })).kind, want));
  }
  for (const code of DOCUMENTED.filter((c) => c !== '00')) {
    it(`respCode ${code} → UNKNOWN`, () => assert.equal(kindOf('refundQuery', signed({ respCode: code, origRespCode: '00' })).kind, 'UNKNOWN'));
  }
});

describe('umpay outcome: is a query answer about our order (notAboutOrder)', () => {
  const ours = { orderNo: 'K0120261201000007_ab12cd34ef', txnAmt: '150', orderType: 'wechat', transactionId: 'T1', orderTime: '20261201103000' };
  it('every field that fits, or is absent: about ours', () => {
    assert.equal(notAboutOrder({ respCode: '00', origRespCode: '00', txnAmt: '150', transactionId: 'T1', payTime: '1201103004' }, ours), undefined);
    assert.equal(notAboutOrder({ respCode: '00' }, ours), undefined);
    assert.equal(notAboutOrder(undefined, ours), undefined);
    // transactionId unknown to us yet: not compared.
    assert.equal(notAboutOrder({ transactionId: 'T9' }, { ...ours, transactionId: null }), undefined);
  });
  it('another orderNo, amount, orderType or transactionId: not ours', () => {
    assert.match(notAboutOrder({ orderNo: 'K0120261201000007' }, ours)!, /about order K0120261201000007/);
    assert.match(notAboutOrder({ txnAmt: 1500 }, ours)!, /txnAmt 1500/);
    assert.match(notAboutOrder({ orderType: 'alipay' }, ours)!, /orderType alipay/);
    assert.match(notAboutOrder({ transactionId: 'T2' }, ours)!, /transactionId T2/);
  });
  it('paid before the order was made (beyond the clock skew allowed): doubted for releasing the product (payTimeDoubt)', () => {
    assert.match(payTimeDoubt({ payTime: '1201091500' }, ours)!, /before the order was made/);
    assert.equal(payTimeDoubt({ payTime: '1201102500' }, ours), undefined, 'five minutes early is clock skew');
    assert.equal(payTimeDoubt({ payTime: '1201160000' }, ours), undefined, 'paid later (the customer typed a password): ours');
    // Across New Year: 31 Dec 23:59 paid, ordered 1 Jan 00:01 → paid first, two minutes: skew. A year earlier it
    // would not be.
    assert.equal(payTimeDoubt({ payTime: '1231235900' }, { ...ours, orderTime: '20270101000100' }), undefined);
    assert.match(payTimeDoubt({ payTime: '1230235900' }, { ...ours, orderTime: '20270101000100' })!, /before the order was made/);
  });
  it('the time never makes an answer about another order: the money it reports held is ours to give back (issue 24)', () => {
    assert.equal(notAboutOrder({ payTime: '1201091500', txnAmt: '150', orderNo: ours.orderNo }, ours), undefined);
    assert.equal(notAboutOrder({ payTime: '1130103000' }, ours), undefined, 'a day before: a kiosk clock a day fast');
  });
});

describe('umpay/outcome parseAnswer: the cause never carries a payment code', () => {
  it('a non-JSON or error body that echoes the request keeps no digit run of 8 or more', async () => {
    const { parseAnswer } = await import('../../src/umpay/outcome.js');
    const code = '134579761426152164';
    for (const [status, body] of [
      [200, `authCode=${code}&txnAmt=1`],
      [502, `<html>bad gateway ${code}</html>`],
      [200, `x${code.slice(0, 12)}`], // a piece cut at the sample's end
    ] as const) {
      const r = parseAnswer(status, body);
      assert.equal(r.ok, false);
      if (!r.ok) {
        assert.doesNotMatch(r.cause, /[0-9]{8,}/, r.cause);
        assert.match(r.cause, /…\d{4}/);
      }
    }
  });
});
