// kiosk logs: pretty, masked lines from a file; a clear answer when pm2 is missing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as logs } from '../../src/cli/logs.js';
import { captureIo } from '../../src/cli/tech/format.js';

describe('kiosk logs', () => {
  const code = '280000111122223333';
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-logs-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('prints a log file through pino-pretty with payment codes and signatures masked', async () => {
    const file = join(dir, 'kiosk-out.log');
    writeFileSync(
      file,
      [
        JSON.stringify({ level: 30, time: 1764151200000, pid: 7, name: 'kiosk', event: 'order', orderNo: 'K120261126000001', authCode: code, msg: 'order journaled' }),
        JSON.stringify({ level: 50, time: 1764151200000, pid: 7, name: 'kiosk', signature: 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=', msg: `bad answer for ${code}` }),
        'not json at all',
        '',
      ].join('\n'),
    );
    const io = captureIo();
    assert.equal(await logs(['--file', file], io), 0);
    const out = io.stdout();
    assert.match(out, /INFO.*order journaled/);
    assert.match(out, /orderNo: "K120261126000001"/);
    assert.match(out, /authCode: "alipay…3333"/);
    assert.match(out, /bad answer for alipay…3333/);
    assert.match(out, /signature: "QUJDREVG…"/);
    assert.match(out, /not json at all/);
    assert.ok(!out.includes(code) && !out.includes('QUJDREVGR0hJ'));
  });

  it('exit 2 with the reason for a missing file or a missing pm2', async () => {
    let io = captureIo();
    assert.equal(await logs(['--file', join(dir, 'nope.log')], io), 2);
    assert.match(io.stderr(), /nope\.log: no such file/);
    io = captureIo();
    assert.equal(await logs([], io, { pm2: join(dir, 'no-pm2') }), 2);
    assert.match(io.stderr(), /no-pm2 not found: is pm2 installed/);
  });

  it('exit 2 for a folder or a device (endless: one line filling memory), reading nothing', async () => {
    let io = captureIo();
    assert.equal(await logs(['--file', dir], io), 2);
    assert.match(io.stderr(), /kiosk-logs-\w+: is a folder/);
    io = captureIo();
    assert.equal(await logs(['--file', '/dev/zero'], io), 2);
    assert.match(io.stderr(), /\/dev\/zero: not a regular file \(a pipe: --file -\)/);
  });
});
