import assert from 'node:assert/strict';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyAuthCode } from '../../src/umpay/authcode.js';
import { loadPublicKey } from '../../src/umpay/keys.js';
import { signRequest, verifyResponse } from '../../src/umpay/signature.js';
import type { OrderType } from '../../src/umpay/types.js';
import {
  behaviourOf,
  settlementCsv,
  SETTLEMENT_COLUMNS,
  startSandbox,
  TEST_CODES,
  testCode,
  type Sandbox,
  type SandboxEvent,
} from '../../src/sandbox/index.js';
import { ymd } from '../../src/sandbox/ledger.js';
import { call, merchantKey, micropayFields, orderNo, postRaw, SP } from './helpers.js';
import { wireText } from '../../src/umpay/canonical.js';

const WALLETS: OrderType[] = ['wechat', 'alipay', 'unionpay'];

describe('sandbox gateway', function () {
  let sb: Sandbox;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sbx-test-'));
    sb = await startSandbox({ stateDir: dir });
  });
  after(async () => {
    await sb.close();
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => sb.reset());

  const order = (no: string) => sb.ledger().orders.find((o) => o.orderNo === no)!;

  describe('keys and certificate', () => {
    it('writes a DER certificate that node and loadPublicKey read, for the key that signs answers', () => {
      const der = readFileSync(sb.platformCertPath);
      const cert = new X509Certificate(der);
      assert.ok(cert.publicKey.equals(sb.platformPublicKey));
      assert.ok(loadPublicKey(sb.platformCertPath).equals(sb.platformPublicKey));
      assert.ok(loadPublicKey(join(dir, 'platform.cert.pem')).equals(sb.platformPublicKey));
      assert.ok(cert.verify(sb.platformPublicKey), 'self-signature verifies');
    });
    it('writes the generated merchant key with mode 0600 and reuses keys on restart', async () => {
      assert.equal(statSync(sb.merchantKeyPath!).mode & 0o777, 0o600);
      const again = await startSandbox({ stateDir: dir });
      try {
        assert.ok(again.platformPublicKey.equals(sb.platformPublicKey));
        assert.deepEqual(readFileSync(again.platformCertPath), readFileSync(sb.platformCertPath));
      } finally {
        await again.close();
      }
    });
  });

  describe('test codes', () => {
    it('every behaviour and wallet gives a valid code of that wallet that maps back to the behaviour', () => {
      for (const t of TEST_CODES) {
        for (const w of WALLETS) {
          const code = testCode(t.behaviour, w, 12345, { queries: 3 });
          const c = classifyAuthCode(code);
          assert.deepEqual(c, { ok: true, orderType: w }, `${t.behaviour}/${w}: ${code}`);
          assert.equal(behaviourOf(code).behaviour, t.behaviour);
        }
      }
      assert.equal(behaviourOf(testCode('pending-then-paid', 'alipay', 1, { queries: 7 })).queries, 7);
      assert.equal(behaviourOf('134579761426152164').behaviour, 'paid');
      assert.notEqual(testCode('paid'), testCode('paid'));
    });
  });

  describe('micropay', () => {
    for (const w of WALLETS) {
      it(`pays a ${w} code at once, signed, charged once`, async () => {
        const f = micropayFields(testCode('paid', w), w);
        const r = await call(sb, 'micropay', f);
        assert.equal(r.status, 200);
        assert.equal(r.valid, true);
        assert.equal(r.json!.respCode, '00');
        assert.equal(r.json!.orderNo, f.orderNo);
        assert.equal(r.json!.txnAmt, '100');
        assert.ok(r.json!.transactionId && r.json!.paySeq && r.json!.platDate);
        const o = order(f.orderNo);
        assert.equal(o.state, 'paid');
        assert.equal(o.charged, 1);
        assert.equal(o.orderType, w);
        assert.ok(!String(o.authCode).includes(f.authCode), 'ledger masks the code');
      });
    }

    it('re-sent with the same fields answers the current state and never charges twice', async () => {
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      const a = await call(sb, 'micropay', f);
      const b = await call(sb, 'micropay', f);
      assert.equal(b.json!.respCode, '00');
      assert.equal(b.json!.transactionId, a.json!.transactionId);
      assert.equal(order(f.orderNo).charged, 1);
      assert.equal(order(f.orderNo).resends, 1);
    });

    it('the same orderNo with different fields is 16', async () => {
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      await call(sb, 'micropay', f);
      const r = await call(sb, 'micropay', { ...f, txnAmt: '200' });
      assert.equal(r.json!.respCode, '16');
      assert.equal(r.valid, true);
      assert.equal(order(f.orderNo).charged, 1);
      assert.equal(order(f.orderNo).txnAmt, 100);
    });

    it('pending-then-paid: 02, queries say paying, paid after K queries', async () => {
      const f = micropayFields(testCode('pending-then-paid', 'alipay', undefined, { queries: 2 }), 'alipay');
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '02');
      assert.equal(order(f.orderNo).charged, 0);
      const q1 = await call(sb, 'queryOrder', { orderNo: f.orderNo });
      assert.deepEqual([q1.json!.respCode, q1.json!.origRespCode, q1.json!.origRespDescMsg, q1.valid], ['00', '02', '6', true]);
      const q2 = await call(sb, 'queryOrder', { orderNo: f.orderNo });
      assert.deepEqual([q2.json!.respCode, q2.json!.origRespCode, q2.json!.origRespDescMsg], ['00', '00', '0']);
      assert.match(wireText(q2.json!.payTime), /^[0-9]{10}$/);
      assert.equal(q2.json!.stlDate, ymd(new Date()));
      assert.equal(order(f.orderNo).charged, 1);
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00', 're-send after payment answers 00');
    });

    it('pending-forever stays paying until cancelled; never charged', async () => {
      const f = micropayFields(testCode('pending-forever', 'wechat'), 'wechat');
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '02');
      for (let i = 0; i < 3; i++) assert.equal((await call(sb, 'queryOrder', { orderNo: f.orderNo })).json!.origRespCode, '02');
      const c = await call(sb, 'cancelOrder', { orderNo: f.orderNo });
      assert.equal(c.json!.respCode, '00');
      const q = await call(sb, 'queryOrder', { orderNo: f.orderNo });
      assert.deepEqual([q.json!.origRespCode, q.json!.origRespDescMsg], ['04', '2']);
      assert.equal(order(f.orderNo).charged, 0);
      assert.equal(order(f.orderNo).state, 'cancelled');
    });

    it('pending-forever closed: 03, cannot be paid any more', async () => {
      const f = micropayFields(testCode('pending-forever', 'unionpay'), 'unionpay');
      await call(sb, 'micropay', f);
      assert.equal((await call(sb, 'closeOrder', { orderNo: f.orderNo })).json!.respCode, '00');
      assert.equal((await call(sb, 'queryOrder', { orderNo: f.orderNo })).json!.origRespCode, '03');
      assert.equal(order(f.orderNo).state, 'closed');
    });

    const refusals: Array<[Parameters<typeof testCode>[0], string]> = [
      ['insufficient-balance', '15'],
      ['expired', '20'],
      ['reused', '001100WN'],
    ];
    for (const [behaviour, code] of refusals) {
      it(`${behaviour} answers ${code}, not charged, queried as failed`, async () => {
        const f = micropayFields(testCode(behaviour, 'wechat'), 'wechat');
        const r = await call(sb, 'micropay', f);
        assert.equal(r.json!.respCode, code);
        assert.equal(r.valid, true);
        if (code === '001100WN') assert.equal(r.json!.respMsg, '101 每个二维码仅限使用一次，请刷新再试');
        assert.equal(order(f.orderNo).charged, 0);
        assert.equal((await call(sb, 'queryOrder', { orderNo: f.orderNo })).json!.origRespCode, '06');
        assert.equal((await call(sb, 'micropay', f)).json!.respCode, code, 'same answer on re-send');
      });
    }

    it('any code used again on another orderNo is 001100WN', async () => {
      const code = testCode('paid', 'alipay');
      assert.equal((await call(sb, 'micropay', micropayFields(code, 'alipay'))).json!.respCode, '00');
      const second = micropayFields(code, 'alipay');
      assert.equal((await call(sb, 'micropay', second)).json!.respCode, '001100WN');
      assert.equal(order(second.orderNo).charged, 0);
    });

    it('answer-lost: charged, then the connection drops; the query finds it paid', async () => {
      const f = micropayFields(testCode('answer-lost', 'wechat'), 'wechat');
      await assert.rejects(call(sb, 'micropay', f));
      const o = order(f.orderNo);
      assert.equal(o.charged, 1);
      assert.equal(o.chargedButAnswerLost, true);
      assert.equal((await call(sb, 'queryOrder', { orderNo: f.orderNo })).json!.origRespCode, '00');
    });
  });

  describe('request checks', () => {
    it('a signature by another key is 11, nothing recorded', async () => {
      const other = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      const r = await call(sb, 'micropay', f, other);
      assert.equal(r.json!.respCode, '11');
      assert.equal(r.valid, true);
      assert.equal(sb.ledger().orders.length, 0);
    });
    it('an unknown extra field is 11 (even when signed)', async () => {
      const r = await call(sb, 'micropay', { ...micropayFields(testCode('paid', 'wechat'), 'wechat'), shopId: '7' });
      assert.equal(r.json!.respCode, '11');
    });
    it('a missing field is 13, naming it', async () => {
      const f: Record<string, string> = micropayFields(testCode('paid', 'wechat'), 'wechat');
      delete f.authCode;
      const r = await call(sb, 'micropay', f);
      assert.equal(r.json!.respCode, '13');
      assert.match(wireText(r.json!.respMsg), /authCode/);
    });
    it('micropay without goodsId/goodsInfo, and with goodsTag, subAppId, longitude, latitude and a real backUrl host, is paid; the answer carries stlDate', async () => {
      const f: Record<string, string> = micropayFields(testCode('paid', 'wechat'), 'wechat', { goodsTag: 'T1', subAppId: 'wx1', longitude: '-83.2345', latitude: '-24.3094', backUrl: 'http://pay.example.com:8080/cb?a=1' });
      delete f.goodsId;
      delete f.goodsInfo;
      const r = await call(sb, 'micropay', f);
      assert.equal(r.json!.respCode, '00', wireText(r.json!.respMsg));
      assert.match(wireText(r.json!.stlDate), /^[0-9]{8}$/);
      assert.equal(r.valid, true);
    });
    it('faceFlag/ledgerAccountFlag 0 is 10: only 1 is defined', async () => {
      for (const extra of <Array<Record<string, string>>>[{ faceFlag: '0' }, { ledgerAccountFlag: '0' }]) {
        const r = await call(sb, 'micropay', micropayFields(testCode('paid', 'wechat'), 'wechat', extra));
        assert.equal(r.json!.respCode, '10', JSON.stringify(extra));
      }
    });
    it('a missing signature is 13', async () => {
      const r = await postRaw(sb, '/pay/queryOrder', JSON.stringify({ ...SP, orderNo: 'X1' }));
      assert.equal(r.json!.respCode, '13');
    });
    it('bad formats are 10: orderTime, amount, orderType not matching the code, backUrl', async () => {
      const code = testCode('paid', 'wechat');
      for (const extra of <Array<Record<string, string>>>[{ orderTime: '2026-01-01' }, { txnAmt: '1.5' }, { txnAmt: '0' }, { orderType: 'alipay' }, { backUrl: 'https://x' }]) {
        const r = await call(sb, 'micropay', micropayFields(code, 'wechat', extra));
        assert.equal(r.json!.respCode, '10', JSON.stringify(extra));
      }
      assert.equal(sb.ledger().orders.length, 0);
    });
    it('a body that is not JSON gets a signed 10', async () => {
      const r = await postRaw(sb, '/pay/micropay', '{"orderNo":');
      assert.equal(r.json!.respCode, '10');
      assert.equal(r.valid, true);
    });
    it('queryOrder of an unknown orderNo is 17', async () => {
      const r = await call(sb, 'queryOrder', { orderNo: orderNo() });
      assert.equal(r.json!.respCode, '17');
      assert.equal(r.valid, true);
    });
    it("emits 'request' with the code masked", async () => {
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      const seen = new Promise<SandboxEvent>((resolve) => sb.once('request', resolve));
      await call(sb, 'micropay', f);
      const e = await seen;
      assert.equal(e.path, '/pay/micropay');
      assert.equal(e.fields.orderNo, f.orderNo);
      assert.ok(!JSON.stringify(e).includes(f.authCode));
    });
  });

  describe('cancel, close, refund', () => {
    const paid = async (w: OrderType, amount = '100') => {
      const f = micropayFields(testCode('paid', w), w, { txnAmt: amount });
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00');
      return f;
    };
    it('cancel of a paid wechat order returns the charge', async () => {
      const f = await paid('wechat');
      assert.equal((await call(sb, 'cancelOrder', { orderNo: f.orderNo })).json!.respCode, '00');
      const o = order(f.orderNo);
      assert.deepEqual([o.state, o.charged, o.reversedFen, o.netFen], ['cancelled', 1, 100, 0]);
      assert.equal((await call(sb, 'cancelOrder', { orderNo: f.orderNo })).json!.respCode, '00', 'idempotent');
      assert.equal(order(f.orderNo).reversedFen, 100);
    });
    it('cancel of a unionpay order is refused with 35 (use refund)', async () => {
      const f = await paid('unionpay');
      assert.equal((await call(sb, 'cancelOrder', { orderNo: f.orderNo })).json!.respCode, '35');
      assert.equal(order(f.orderNo).state, 'paid');
    });
    it('close of a paid order is 35; of an unknown order 17', async () => {
      const f = await paid('alipay');
      assert.equal((await call(sb, 'closeOrder', { orderNo: f.orderNo })).json!.respCode, '35');
      assert.equal((await call(sb, 'closeOrder', { orderNo: orderNo() })).json!.respCode, '17');
    });
    it('refund: accepted, done on refundQuery, limited to the refundable amount', async () => {
      const f = await paid('unionpay', '100');
      const refund = (no: string, amt: string, orig = '100') => call(sb, 'refund', { orderTime: '20260101120500', origOrderNo: f.orderNo, origTxnAmt: orig, orderNo: no, txnAmt: amt });
      const r1 = orderNo();
      assert.equal((await refund(r1, '60')).json!.respCode, '00');
      assert.equal((await refund(r1, '60')).json!.respCode, '00', 'same refund re-sent');
      assert.equal((await refund(r1, '61')).json!.respCode, '16');
      assert.equal((await refund(orderNo(), '41')).json!.respCode, '08', 'over the refundable rest');
      assert.equal((await refund(orderNo(), '40', '99')).json!.respCode, '36');
      const q = await call(sb, 'refundQuery', { orderNo: r1 });
      assert.deepEqual([q.json!.respCode, q.json!.origRespCode, q.valid], ['00', '00', true]);
      assert.equal(order(f.orderNo).refundedFen, 60);
      assert.equal(order(f.orderNo).state, 'paid');
      const r2 = orderNo();
      assert.equal((await refund(r2, '40')).json!.respCode, '00');
      await call(sb, 'refundQuery', { orderNo: r2 });
      assert.deepEqual([order(f.orderNo).state, order(f.orderNo).netFen], ['refunded', 0]);
      assert.equal((await call(sb, 'queryOrder', { orderNo: f.orderNo })).json!.origRespCode, '01');
      assert.equal((await call(sb, 'refundQuery', { orderNo: orderNo() })).json!.respCode, '17');
    });
    it('refund of an order that is not paid is 35', async () => {
      const f = micropayFields(testCode('expired', 'wechat'), 'wechat');
      await call(sb, 'micropay', f);
      const r = await call(sb, 'refund', { orderTime: '20260101120500', origOrderNo: f.orderNo, origTxnAmt: '100', orderNo: orderNo(), txnAmt: '100' });
      assert.equal(r.json!.respCode, '35');
    });
  });

  describe('faults', () => {
    const pay = (w: OrderType = 'wechat') => micropayFields(testCode('paid', w), w);
    it('http-500 before processing: 500, nothing charged', async () => {
      sb.setFaults([{ kind: 'http-500' }]);
      const f = pay();
      const r = await call(sb, 'micropay', f);
      assert.equal(r.status, 500);
      assert.equal(sb.ledger().orders.length, 0);
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00', 'only the next request');
    });
    it('html with charge: an HTML 502 page after the charge', async () => {
      sb.setFaults([{ kind: 'html', charge: true }]);
      const f = pay();
      const r = await call(sb, 'micropay', f);
      assert.equal(r.status, 502);
      assert.match(r.text, /<html>/);
      assert.equal(order(f.orderNo).charged, 1);
    });
    it('truncated-json: charged, body cut in half', async () => {
      sb.setFaults([{ kind: 'truncated-json' }]);
      const f = pay();
      const r = await call(sb, 'micropay', f);
      assert.equal(r.status, 200);
      assert.equal(r.json, undefined);
      assert.ok(r.text.startsWith('{"respCode":"00"'));
      assert.equal(order(f.orderNo).charged, 1);
    });
    it('bad-signature: a 00 that does not verify', async () => {
      sb.setFaults([{ kind: 'bad-signature' }]);
      const r = await call(sb, 'micropay', pay());
      assert.equal(r.json!.respCode, '00');
      assert.equal(r.valid, false);
    });
    it('drop-before-charge: connection dropped, no order', async () => {
      sb.setFaults([{ kind: 'drop-before-charge' }]);
      await assert.rejects(call(sb, 'micropay', pay()));
      assert.equal(sb.ledger().orders.length, 0);
    });
    it('drop-after-charge: connection dropped, charged once, re-send answers 00', async () => {
      sb.setFaults([{ kind: 'drop-after-charge', path: 'micropay' }]);
      const f = pay();
      await assert.rejects(call(sb, 'micropay', f));
      assert.deepEqual([order(f.orderNo).charged, order(f.orderNo).chargedButAnswerLost], [1, true]);
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00');
      assert.equal(order(f.orderNo).charged, 1);
    });
    it('rate-limit: a signed 37, nothing processed', async () => {
      sb.setFaults([{ kind: 'rate-limit', count: 2 }]);
      const f = pay();
      for (let i = 0; i < 2; i++) {
        const r = await call(sb, 'micropay', f);
        assert.deepEqual([r.json!.respCode, r.valid], ['37', true]);
      }
      assert.equal(sb.ledger().orders.length, 0);
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00');
    });
    it('answer-99: a signed 99 (unclear), nothing processed', async () => {
      sb.setFaults([{ kind: 'answer-99', path: 'micropay' }]);
      const f = pay();
      const r = await call(sb, 'micropay', f);
      assert.deepEqual([r.json!.respCode, r.valid, r.json!.orderNo], ['99', true, f.orderNo]);
      assert.equal(sb.ledger().orders.length, 0);
      assert.equal((await call(sb, 'micropay', f)).json!.respCode, '00');
    });
    it('latency delays the answer; the path filter leaves other paths alone', async () => {
      sb.setFaults([{ kind: 'latency', ms: 150, path: '/pay/queryOrder' }]);
      const f = pay();
      let t = performance.now();
      await call(sb, 'micropay', f);
      assert.ok(performance.now() - t < 140);
      t = performance.now();
      await call(sb, 'queryOrder', { orderNo: f.orderNo });
      assert.ok(performance.now() - t >= 145);
    });
    it('probability draws from the seeded generator: same seed, same hits', async () => {
      const pattern = async () => {
        sb.setFaults([{ kind: 'rate-limit', count: 100, probability: 0.5, path: 'queryOrder' }], 42);
        const out: string[] = [];
        for (let i = 0; i < 12; i++) out.push(wireText((await call(sb, 'queryOrder', { orderNo: 'NONE' })).json!.respCode));
        return out.join(',');
      };
      const a = await pattern();
      assert.equal(await pattern(), a);
      assert.ok(a.includes('37') && a.includes('17'), a);
    });
    it('POST /__sandbox/faults sets faults; bad ones get a 400 naming the field', async () => {
      let res = await fetch(`${sb.baseUrl}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ faults: [{ kind: 'http-500', count: 1 }] }) });
      assert.equal(res.status, 200);
      assert.equal((await call(sb, 'micropay', pay())).status, 500);
      res = await fetch(`${sb.baseUrl}/__sandbox/faults`, { method: 'POST', body: JSON.stringify({ kind: 'slow' }) });
      assert.equal(res.status, 400);
      assert.match(((await res.json()) as { error: string }).error, /kind/);
    });
    it('GET /__sandbox/orders returns the ledger; POST /__sandbox/reset empties it', async () => {
      const f = pay();
      await call(sb, 'micropay', f);
      const ledger = (await (await fetch(`${sb.baseUrl}/__sandbox/orders`)).json()) as { orders: Array<Record<string, unknown>> };
      assert.equal(ledger.orders.length, 1);
      assert.deepEqual(
        ['orderNo', 'txnAmt', 'orderType', 'state', 'charged'].map((k) => ledger.orders[0]![k]),
        [f.orderNo, 100, 'wechat', 'paid', 1],
      );
      const codes = (await (await fetch(`${sb.baseUrl}/__sandbox/codes`)).json()) as Array<{ behaviour: string; codes: Record<string, string> }>;
      assert.equal(codes.length, TEST_CODES.length);
      assert.equal(behaviourOf(codes.find((c) => c.behaviour === 'expired')!.codes.unionpay!).behaviour, 'expired');
      await fetch(`${sb.baseUrl}/__sandbox/reset`, { method: 'POST' });
      assert.equal(sb.ledger().orders.length, 0);
    });
    it('stats count requests per path and the most in flight at once', async () => {
      sb.setFaults([{ kind: 'latency', ms: 80, count: 3 }]);
      await Promise.all([1, 2, 3].map(() => call(sb, 'queryOrder', { orderNo: 'NONE' })));
      const s = sb.stats();
      assert.equal(s.requests['/pay/queryOrder'], 3);
      assert.equal(s.maxInFlight, 3);
    });
  });

  describe('settlement file', () => {
    it('has the 28 columns in order, SUCCESS and REFUND rows, and is served signed-for over GET', async () => {
      const f = micropayFields(testCode('paid', 'alipay'), 'alipay', { txnAmt: '500' });
      await call(sb, 'micropay', f);
      const c = micropayFields(testCode('paid', 'wechat'), 'wechat');
      await call(sb, 'micropay', c);
      await call(sb, 'cancelOrder', { orderNo: c.orderNo });
      const rNo = orderNo();
      await call(sb, 'refund', { orderTime: '20260101120500', origOrderNo: f.orderNo, origTxnAmt: '500', orderNo: rNo, txnAmt: '200' });
      await call(sb, 'refundQuery', { orderNo: rNo });
      const x = micropayFields(testCode('expired', 'wechat'), 'wechat');
      await call(sb, 'micropay', x);
      await call(sb, 'closeOrder', { orderNo: x.orderNo });
      const day = ymd(new Date());
      const csv = settlementCsv(sb.ledger(), day);
      const rows = csv.trimEnd().split('\n').map((l) => l.split(','));
      assert.equal(SETTLEMENT_COLUMNS.length, 28);
      for (const r of rows) assert.equal(r.length, 28);
      const col = (name: (typeof SETTLEMENT_COLUMNS)[number]) => SETTLEMENT_COLUMNS.indexOf(name);
      const pay = rows.find((r) => r[0] === f.orderNo && r[col('state')] === 'SUCCESS')!;
      assert.deepEqual([pay[col('orderAmount')], pay[col('refundAmount')], pay[col('orderType')], pay[col('scene')], pay[col('merchantId')]], ['500', '0', 'alipay', '2', SP.acqMerId]);
      assert.match(pay[col('payTime')]!, new RegExp(`^${day}[0-9]{6}$`));
      const refund = rows.find((r) => r[0] === f.orderNo && r[col('state')] === 'REFUND')!;
      assert.deepEqual([refund[col('orderAmount')], refund[col('refundAmount')], refund[col('referenceNo')]], ['0', '200', rNo]);
      assert.ok(rows.some((r) => r[0] === c.orderNo && r[col('state')] === 'REFUND' && r[col('refundAmount')] === '100'));
      assert.ok(rows.some((r) => r[0] === x.orderNo && r[col('state')] === 'FAILED' && r[col('settlementAmount')] === '0'), 'a refused (then closed) order is a FAILED row');
      assert.equal(settlementCsv(sb.ledger(), '2001-01-01'), '');

      const key = merchantKey(sb);
      const q = { acqSpId: SP.acqSpId, stlDate: day };
      const url = `${sb.baseUrl}/pay/downloadSettleFile?acqSpId=${q.acqSpId}&stlDate=${day}&signature=${encodeURIComponent(signRequest(q, key).signature)}`;
      const res = await fetch(url);
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-disposition') ?? '', new RegExp(`${SP.acqSpId}_${day}\\.csv`));
      assert.equal(await res.text(), csv);
      const bad = (await (await fetch(url.replace(/signature=[^&]+/, 'signature=AAAA'))).json()) as Record<string, string>;
      assert.equal(bad.respCode, '11');
      assert.equal(verifyResponse(bad, sb.platformPublicKey).valid, true);
    });
  });
});

describe('sandbox options', () => {
  it('accepts a given merchant key (the published test key file) and persists the ledger to a file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sbx-opt-'));
    const file = join(dir, 'ledger.json');
    const testKey = new URL('../../../test/fixtures/umpay/test-merchant.key.p8', import.meta.url).pathname;
    const { loadPrivateKey } = await import('../../src/umpay/keys.js');
    const key = loadPrivateKey(testKey);
    let sb = await startSandbox({ stateDir: dir, ledgerFile: file, merchantPublicKey: testKey });
    try {
      assert.equal(sb.merchantKeyPath, undefined);
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      assert.equal((await call(sb, 'micropay', f, key)).json!.respCode, '00');
      await sb.close();
      sb = await startSandbox({ stateDir: dir, ledgerFile: file, merchantPublicKey: testKey });
      assert.equal(sb.ledger().orders[0]!.orderNo, f.orderNo);
      assert.equal((await call(sb, 'micropay', f, key)).json!.respCode, '00', 'idempotent across restarts');
      assert.equal(sb.ledger().orders[0]!.charged, 1);
      assert.ok(!readFileSync(file, 'utf8').includes(f.authCode), 'no payment code in the file');
    } finally {
      await sb.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('rate limiter answers 37 beyond the bucket and counts it; refunds can take N queries', async () => {
    const sb = await startSandbox({ rateLimit: { perSecond: 0.001, burst: 3 }, refundQueriesUntilDone: 2 });
    try {
      const codes: string[] = [];
      for (let i = 0; i < 5; i++) codes.push(wireText((await call(sb, 'queryOrder', { orderNo: 'NONE' })).json!.respCode));
      assert.deepEqual(codes, ['17', '17', '17', '37', '37']);
      assert.equal(sb.stats().rateLimited, 2);
    } finally {
      await sb.close();
    }
    const sb2 = await startSandbox({ refundQueriesUntilDone: 2 });
    try {
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      await call(sb2, 'micropay', f);
      const no = orderNo();
      await call(sb2, 'refund', { orderTime: '20260101120500', origOrderNo: f.orderNo, origTxnAmt: '100', orderNo: no, txnAmt: '100' });
      assert.equal((await call(sb2, 'refundQuery', { orderNo: no })).json!.origRespCode, '02');
      assert.equal((await call(sb2, 'refundQuery', { orderNo: no })).json!.origRespCode, '00');
    } finally {
      await sb2.close();
    }
  });

  it('a fixed clock dates answers and the settlement file', async () => {
    const now = () => new Date(2026, 0, 2, 10, 30, 0);
    const sb = await startSandbox({ now });
    try {
      const f = micropayFields(testCode('paid', 'wechat'), 'wechat');
      const r = await call(sb, 'micropay', f);
      assert.equal(r.json!.platDate, '20260102');
      assert.match(settlementCsv(sb.ledger(), '2026-01-02'), new RegExp(`^${f.orderNo},20260102103000,`));
    } finally {
      await sb.close();
    }
  });
});
