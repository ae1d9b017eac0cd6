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

  it('leaves digit runs that are not payment codes alone (order numbers, amounts)', () => {
    assert.equal(scrub('order K0120260601000001 amount 150'), 'order K0120260601000001 amount 150');
  });
});
