// The exact strings that are signed and verified (PROTOCOL.md "Signing a request", "Verifying a response"), field
// kind by field kind, and what the signature checks accept and refuse (issue 21 mutation run). vectors.test.ts and
// vendor.test.ts check them against the platform's own vectors and demo kit.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { javaRequestPlaintext, phpResponsePlaintext, requestPlaintext, requestPlaintextBy, responsePlaintext, signingHazard, wireText } from '../../src/umpay/canonical.js';
import { answerRule, signRequest, signResponse, signText, verifyRequest, verifyResponse, verifyText } from '../../src/umpay/signature.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
const other = generateKeyPairSync('rsa', { modulusLength: 1024 });

describe('umpay canonical strings, field kind by field kind', () => {
  it('request (documented rule): keys in code-unit order, blanks and signature left out, values as text', () => {
    assert.equal(requestPlaintext({ b: '2', a: '1', signature: 'x', c: '', d: null, e: undefined }), 'a=1&b=2');
    assert.equal(requestPlaintext({ a: 'x', B: 'y', _: 'z' }), 'B=y&_=z&a=x');
    assert.equal(requestPlaintext({ n: 1.5, t: true, f: false, z: 0 }), 'f=false&n=1.5&t=true&z=0');
    assert.equal(requestPlaintext({ o: { x: 1 }, l: [1, 'a'] }), 'l=[1,"a"]&o={"x":1}');
    assert.equal(requestPlaintext({}), '');
    assert.equal(requestPlaintextBy('doc', { a: '', b: '1' }), 'b=1');
  });

  it('request (the Java demo\'s rule): TreeMap text, ", " → "&", braces gone, empty "k=", null "k=null", nested maps sorted', () => {
    assert.equal(javaRequestPlaintext({ b: 'x', a: '', c: null, signature: 's' }), 'a=&b=x&c=null');
    assert.equal(javaRequestPlaintext({ t: 'p, q', u: 'r{s}' }), 't=p&q&u=rs');
    assert.equal(javaRequestPlaintext({ o: { y: '1', x: [1, null, true] } }), 'o=x=[1&null&true]&y=1');
    assert.equal(javaRequestPlaintext({ n: 5, u: undefined }), 'n=5&u=null');
    assert.equal(requestPlaintextBy('java', { a: '', b: '1' }), 'a=&b=1');
  });

  it('answer: values only, keys sorted, blanks skipped, nested objects in place, numbers and booleans as text', () => {
    assert.equal(responsePlaintext({ b: '2', a: '1', signature: 's' }), '1|2');
    assert.equal(responsePlaintext({ b: '1', a: { z: '3', y: '4', signature: 'inner' } }), 'inner|4|3|1');
    assert.equal(responsePlaintext({ a: '', b: null, c: 'x', d: undefined }), 'x');
    assert.equal(responsePlaintext({ a: [1, 'x'], b: 1, c: true, d: false, e: 0 }), '[1,"x"]|1|true|false|0');
    assert.equal(responsePlaintext({ amt: '1.50' }), '1.50');
  });

  it('answer as the PHP demo builds it: numbers read as floats, 0/false/blank skipped, quotes removed', () => {
    assert.equal(phpResponsePlaintext({ a: '1.50', b: '1e2', c: '-2.50', d: '1E+2', e: '1E21', f: '2e-10' }), '1.5|100|-2.5|100|1e+21|2e-10');
    // An array is JSON text even when it holds one number (String(["1.5"]) would read as one).
    assert.equal(phpResponsePlaintext({ a: ['1.5'], b: [7] }), '[1.5]|[7]');
    assert.equal(phpResponsePlaintext({ a: '12345678901234567890', b: '123456789012345678', c: '-1234567890123456789' }), '12345678901234567000|123456789012345678|-1234567890123456800');
    assert.equal(phpResponsePlaintext({ a: 'x1.5', b: '1.5x', c: '1.', d: '007' }), 'x1.5|1.5x|1.|007');
    assert.equal(phpResponsePlaintext({ a: 0, b: false, c: '', d: null, e: undefined, f: 'x', g: 1, h: true }), 'x|1|true');
    assert.equal(phpResponsePlaintext({ a: 'say "hi"', b: ['q'] }), 'say hi|[q]');
    assert.equal(phpResponsePlaintext({ signature: 'top', o: { signature: 'inner', b: '1' } }), '1|inner');
  });

  it('wireText: scalars as String() has them, objects and arrays as JSON (never "[object Object]")', () => {
    assert.deepEqual([wireText({ a: 1 }), wireText([1]), wireText(null), wireText(undefined), wireText(5), wireText('x')], ['{"a":1}', '[1]', 'null', 'undefined', '5', 'x']);
  });

  it('signingHazard: the first text the two rules sign differently, in words; safe text passes', () => {
    assert.equal(
      signingHazard('a, b'),
      'contains ", ", which the platform\'s Java demo signs differently from its documented rule (TreeMap.toString(): ", " becomes "&", braces vanish); use other punctuation',
    );
    assert.match(signingHazard('x{')!, /^contains "\{", /);
    assert.match(signingHazard('x}')!, /^contains "\}", /);
    for (const safe of ['a,b', 'a ,b', 'a b', '(x)', '[x]', '']) assert.equal(signingHazard(safe), undefined, safe);
  });
});

describe('umpay signatures: what verifies and what does not', () => {
  const fields = { acqSpId: 'Y471790403', orderNo: 'A1', empty: '' };

  it('a request signed over its documented plaintext verifies under that rule, and names it', () => {
    const s = signRequest(fields, privateKey);
    assert.equal(s.plaintext, 'acqSpId=Y471790403&orderNo=A1');
    assert.equal(s.signature, signText(s.plaintext, privateKey));
    assert.deepEqual(verifyRequest({ ...fields, signature: s.signature }, publicKey), { plaintext: s.plaintext, valid: true, rule: 'doc' });
    // No rule given: both are tried, the documented one first.
    assert.deepEqual(verifyRequest({ ...fields, signature: s.signature }, publicKey, []), { plaintext: s.plaintext, valid: true, rule: 'doc' });
  });

  it('a request signed the Java way verifies only when that rule is allowed; unverified, the first rule\'s plaintext is reported', () => {
    const java = javaRequestPlaintext(fields);
    assert.equal(java, 'acqSpId=Y471790403&empty=&orderNo=A1');
    const signed = { ...fields, signature: signText(java, privateKey) };
    assert.deepEqual(verifyRequest(signed, publicKey), { plaintext: 'acqSpId=Y471790403&orderNo=A1', valid: false });
    assert.deepEqual(verifyRequest(signed, publicKey, ['doc', 'java']), { plaintext: java, valid: true, rule: 'java' });
    assert.deepEqual(verifyRequest(signed, publicKey, ['java']), { plaintext: java, valid: true, rule: 'java' });
    // No rule given: both are tried.
    assert.deepEqual(verifyRequest(signed, publicKey, []), { plaintext: java, valid: true, rule: 'java' });
    assert.deepEqual(verifyRequest({ ...fields, signature: 'AAAA' }, publicKey, ['java', 'doc']), { plaintext: java, valid: false });
    assert.deepEqual(verifyRequest({ ...fields, signature: 5 }, publicKey), { plaintext: 'acqSpId=Y471790403&orderNo=A1', valid: false });
    assert.deepEqual(verifyRequest(fields, publicKey), { plaintext: 'acqSpId=Y471790403&orderNo=A1', valid: false });
  });

  it('verifyText refuses an empty, non-text, empty-decoding, foreign or malformed signature, and a key it cannot use, without throwing', () => {
    const sig = signText('hello', privateKey);
    assert.equal(verifyText('hello', sig, publicKey), true);
    assert.equal(verifyText('hello!', sig, publicKey), false);
    assert.equal(verifyText('hello', signText('hello', other.privateKey), publicKey), false);
    assert.equal(verifyText('hello', '', publicKey), false);
    assert.equal(verifyText('hello', '====', publicKey), false);
    assert.equal(verifyText('hello', 5, publicKey), false);
    assert.equal(verifyText('hello', sig.slice(4), publicKey), false);
    const ed = generateKeyPairSync('ed25519').publicKey;
    assert.equal(verifyText('hello', sig, ed), false);
  });

  it('answers: signed as the platform does; verified over the exact text; the PHP rule only for diagnostics', () => {
    const answer = signResponse({ respCode: '00', amt: '1.50' }, privateKey);
    assert.equal(answer.signature, signText('1.50|00', privateKey));
    assert.deepEqual(verifyResponse(answer, publicKey), { plaintext: '1.50|00', valid: true });
    assert.deepEqual(verifyResponse({ ...answer, signature: 7 }, publicKey), { plaintext: '1.50|00', valid: false });
    assert.deepEqual(answerRule(answer, publicKey), { rule: 'exact', plaintext: '1.50|00' });
    const php = { respCode: '00', amt: '1.50', signature: signText('1.5|00', privateKey) };
    assert.deepEqual(verifyResponse(php, publicKey), { plaintext: '1.50|00', valid: false });
    assert.deepEqual(answerRule(php, publicKey), { rule: 'php', plaintext: '1.5|00' });
    assert.deepEqual(answerRule({ ...php, signature: 'AAAA' }, publicKey), { rule: null, plaintext: '1.50|00' });
    assert.deepEqual(answerRule({ respCode: '00', amt: '1.50', signature: 9 }, publicKey), { rule: null, plaintext: '1.50|00' });
  });
});
