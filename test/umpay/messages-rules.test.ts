// Every field rule of the six calls at its edge (one byte, one digit, one character either side), and the words of
// each refusal as the technician reads them (`kiosk umpay`, the config check): issue 21. messages.test.ts has the
// vector and the common refusals.
import assert from 'node:assert/strict';
import {
  BACK_URL_TEXT,
  buildCancelOrder,
  buildCloseOrder,
  buildMicropay,
  buildQueryOrder,
  buildRefund,
  buildRefundQuery,
  buildRequest,
  CALL_FIELDS,
  FieldError,
  formatOrderTime,
  PATHS,
  REQUIRED_FIELDS,
  wireFieldProblem,
} from '../../src/umpay/messages.js';
import type { MicropayFields } from '../../src/umpay/types.js';

const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };
const WECHAT = '134579761426152164';
const pay: MicropayFields = { orderTime: '20200305105724', orderNo: 'JD1', txnAmt: '1', orderType: 'wechat', authCode: WECHAT };

function error(fn: () => unknown): FieldError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof FieldError, String(err));
    return err;
  }
  assert.fail('no FieldError');
}
const micropayError = (patch: Partial<Record<keyof MicropayFields, unknown>>): string => error(() => buildRequest('micropay', merchant, { ...pay, ...patch } as MicropayFields)).message;
const ok = (patch: Partial<Record<keyof MicropayFields, unknown>>): Record<string, string> => buildRequest('micropay', merchant, { ...pay, ...patch } as MicropayFields);

describe('umpay messages: each rule at its edge, and its words', () => {
  it('a FieldError names the call, the field, the value as given and the reason; its parts are kept apart', () => {
    const e = error(() => buildRequest('micropay', merchant, { ...pay, txnAmt: '0' }));
    assert.equal(e.message, 'micropay: field txnAmt ("0"): must be a whole number of fen > 0, digits only, no leading zero');
    assert.deepEqual([e.name, e.code, e.call, e.field, e.value, e.reason], ['FieldError', 'E_FIELD', 'micropay', 'txnAmt', '"0"', 'must be a whole number of fen > 0, digits only, no leading zero']);
    // A missing value shows no value at all.
    assert.equal(error(() => buildRequest('cancelOrder', merchant, {} as never)).message, 'cancelOrder: field orderNo: is missing');
  });

  it('missing means undefined, null or empty; optional fields that are empty are neither signed nor sent', () => {
    for (const v of [undefined, null, '']) {
      assert.equal(micropayError({ orderNo: v }), `micropay: field orderNo${v === '' ? ' ("")' : ''}: is missing`);
      assert.equal('goodsInfo' in ok({ goodsInfo: v }), false);
    }
    assert.equal(micropayError({ txnAmt: 1 }), 'micropay: field txnAmt ("1"): must be a string, got number');
    assert.equal(micropayError({ goodsInfo: true }), 'micropay: field goodsInfo ("true"): must be a string, got boolean');
    assert.equal(micropayError({ goodsInfo: { a: 1 } }), 'micropay: field goodsInfo ("{\\"a\\":1}"): must be a string, got object');
  });

  it('control characters (C0 and DEL) and surrounding blanks are refused; inner blanks and other text are not', () => {
    for (const c of ['\u0000', '\u001f', '\u007f', '\t']) assert.match(micropayError({ goodsInfo: `a${c}b` }), /: contains a control character$/);
    assert.equal(ok({ goodsInfo: 'a b' }).goodsInfo, 'a b');
    assert.equal(ok({ goodsInfo: 'a\u0080b' }).goodsInfo, 'a\u0080b');
    assert.equal(micropayError({ goodsInfo: ' cola' }), 'micropay: field goodsInfo (" cola"): has leading or trailing spaces');
    assert.equal(micropayError({ goodsInfo: 'cola ' }), 'micropay: field goodsInfo ("cola "): has leading or trailing spaces');
  });

  it('lengths in UTF-8 bytes: the documented maximum is accepted, one byte more is refused with both numbers', () => {
    const limits: [keyof MicropayFields, number, string][] = [['orderNo', 64, 'A'], ['goodsId', 16, 'g'], ['goodsInfo', 128, 'i'], ['merPriv', 128, 'm'], ['goodsTag', 32, 't'], ['subAppId', 32, 's']];
    for (const [field, max, ch] of limits) {
      assert.equal(ok({ [field]: ch.repeat(max) })[field], ch.repeat(max));
      assert.match(micropayError({ [field]: ch.repeat(max + 1) }), new RegExp(`: too long: ${max + 1} bytes, at most ${max}$`));
    }
    assert.match(micropayError({ txnAmt: '1'.repeat(14) }), /too long: 14 bytes, at most 13$/);
    assert.equal(ok({ txnAmt: '1'.repeat(13) }).txnAmt, '1'.repeat(13));
    assert.equal(ok({ backUrl: `http://${'a'.repeat(249)}` }).backUrl!.length, 256);
    assert.match(micropayError({ backUrl: `http://${'a'.repeat(250)}` }), /too long: 257 bytes, at most 256$/);
    // 42 three-byte characters are 126 bytes: fine; 43 are 129.
    assert.equal(ok({ goodsInfo: '口'.repeat(42) }).goodsInfo, '口'.repeat(42));
  });

  it('a value longer than 80 characters is shown cut, JSON-quoted; a payment code only masked', () => {
    const long = 'é'.repeat(81);
    const e = error(() => buildRequest('micropay', merchant, { ...pay, goodsInfo: long }));
    assert.equal(e.value, `${JSON.stringify('é'.repeat(80))}…`);
    const e80 = error(() => buildRequest('micropay', merchant, { ...pay, goodsId: 'é'.repeat(80) }));
    assert.equal(e80.value, JSON.stringify('é'.repeat(80)));
    assert.equal(error(() => buildRequest('micropay', merchant, { ...pay, authCode: '1345797614261521' })).value, 'code…1521');
  });

  it('orderTime: a real date and time from 2000 on, as yyyyMMddHHmmss', () => {
    for (const t of ['20000101000000', '20241231235959', '20240229120000']) assert.equal(ok({ orderTime: t }).orderTime, t);
    const real = 'must be yyyyMMddHHmmss (14 digits)';
    for (const t of ['2024010112000', '202401011200000', 'x20240101120000', '2024-01-01T120']) assert.match(micropayError({ orderTime: t }), new RegExp(`${real.replace(/[()]/g, '\\$&')}$`), t);
    for (const t of ['19991231235959', '20241301120000', '20240001120000', '20240132120000', '20240100120000', '20230229120000', '20240101240000', '20240101126000', '20240101120060']) {
      assert.match(micropayError({ orderTime: t }), /: is not a real date and time \(yyyyMMddHHmmss\)$/, t);
    }
  });

  it('amounts: digits only, no leading zero, above zero', () => {
    for (const a of ['1', '10', '9999999999999']) assert.equal(ok({ txnAmt: a }).txnAmt, a);
    for (const a of ['0', '01', '1.0', '-1', '+1', '1e3', ' 1'.trim() + 'x']) assert.match(micropayError({ txnAmt: a }), /must be a whole number of fen > 0, digits only, no leading zero$/, a);
  });

  it('order numbers: letters, digits, _ and - only', () => {
    assert.equal(ok({ orderNo: 'aZ0_-9' }).orderNo, 'aZ0_-9');
    for (const n of ['A B'.replace(' ', '.'), 'A=B', 'A/B', 'Ä']) assert.match(micropayError({ orderNo: n }), /: only letters, digits, "_" and "-" are allowed$/, n);
    assert.equal(buildQueryOrder(merchant, { orderNo: 'Q1', transactionId: 'T-1_a' }).transactionId, 'T-1_a');
    assert.match(error(() => buildQueryOrder(merchant, { orderNo: 'Q1', transactionId: 'T 1' })).message, /transactionId .*only letters/);
  });

  it('faceFlag and ledgerAccountFlag: "1" or nothing', () => {
    assert.equal(ok({ faceFlag: '1', ledgerAccountFlag: '1' }).ledgerAccountFlag, '1');
    assert.match(micropayError({ ledgerAccountFlag: '11' }), /: must be "1" \(the only value the platform defines; leave the field out otherwise\)$/);
  });

  it('backUrl: http:// and the documented characters (and . - : for the host); the words say which', () => {
    assert.equal(BACK_URL_TEXT, 'http:// then letters, digits, / & % ? = (and . - : for the host and port)');
    assert.equal(ok({ backUrl: 'http://a-b.c:80/x?y=1&z=%20' }).backUrl, 'http://a-b.c:80/x?y=1&z=%20');
    for (const u of ['http://', 'HTTP://a', 'xhttp://a', 'http://a b', 'http://a/é', 'http://a_b', 'http://a\\b']) {
      assert.equal(micropayError({ backUrl: u }).endsWith(`: must be ${BACK_URL_TEXT}`), true, u);
    }
  });

  it('longitude and latitude: up to three integer digits and twelve decimals, optional minus', () => {
    for (const c of ['0', '-83.2345', '180.123456789012', '-1', '12.5']) assert.equal(ok({ latitude: c }).latitude, c);
    for (const field of ['longitude', 'latitude']) {
      for (const c of ['1234', '1.1234567890123', '1.', '.5', '+1', '1,5', 'x1', '1x']) assert.match(micropayError({ [field]: c }), /: must be a decimal number of degrees, e\.g\. -83\.2345$/, `${field} ${c}`);
    }
  });

  it('orderType and authCode: the three wallets, the code classified, and the two agreeing', () => {
    assert.match(micropayError({ orderType: 'WeChat' }), /: must be wechat, alipay or unionpay$/);
    assert.equal(micropayError({ authCode: '9912345678' }), 'micropay: field authCode (code…(10 chars)): not a payment code: unknown prefix 99 (WeChat 10-15, Alipay 25-30, UnionPay 62)');
    assert.equal(micropayError({ orderType: 'unionpay' }), 'micropay: field orderType ("unionpay"): does not match the payment code, which is a wechat code (wechat…2164)');
  });

  it('free text that the Java rule would sign differently is refused with the reason', () => {
    assert.equal(
      micropayError({ goodsTag: 'a, b' }),
      'micropay: field goodsTag ("a, b"): contains ", ", which the platform\'s Java demo signs differently from its documented rule (TreeMap.toString(): ", " becomes "&", braces vanish); use other punctuation',
    );
    assert.match(micropayError({ subAppId: 'a{' }), /contains "\{"/);
    assert.equal(ok({ goodsInfo: 'a,b' }).goodsInfo, 'a,b');
  });

  it('merchant ids: their own rules and words; a missing merchant is every id missing', () => {
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqSpId: 'Y47179040!' }, { orderNo: 'A' })).message, 'cancelOrder: field acqSpId ("Y47179040!"): must be 10 letters/digits starting with Y');
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqSpId: 'Y4717904031' }, { orderNo: 'A' })).reason, 'too long: 11 bytes, at most 10');
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqSpId: 'xY47179040' }, { orderNo: 'A' })).reason, 'must be 10 letters/digits starting with Y');
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqMerId: '4150920!' }, { orderNo: 'A' })).reason, 'must be 8 letters/digits');
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqMerId: '41509-20' }, { orderNo: 'A' })).reason, 'must be 8 letters/digits');
    assert.equal(error(() => buildCancelOrder({ ...merchant, acqMerId: '4150920' }, { orderNo: 'A' })).reason, 'must be 8 letters/digits');
    assert.deepEqual(buildCancelOrder({ acqSpId: 'Yabcdefgh9', acqMerId: 'abcdEF12' }, { orderNo: 'A' }), { acqSpId: 'Yabcdefgh9', acqMerId: 'abcdEF12', orderNo: 'A' });
    assert.equal(error(() => buildRequest('cancelOrder', null as never, { orderNo: 'A' })).message, 'cancelOrder: field acqSpId: is missing');
    assert.equal(error(() => buildRequest('cancelOrder', merchant, null as never)).message, 'cancelOrder: field orderNo: is missing');
  });

  it('a field the call does not have is refused, with a hint for the merchant ids and the signature and the list allowed', () => {
    assert.equal(
      error(() => buildRequest('refundQuery', merchant, { orderNo: 'A', acqSpId: 'Y471790403' } as never)).message,
      'refundQuery: field acqSpId ("Y471790403"): is not a field of refundQuery (it comes from the merchant configuration); allowed: orderNo',
    );
    assert.equal(error(() => buildRequest('refundQuery', merchant, { orderNo: 'A', acqMerId: 'x' } as never)).reason, 'is not a field of refundQuery (it comes from the merchant configuration); allowed: orderNo');
    assert.equal(error(() => buildRequest('queryOrder', merchant, { orderNo: 'A', signature: 's' } as never)).reason, 'is not a field of queryOrder (added when signing); allowed: orderNo, transactionId');
    assert.equal(error(() => buildRequest('queryOrder', merchant, { orderNo: 'A', txnAmt: '1' } as never)).reason, 'is not a field of queryOrder; allowed: orderNo, transactionId');
    // Names of Object.prototype's members are no fields either.
    for (const key of ['toString', 'constructor', '__proto__']) {
      const fields = JSON.parse(`{"orderNo":"A",${JSON.stringify(key)}:"x"}`) as never;
      assert.equal(error(() => buildRequest('cancelOrder', merchant, fields)).reason, 'is not a field of cancelOrder; allowed: orderNo', key);
      assert.equal(wireFieldProblem('cancelOrder', key, 'x'), 'is not a field of cancelOrder', key);
    }
  });

  it('refund: the amount may equal the original, never exceed it (compared as whole numbers, not text)', () => {
    const r = { orderTime: '20200305105724', origOrderNo: 'A1', origTxnAmt: '100', orderNo: 'R1', txnAmt: '100' };
    assert.equal(buildRefund(merchant, r).txnAmt, '100');
    assert.equal(buildRefund(merchant, { ...r, txnAmt: '99' }).txnAmt, '99');
    assert.equal(buildRefund(merchant, { ...r, origTxnAmt: '1000', txnAmt: '999' }).txnAmt, '999');
    const e = error(() => buildRefund(merchant, { ...r, origTxnAmt: '99', txnAmt: '100' }));
    assert.equal(e.message, 'refund: field txnAmt ("100"): refund amount exceeds the original amount origTxnAmt=99');
  });

  it('wireFieldProblem: the same rules for one value, merchant ids included; undefined when fine', () => {
    assert.equal(wireFieldProblem('micropay', 'goodsInfo', 'cola'), undefined);
    assert.equal(wireFieldProblem('micropay', 'goodsInfo', 'a, b')?.startsWith('contains ", "'), true);
    assert.equal(wireFieldProblem('micropay', 'goodsId', ''), undefined);
    assert.equal(wireFieldProblem('micropay', 'orderNo', ''), 'is missing');
    assert.equal(wireFieldProblem('queryOrder', 'acqMerId', '4150920'), 'must be 8 letters/digits');
    assert.equal(wireFieldProblem('queryOrder', 'acqSpId', 'Y471790403'), undefined);
    assert.equal(wireFieldProblem('queryOrder', 'goodsInfo', 'x'), 'is not a field of queryOrder');
  });

  it('the six builders, paths and field lists', () => {
    // Each call is POSTed to /pay/<its name>.
    const calls = ['micropay', 'queryOrder', 'cancelOrder', 'closeOrder', 'refund', 'refundQuery'];
    assert.deepEqual({ ...PATHS }, Object.fromEntries(calls.map((c) => [c, `/pay/${c}`])));
    const head = ['acqSpId', 'acqMerId'];
    assert.deepEqual(CALL_FIELDS, {
      micropay: [...head, 'orderTime', 'orderNo', 'txnAmt', 'orderType', 'authCode', 'goodsId', 'goodsInfo', 'backUrl', 'merPriv', 'faceFlag', 'ledgerAccountFlag', 'goodsTag', 'subAppId', 'longitude', 'latitude'],
      queryOrder: [...head, 'orderNo', 'transactionId'],
      cancelOrder: [...head, 'orderNo'],
      closeOrder: [...head, 'orderNo'],
      refund: [...head, 'orderTime', 'origOrderNo', 'origTxnAmt', 'orderNo', 'txnAmt'],
      refundQuery: [...head, 'orderNo'],
    });
    assert.deepEqual(REQUIRED_FIELDS, {
      micropay: [...head, 'orderTime', 'orderNo', 'txnAmt', 'orderType', 'authCode'],
      queryOrder: [...head, 'orderNo'],
      cancelOrder: [...head, 'orderNo'],
      closeOrder: [...head, 'orderNo'],
      refund: [...head, 'orderTime', 'origOrderNo', 'origTxnAmt', 'orderNo', 'txnAmt'],
      refundQuery: [...head, 'orderNo'],
    });
    for (const t of [PATHS, CALL_FIELDS, REQUIRED_FIELDS]) assert.ok(Object.isFrozen(t));
    assert.deepEqual(buildMicropay(merchant, pay), { ...merchant, ...pay });
    for (const [build, call] of [[buildQueryOrder, 'queryOrder'], [buildCancelOrder, 'cancelOrder'], [buildCloseOrder, 'closeOrder'], [buildRefundQuery, 'refundQuery']] as const) {
      assert.deepEqual(build(merchant, { orderNo: 'Z9' }), { ...merchant, orderNo: 'Z9' });
      assert.equal(error(() => build(merchant, { orderNo: 'Z 9' })).call, call);
    }
  });

  it('formatOrderTime: local time, every part zero-padded, from a Date or a number', () => {
    assert.equal(formatOrderTime(new Date(2026, 0, 2, 3, 4, 5)), '20260102030405');
    assert.equal(formatOrderTime(new Date(2026, 11, 31, 23, 59, 59).getTime()), '20261231235959');
    assert.equal(formatOrderTime(new Date(999, 0, 1, 0, 0, 0)), '09990101000000');
  });
});
