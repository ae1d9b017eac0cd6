import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger, scrub } from '../src/log.js';

const WECHAT = '134579761426152164';

function capture(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { stream, lines: () => chunks.join('').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('log: secrets never reach a line', () => {
  it('masks authCode fields, signatures and keys by name', () => {
    const out = scrub({ authCode: WECHAT, signature: 'ABCDEFGHIJKLMNOP', privateKey: 'x', nested: { authCode: WECHAT } }) as Record<string, unknown>;
    assert.equal(out.authCode, 'wechat…2164');
    assert.equal(out.signature, 'ABCDEFGH…');
    assert.equal(out.privateKey, '[redacted]');
    assert.deepEqual(out.nested, { authCode: 'wechat…2164' });
  });

  it('keeps stable error codes, masks a payment code under any name and in the message text', () => {
    const { stream, lines } = capture();
    const log = createLogger({ destination: stream });
    log.error({ event: 'config-invalid', code: 'E_CONFIG', scanned: `line ${WECHAT} end` }, `scan ${WECHAT} refused`);
    const [line] = lines();
    assert.equal(line!.code, 'E_CONFIG');
    assert.equal(line!.scanned, 'line wechat…2164 end');
    assert.equal(line!.msg, 'scan wechat…2164 refused');
    assert.ok(!JSON.stringify(line).includes(WECHAT.slice(0, 12)));
  });

  it('masks a payment code inside a logged error’s message', () => {
    const { stream, lines } = capture();
    createLogger({ destination: stream }).error({ event: 'engine-error', err: new Error(`cannot pay ${WECHAT}`) }, 'payment engine threw');
    const [line] = lines();
    assert.equal((line!.err as { message: string }).message, 'cannot pay wechat…2164');
    assert.ok(!JSON.stringify(line).includes(WECHAT.slice(0, 12)));
  });

  it('cuts nesting deeper than any real line instead of passing it through unmasked', () => {
    let deep: unknown = { authCode: WECHAT };
    for (let i = 0; i < 10; i++) deep = { next: deep };
    assert.ok(!JSON.stringify(scrub(deep)).includes(WECHAT.slice(0, 12)));
  });

  it('masks codes of every length a wallet uses inside text (Alipay 16 and 24, UnionPay 19)', () => {
    for (const code of ['2812345678901234', '28123456789012345', '281234567890123456789012', '6212345678901234567']) {
      const out = scrub(`scan ${code} refused`) as string;
      assert.ok(!out.includes(code.slice(0, 12)), out);
      assert.match(out, new RegExp(`…${code.slice(-4)} refused$`));
    }
  });

  it('a secret field holding an object (a cycle, a BigInt inside) is masked, never a throw in the log call', () => {
    const cyclic: Record<string, unknown> = { n: 10n };
    cyclic.self = cyclic;
    const out = scrub({ authCode: cyclic, payCode: 134579761426152164n }) as Record<string, unknown>;
    assert.equal(out.authCode, 'code…(15 chars)');
    assert.equal(out.payCode, 'wechat…2164');
  });

  it('masks an authCode field even when it holds no valid code (a misread scan is still a bearer token)', () => {
    const out = scrub({ authCode: '13457976142615216', nested: { authCode: '2812-3456-7890-1234' } }) as { authCode: string; nested: { authCode: string } };
    assert.equal(out.authCode, 'code…5216');
    assert.equal(out.nested.authCode, 'code…(19 chars)');
  });

  it('leaves digit runs that are not payment codes alone (order numbers, amounts)', () => {
    assert.equal(scrub('order K0120260601000001 amount 150'), 'order K0120260601000001 amount 150');
  });
});
