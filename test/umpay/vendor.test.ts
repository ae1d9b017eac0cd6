// The platform vendor's own demo code against ours (fixtures recorded by tools/vendor-fixtures/record.mjs with the
// vendor's classes): its requests are served as written, its verdict on our answers and its way of signing answers
// agree with our verification, numbers included.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { javaRequestPlaintext, requestPlaintext, responsePlaintext, signingHazard, wireText, type WireValue } from '../../src/umpay/canonical.js';
import { parseWireJson } from '../../src/umpay/json.js';
import { loadPrivateKey, loadPublicKey } from '../../src/umpay/keys.js';
import { classify } from '../../src/umpay/outcome.js';
import { answerRule, signRequest, verifyRequest, verifyResponse } from '../../src/umpay/signature.js';
import { startSandbox, testCode, type Sandbox } from '../../src/sandbox/index.js';
import { CERT_FILE, KEY_FILE, SHARED, vectors } from './helpers.js';

interface Recorded {
  requests: { call: string; method: string; plaintext: string; body: string }[];
  served: { call: string; httpStatus: number; answer: string; vendorVerifies?: boolean; vendorPlaintext?: string }[];
  vendorSigned: { answer: string; vendorVerifies: boolean; vendorPlaintext: string }[];
}
const rec = JSON.parse(readFileSync(path.join(SHARED, 'vendor-java.json'), 'utf8')) as Recorded;
const testKeyPublic = createPublicKey(loadPrivateKey(KEY_FILE));
const obj = (text: string) => parseWireJson(text) as Record<string, WireValue>;

async function send(sb: Sandbox, r: Recorded['requests'][number]): Promise<{ status: number; text: string }> {
  let res: Response;
  if (r.method === 'GET') {
    const q = Object.entries(JSON.parse(r.body) as Record<string, string>).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
    res = await fetch(`${sb.baseUrl}/pay/${r.call}?${q}`);
  } else {
    res = await fetch(`${sb.baseUrl}/pay/${r.call}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: r.body });
  }
  return { status: res.status, text: await res.text() };
}

describe('umpay: the vendor demo kit (recorded with its own classes)', () => {
  it('covers every call the kit has for a payment-code kiosk', () => {
    assert.deepEqual(rec.requests.map((r) => r.call), ['micropay', 'queryOrder', 'refund', 'refundQuery', 'cancelOrder', 'closeOrder', 'downloadSettleFile']);
  });

  it('our Java-rule plaintext is the kit\'s for each of its requests; the documented rule differs only on the empty transactionId', () => {
    for (const r of rec.requests) {
      const fields = JSON.parse(r.body) as Record<string, string>;
      assert.equal(javaRequestPlaintext(fields), r.plaintext, r.call);
      assert.equal(verifyRequest(fields, testKeyPublic, ['java']).valid, true, r.call);
      const doc = verifyRequest(fields, testKeyPublic, ['doc']).valid;
      assert.equal(doc, r.call !== 'queryOrder', `${r.call} under the documented rule`);
    }
    assert.match(rec.requests[1]!.plaintext, /&transactionId=$/);
  });

  it('the sandbox serves the kit\'s requests as written (micropay without goods fields, queryOrder with transactionId "")', async () => {
    const sb = await startSandbox({ merchantPublicKey: KEY_FILE, platformPrivateKey: KEY_FILE, now: () => new Date('2026-12-01T01:30:20Z') });
    try {
      for (const [i, r] of rec.requests.entries()) {
        const got = await send(sb, r);
        const want = rec.served[i]!;
        assert.equal(got.status, want.httpStatus, r.call);
        if (r.method === 'GET') {
          assert.equal(got.text, want.answer, 'the settlement file');
          continue;
        }
        const answer = obj(got.text);
        assert.equal(answer.respCode, obj(want.answer).respCode, `${r.call}: ${wireText(answer.respMsg)}`);
        assert.notEqual(answer.respCode, '11');
        assert.notEqual(answer.respCode, '13');
        assert.equal(verifyResponse(answer, testKeyPublic).valid, true, r.call);
      }
    } finally {
      await sb.close();
    }
  });

  it('a sandbox verifying only the documented rule answers the kit\'s queryOrder 11; only the Java rule, ours still pass', async () => {
    const sb = await startSandbox({ merchantPublicKey: KEY_FILE, signingRules: ['doc'] });
    try {
      const q = await send(sb, rec.requests[1]!);
      assert.equal(obj(q.text).respCode, '11');
    } finally {
      await sb.close();
    }
  });

  it('the kit\'s verify accepted every sandbox answer, over the same plaintext we verify', () => {
    const answers = rec.served.filter((s) => s.vendorPlaintext !== undefined);
    assert.equal(answers.length, 6);
    for (const s of answers) {
      assert.equal(s.vendorVerifies, true, s.call);
      const a = obj(s.answer);
      assert.equal(responsePlaintext(a), s.vendorPlaintext, s.call);
      assert.equal(verifyResponse(a, testKeyPublic).valid, true, s.call);
    }
  });

  it('answers signed the kit\'s way verify, 1.50 and integers above 2^53 included; JSON.parse would break them', () => {
    for (const v of rec.vendorSigned) {
      assert.equal(v.vendorVerifies, true);
      const a = obj(v.answer);
      assert.equal(responsePlaintext(a), v.vendorPlaintext);
      assert.equal(verifyResponse(a, testKeyPublic).valid, true, v.answer);
      assert.equal(verifyResponse(JSON.parse(v.answer) as Record<string, WireValue>, testKeyPublic).valid, false, 'JSON.parse changes the numbers');
      assert.equal(answerRule(a, testKeyPublic).rule, 'exact');
    }
    assert.match(rec.vendorSigned[0]!.vendorPlaintext, /\|1\.50$/);
    assert.match(rec.vendorSigned[2]!.vendorPlaintext, /9007199254740993/);
  });

  it('the client takes a paid query answer with an unquoted 23-digit transactionId as PAID, id exact', () => {
    const body = rec.vendorSigned[1]!.answer;
    const c = classify('queryOrder', { httpStatus: 200, body }, (a) => verifyResponse(a, testKeyPublic), { orderNo: 'JD202612010930150001' });
    assert.deepEqual(c.outcome, { kind: 'PAID', transactionId: '20261201093000000727031' });
  });

  it('the docs\' printed answer, parsed from its text as printed (txnAmt 1 unquoted, a null), verifies with the platform certificate', () => {
    const printed = `{
    "respCode": "00",
    "respMsg": "处理成功",
    "signature": "${wireText(vectors.responseSignatures[0]!.response.signature)}",
    "platDate": "",
    "txnAmt": 1,
    "paySeq": "",
    "transactionId": "2019072518100000000001",
    "origRespCode": null,
    "origRespDescCode": "99"
}`;
    const r = verifyResponse(obj(printed), loadPublicKey(CERT_FILE));
    assert.equal(r.plaintext, '99|00|处理成功|2019072518100000000001|1');
    assert.equal(r.valid, true);
  });
});

describe('sandbox: refund orderType (the docs\' example has it, their table and the Java demo do not)', () => {
  it('is an unknown field (11) by default, accepted with refundOrderType', async () => {
    for (const refundOrderType of [false, true]) {
      const sb = await startSandbox({ merchantPublicKey: KEY_FILE, refundOrderType });
      try {
        const key = loadPrivateKey(KEY_FILE);
        const post = async (path: string, fields: Record<string, string>) => {
          const body = { acqSpId: 'Y471790403', acqMerId: '41509208', ...fields };
          const res = await fetch(`${sb.baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...body, signature: signRequest(body, key).signature }) });
          return obj(await res.text());
        };
        const paid = await post('/pay/micropay', { orderTime: '20261201093015', orderNo: 'R1', txnAmt: '5', orderType: 'wechat', authCode: testCode('paid', 'wechat') });
        assert.equal(paid.respCode, '00');
        const r = await post('/pay/refund', { orderTime: '20261201093016', origOrderNo: 'R1', origTxnAmt: '5', orderNo: 'R1R1', txnAmt: '5', orderType: 'wechat' });
        assert.equal(r.respCode, refundOrderType ? '00' : '11', wireText(r.respMsg));
      } finally {
        await sb.close();
      }
    }
  });
});

describe('umpay: the two request rules', () => {
  it('TreeMap.toString(): ", " becomes "&", braces vanish, empty is "k=", null "k=null"; the documented rule keeps text and skips both', () => {
    const fields = { b: 'x, y', a: '{1}', c: '', d: null, e: '口罩' };
    assert.equal(javaRequestPlaintext(fields), 'a=1&b=x&y&c=&d=null&e=口罩');
    assert.equal(requestPlaintext(fields), 'a={1}&b=x, y&e=口罩');
  });
  it('signingHazard names what differs, and passes text that signs alike', () => {
    assert.match(signingHazard('a, b')!, /", "/);
    assert.match(signingHazard('a}')!, /"}"/);
    for (const ok of ['a,b', '口罩 500ml', 'A=1&B=2', '100%', 'x ,y']) assert.equal(signingHazard(ok), undefined, ok);
  });
  it('a request the kiosk builds signs the same under both rules', () => {
    for (const v of vectors.requestSignatures) assert.equal(javaRequestPlaintext(v.fields), v.plaintext, v.name);
  });
});
