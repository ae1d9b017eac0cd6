// What an answer's verdict says, word for word: the reason or cause a technician reads in `kiosk status`, the journal
// and the logs, and the exact boundaries of each verdict (HTTP status, signature, respCode, origRespCode, payTime).
// outcome.test.ts has the verdict per code; this file has what the verdict carries with it (issue 21).
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import type { WireValue } from '../../src/umpay/canonical.js';
import { signResponse, verifyResponse } from '../../src/umpay/signature.js';
import { classify, notAboutOrder, parseAnswer, PAY_TIME_SKEW_MS, payTimeDoubt, RESP_CODE_MEANING, type Exchange } from '../../src/umpay/outcome.js';
import type { CallName } from '../../src/umpay/types.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const verify = (a: Record<string, WireValue>) => verifyResponse(a, publicKey);
const signed = (answer: Record<string, WireValue>): Exchange => ({ httpStatus: 200, body: JSON.stringify(signResponse(answer, privateKey)) });
const outcome = (call: CallName, answer: Record<string, WireValue>) => classify(call, signed(answer), verify, { orderNo: 'K1', txnAmt: '100' }).outcome;

/** The meanings as PROTOCOL.md and the operator's manual word them (a test oracle of its own, not the table). */
const MEANINGS: Record<string, string> = {
  '00': 'success',
  '01': 'in progress',
  '02': 'customer is paying',
  '03': 'refunded',
  '04': 'state unknown',
  '05': 'already paid',
  '06': 'busy',
  '08': 'bad amount',
  '09': 'merchant note exists',
  '10': 'bad format',
  '11': 'signature rejected',
  '12': 'duplicate trade',
  '13': 'fields missing',
  '14': 'cancelled',
  '15': 'insufficient balance',
  '16': 'order number already used',
  '17': 'no such trade',
  '20': 'payment code expired',
  '21': 'too many payments',
  '23': 'no such payment code',
  '31': 'merchant state',
  '32': 'no permission',
  '33': 'amount over limit',
  '35': 'original trade missing or in the wrong state',
  '36': 'does not match the original trade',
  '37': 'too many queries / too frequent',
  '38': 'risk control',
  '39': 'outside accepted hours',
  '43': 'card state',
  '99': 'other',
  '001100WN': 'payment code already used (each code can be used once)',
};

describe('umpay outcome: the words of each verdict', () => {
  it('the documented meaning of every respCode, as the technician reads it', () => {
    assert.deepEqual({ ...RESP_CODE_MEANING }, MEANINGS);
    assert.ok(Object.isFrozen(RESP_CODE_MEANING));
  });

  it('micropay: every refusal names the code and its meaning, with the platform\'s message when it sent one', () => {
    for (const code of ['08', '10', '11', '13', '15', '20', '21', '23', '31', '32', '33', '38', '39', '43', '001100WN']) {
      assert.deepEqual(outcome('micropay', { respCode: code, respMsg: 'said' }), { kind: 'NOT_PAID', code, reason: `${MEANINGS[code]}: said` });
      assert.deepEqual(outcome('micropay', { respCode: code }), { kind: 'NOT_PAID', code, reason: MEANINGS[code] });
    }
  });

  it('micropay: not final says why, and carries the signed code (02: the customer is confirming)', () => {
    assert.deepEqual(outcome('micropay', { respCode: '02', respMsg: '用户支付中' }), { kind: 'UNKNOWN', cause: 'respCode 02 (customer is paying: 用户支付中) is not final', code: '02' });
    // An undocumented code: its message alone, or the bare code when there is none.
    assert.deepEqual(outcome('micropay', { respCode: '77', respMsg: 'odd' }), { kind: 'UNKNOWN', cause: 'respCode 77 (odd) is not final', code: '77' });
    assert.deepEqual(outcome('micropay', { respCode: '77' }), { kind: 'UNKNOWN', cause: 'respCode 77 (code 77) is not final', code: '77' });
    // A respMsg that is not text, or empty, is no message.
    assert.deepEqual(outcome('micropay', { respCode: '77', respMsg: 5 }), { kind: 'UNKNOWN', cause: 'respCode 77 (code 77) is not final', code: '77' });
    assert.deepEqual(outcome('micropay', { respCode: '15', respMsg: '' }), { kind: 'NOT_PAID', code: '15', reason: 'insufficient balance' });
  });

  it('micropay paid: the platform\'s order id and a settlement day of 8 digits ride along, nothing else', () => {
    assert.deepEqual(outcome('micropay', { respCode: '00', orderNo: 'K1', txnAmt: '100', transactionId: 'P77', stlDate: '20261204' }), { kind: 'PAID', transactionId: 'P77', stlDate: '20261204' });
    assert.deepEqual(outcome('micropay', { respCode: '00', transactionId: 4200001, stlDate: '2026120' }), { kind: 'PAID', transactionId: '4200001' });
    assert.deepEqual(outcome('micropay', { respCode: '00', stlDate: '202612041' }), { kind: 'PAID' });
    assert.deepEqual(outcome('micropay', { respCode: '00', stlDate: 'x20261204' }), { kind: 'PAID' });
    assert.deepEqual(outcome('micropay', { respCode: '00', stlDate: 20261204 }), { kind: 'PAID', stlDate: '20261204' });
    assert.deepEqual(outcome('micropay', { respCode: '00', transactionId: '' }), { kind: 'PAID' });
    assert.deepEqual(outcome('micropay', { respCode: '00', transactionId: true }), { kind: 'PAID' });
  });

  it('micropay: a signed 00 about another order or amount says which', () => {
    assert.deepEqual(outcome('micropay', { respCode: '00', orderNo: 'K2', txnAmt: '100' }), { kind: 'UNKNOWN', cause: 'answer is about order K2, not K1' });
    assert.deepEqual(outcome('micropay', { respCode: '00', orderNo: 'K1', txnAmt: '1' }), { kind: 'UNKNOWN', cause: 'answer says txnAmt 1, the request said 100' });
    // Without an expectation nothing is compared; with one that names no amount, the amount is not compared.
    assert.deepEqual(classify('micropay', signed({ respCode: '00', orderNo: 'K2' }), verify).outcome, { kind: 'PAID' });
    assert.deepEqual(classify('micropay', signed({ respCode: '00', orderNo: 'K1', txnAmt: '5' }), verify, { orderNo: 'K1' }).outcome, { kind: 'PAID' });
    assert.deepEqual(classify('micropay', signed({ respCode: '00', orderNo: 'K9', txnAmt: '100' }), verify, { txnAmt: '100' }).outcome, { kind: 'PAID' });
    assert.deepEqual(classify('micropay', signed({ respCode: '00', orderNo: '', txnAmt: '' }), verify, { orderNo: 'K1', txnAmt: '100' }).outcome, { kind: 'PAID' });
  });

  it('queryOrder: each state with its meaning and the platform\'s detail (origRespDescMsg first, else respMsg)', () => {
    const q = (a: Record<string, WireValue>) => outcome('queryOrder', { respCode: '00', ...a });
    assert.deepEqual(q({ origRespCode: '02', origRespDescMsg: 'paying', respMsg: 'ok' }), { kind: 'PENDING', code: '02', reason: 'unknown or in progress: paying' });
    assert.deepEqual(q({ origRespCode: '02', respMsg: 'ok' }), { kind: 'PENDING', code: '02', reason: 'unknown or in progress: ok' });
    assert.deepEqual(q({ origRespCode: '02' }), { kind: 'PENDING', code: '02', reason: 'unknown or in progress' });
    assert.deepEqual(q({ origRespCode: '01' }), { kind: 'NOT_PAID', state: 'refunded', code: '01', reason: 'moved to refund' });
    assert.deepEqual(q({ origRespCode: '03', origRespDescMsg: 'closed by you' }), { kind: 'NOT_PAID', state: 'closed', code: '03', reason: 'closed: closed by you' });
    assert.deepEqual(q({ origRespCode: '04' }), { kind: 'NOT_PAID', state: 'cancelled', code: '04', reason: 'cancelled' });
    assert.deepEqual(q({ origRespCode: '06', respMsg: 'failed' }), { kind: 'NOT_PAID', state: 'failed', code: '06', reason: 'failed: failed' });
    assert.deepEqual(q({ origRespCode: '05' }), { kind: 'UNKNOWN', cause: 'query origRespCode 05 is not a known state' });
    // A code that is the name of an object property is no state (it used to be read from Object.prototype: NOT_PAID
    // with a function for its state and its source text for the reason).
    for (const orig of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      assert.deepEqual(q({ origRespCode: orig }), { kind: 'UNKNOWN', cause: `query origRespCode ${orig} is not a known state` });
    }
    assert.deepEqual(outcome('micropay', { respCode: 'constructor' }), { kind: 'UNKNOWN', cause: 'respCode constructor (code constructor) is not final', code: 'constructor' });
    assert.deepEqual(q({}), { kind: 'UNKNOWN', cause: 'query answered 00 without origRespCode' });
    assert.deepEqual(q({ origRespCode: '' }), { kind: 'UNKNOWN', cause: 'query answered 00 without origRespCode' });
    assert.deepEqual(q({ origRespCode: '00', orderNo: 'K1', txnAmt: '100', transactionId: 'P1' }), { kind: 'PAID', transactionId: 'P1' });
    assert.deepEqual(q({ origRespCode: '00', orderNo: 'K3' }), { kind: 'UNKNOWN', cause: 'answer is about order K3, not K1' });
    assert.deepEqual(outcome('queryOrder', { respCode: '17' }), { kind: 'NOT_PAID', state: 'no-such-order', code: '17', reason: 'no such trade' });
    assert.deepEqual(outcome('queryOrder', { respCode: '06', respMsg: 'later' }), { kind: 'UNKNOWN', cause: 'query respCode 06 (busy: later): the query itself did not work' });
  });

  it('cancelOrder/closeOrder and refund: refusals and not-final answers in words', () => {
    for (const call of ['cancelOrder', 'closeOrder'] as const) {
      assert.deepEqual(outcome(call, { respCode: '00' }), { kind: 'DONE' });
      assert.deepEqual(outcome(call, { respCode: '05', respMsg: 'paid' }), { kind: 'REFUSED', code: '05', reason: 'already paid: paid' });
      assert.deepEqual(outcome(call, { respCode: '35' }), { kind: 'REFUSED', code: '35', reason: 'original trade missing or in the wrong state' });
      assert.deepEqual(outcome(call, { respCode: '06' }), { kind: 'UNKNOWN', cause: 'respCode 06 (busy) is not final' });
    }
    assert.deepEqual(outcome('refund', { respCode: '00' }), { kind: 'ACCEPTED' });
    assert.deepEqual(outcome('refund', { respCode: '36', respMsg: 'amount' }), { kind: 'REFUSED', code: '36', reason: 'does not match the original trade: amount' });
    assert.deepEqual(outcome('refund', { respCode: '05' }), { kind: 'UNKNOWN', cause: 'respCode 05 (already paid) is not final' });
    assert.deepEqual(outcome('refund', { respCode: '16' }), { kind: 'REFUSED', code: '16', reason: 'order number already used', notOurs: true });
  });

  it('refundQuery: refunded, failed and in progress with the platform\'s detail; anything else is not final', () => {
    const rq = (a: Record<string, WireValue>) => outcome('refundQuery', a);
    assert.deepEqual(rq({ respCode: '00', origRespCode: '00' }), { kind: 'REFUNDED' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '01', origRespDescMsg: 'card closed', respMsg: 'ok' }), { kind: 'FAILED', code: '01', reason: 'refund failed: card closed' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '01', respMsg: 'ok' }), { kind: 'FAILED', code: '01', reason: 'refund failed: ok' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '01' }), { kind: 'FAILED', code: '01', reason: 'refund failed' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '02', origRespDescMsg: 'bank' }), { kind: 'PENDING', code: '02', reason: 'refund in progress: bank' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '02' }), { kind: 'PENDING', code: '02', reason: 'refund in progress' });
    assert.deepEqual(rq({ respCode: '00', origRespCode: '03' }), { kind: 'UNKNOWN', cause: 'refund query origRespCode 03 is not a known state' });
    assert.deepEqual(rq({ respCode: '00' }), { kind: 'UNKNOWN', cause: 'refund query origRespCode (none) is not a known state' });
    assert.deepEqual(rq({ respCode: '17', respMsg: 'none' }), { kind: 'UNKNOWN', cause: 'refund query respCode 17 (no such trade: none): the query itself did not work' });
  });
});

describe('umpay outcome: what is no answer, and why (classify, parseAnswer)', () => {
  const classified = (ex: Exchange, v = verify) => classify('micropay', ex, v);

  it('a transport error: the cause as the transport gave it', () => {
    assert.deepEqual(classified({ transportError: 'ECONNRESET: socket hang up' }), { outcome: { kind: 'UNKNOWN', cause: 'no answer: ECONNRESET: socket hang up' }, cause: 'ECONNRESET: socket hang up' });
  });

  it('HTTP status: 200 to 299 is an answer to read; 199 and 300 are not, the cause names the status and the start of the body', () => {
    const body = JSON.stringify(signResponse({ respCode: '00' }, privateKey));
    assert.equal(classified({ httpStatus: 200, body }).outcome.kind, 'PAID');
    assert.equal(classified({ httpStatus: 299, body }).outcome.kind, 'PAID');
    assert.deepEqual(parseAnswer(300, 'moved'), { ok: false, cause: 'HTTP 300: moved' });
    assert.deepEqual(parseAnswer(199, ''), { ok: false, cause: 'HTTP 199' });
    assert.deepEqual(parseAnswer(502, '<html>\n\t <b>Bad</b>   Gateway\n</html>'), { ok: false, cause: 'HTTP 502: <html> <b>Bad</b> Gateway </html>' });
    assert.deepEqual(parseAnswer(500, 'x'.repeat(100)), { ok: false, cause: `HTTP 500: ${'x'.repeat(60)}` });
    assert.deepEqual(classified({ httpStatus: 503, body: 'down' }), { outcome: { kind: 'UNKNOWN', cause: 'HTTP 503: down' }, cause: 'HTTP 503: down' });
  });

  it('a body that is not JSON, or not an object: said so, with its length', () => {
    assert.deepEqual(parseAnswer(200, 'respCode=00'), { ok: false, cause: 'answer is not JSON (11 chars: respCode=00)' });
    assert.deepEqual(parseAnswer(200, ''), { ok: false, cause: 'answer is not JSON (0 chars)' });
    assert.deepEqual(parseAnswer(200, '{"respCode":"00","respCode":"01"}'), { ok: false, cause: 'answer is not JSON (33 chars: {"respCode":"00","respCode":"01"})' });
    for (const b of ['[]', 'null', '"00"', '0']) assert.deepEqual(parseAnswer(200, b), { ok: false, cause: 'answer is JSON but not an object' }, b);
    assert.deepEqual(parseAnswer(200, '{"a":1.50}'), { ok: true, answer: { a: '1.50' } });
  });

  it('unsigned, badly signed, or a verifier that throws: never an answer, the cause says which', () => {
    const plain = { respCode: '00' };
    const c = classified({ httpStatus: 200, body: JSON.stringify(plain) });
    assert.deepEqual(c, { answer: plain, signatureValid: false, answerPlaintext: '00', outcome: { kind: 'UNKNOWN', cause: 'answer is not signed' }, cause: 'answer is not signed' });
    const empty = classified({ httpStatus: 200, body: JSON.stringify({ ...plain, signature: '' }) });
    assert.equal(empty.cause, 'answer is not signed');
    const numeric = classified({ httpStatus: 200, body: JSON.stringify({ ...plain, signature: 12 }) });
    assert.equal(numeric.cause, 'answer is not signed');
    const other = signResponse(plain, generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey);
    const bad = classified({ httpStatus: 200, body: JSON.stringify(other) });
    assert.deepEqual(bad.outcome, { kind: 'UNKNOWN', cause: 'answer signature does not verify with the platform key' });
    assert.equal(bad.signatureValid, false);
    assert.equal(bad.answerPlaintext, '00');
    // A signature check that throws (a broken key) is a signature that does not verify, not a crash.
    const throws = classified({ httpStatus: 200, body: JSON.stringify(signResponse(plain, privateKey)) }, () => {
      throw new Error('bad key');
    });
    assert.deepEqual([throws.outcome, throws.signatureValid, throws.answerPlaintext], [{ kind: 'UNKNOWN', cause: 'answer signature does not verify with the platform key' }, false, '']);
  });

  it('a signed answer without a respCode string says what it had', () => {
    assert.equal(classified(signed({ respMsg: 'x' })).cause, 'answer has no respCode string (null)');
    assert.equal(classified(signed({ respCode: 0 })).cause, 'answer has no respCode string (0)');
    assert.equal(classified(signed({ respCode: '' })).cause, 'answer has no respCode string ("")');
  });

  it('37 on any call: back off, rate-limited, the meaning and the platform\'s message', () => {
    const c = classified(signed({ respCode: '37', respMsg: 'slow down' }));
    assert.deepEqual(c.outcome, { kind: 'UNKNOWN', cause: 'respCode 37: too many queries / too frequent: slow down; back off', rateLimited: true });
    assert.equal(c.cause, 'respCode 37: too many queries / too frequent: slow down; back off');
    assert.equal(c.signatureValid, true);
    // Other not-final answers are not rate limits.
    assert.equal('rateLimited' in classified(signed({ respCode: '06' })).outcome, false);
  });

  it('a final verdict carries no cause; a not-final one carries its cause beside the outcome', () => {
    const paid = classified(signed({ respCode: '00' }));
    assert.equal('cause' in paid, false);
    assert.equal(paid.signatureValid, true);
    assert.deepEqual(paid.answer?.respCode, '00');
    const refused = classified(signed({ respCode: '15' }));
    assert.equal('cause' in refused, false);
    assert.equal(classified(signed({ respCode: '06' })).cause, 'respCode 06 (busy) is not final');
  });
});

describe('umpay outcome: an answer about another order (notAboutOrder) and a paid time before the order (payTimeDoubt)', () => {
  const ours = { orderNo: 'K1', txnAmt: '150', orderType: 'wechat', transactionId: 'T1', orderTime: '20261201103000' };

  it('says exactly which field differs, and compares numbers by their text', () => {
    assert.equal(notAboutOrder({ orderNo: 'K2' }, ours), 'answer is about order K2, not K1');
    assert.equal(notAboutOrder({ txnAmt: '15' }, ours), 'answer says txnAmt 15, the order is 150');
    assert.equal(notAboutOrder({ txnAmt: 150 }, ours), undefined);
    assert.equal(notAboutOrder({ orderType: 'alipay' }, ours), 'answer says orderType alipay, the order is wechat');
    assert.equal(notAboutOrder({ orderType: 'alipay' }, { ...ours, orderType: undefined }), undefined);
    assert.equal(notAboutOrder({ orderNo: 'K1', txnAmt: '150', orderType: 'wechat', transactionId: 'T1' }, ours), undefined);
    assert.equal(notAboutOrder({ transactionId: 'T2' }, ours), 'answer is about transactionId T2, the order is T1');
    assert.equal(notAboutOrder({ orderNo: '', txnAmt: '', orderType: '', transactionId: '' }, ours), undefined);
    // A value that is no number or text (an object, Infinity handed in by a caller) names nothing.
    assert.equal(notAboutOrder({ orderNo: { a: 1 }, txnAmt: Infinity, transactionId: true }, ours), undefined);
  });

  it('payTime: exactly the allowed skew before the order is trusted, one second more is not; nothing to compare, no doubt', () => {
    assert.equal(PAY_TIME_SKEW_MS, 600_000);
    assert.equal(payTimeDoubt({ payTime: '1201102000' }, ours), undefined, 'exactly 10 min before');
    assert.equal(payTimeDoubt({ payTime: '1201101959' }, ours), 'answer says paid at 1201101959, before the order was made (20261201103000)');
    assert.equal(payTimeDoubt({ payTime: '1201103000' }, ours), undefined);
    assert.equal(payTimeDoubt({ payTime: '120110195' }, ours), undefined, 'not MMddHHmmss');
    assert.equal(payTimeDoubt({ payTime: 'x1201101959' }, ours), undefined);
    assert.equal(payTimeDoubt({ payTime: '12011019590' }, ours), undefined);
    assert.equal(payTimeDoubt({ payTime: '1201091500' }, { ...ours, orderTime: undefined }), undefined);
    assert.equal(payTimeDoubt({ payTime: '1201091500' }, { ...ours, orderTime: '2026120110300' }), undefined);
    assert.equal(payTimeDoubt({ payTime: '1201091500' }, { ...ours, orderTime: 'x20261201103000' }), undefined);
    assert.equal(payTimeDoubt({ payTime: '1201091500' }, { ...ours, orderTime: '202612011030001' }), undefined);
    assert.equal(payTimeDoubt(undefined, ours), undefined);
    assert.equal(payTimeDoubt({}, ours), undefined);
  });

  it('payTime has no year: the year nearest the order decides (New Year both ways)', () => {
    // Ordered 31 Dec 23:59:00; paid "0101 00:01" is the next year (after the order), not this year's 1 January.
    assert.equal(payTimeDoubt({ payTime: '0101000100' }, { ...ours, orderTime: '20261231235900' }), undefined);
    // Ordered 1 Jan 00:30; paid "1231 23:00" is the year before, 90 minutes earlier: doubted.
    assert.match(payTimeDoubt({ payTime: '1231230000' }, { ...ours, orderTime: '20270101003000' })!, /before the order was made/);
    // Ordered 1 Jan 00:05; paid "1231 23:58" of the year before, 7 minutes earlier: skew.
    assert.equal(payTimeDoubt({ payTime: '1231235800' }, { ...ours, orderTime: '20270101000500' }), undefined);
    // Mid-year, a month earlier: doubted (not read as eleven months later).
    assert.match(payTimeDoubt({ payTime: '0501120000' }, { ...ours, orderTime: '20260601120000' })!, /paid at 0501120000/);
  });
});
