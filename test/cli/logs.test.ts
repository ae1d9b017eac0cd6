// kiosk logs: pretty, masked lines from a file, journald or pm2's files; a clear answer when the source is missing.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('exit 2 with the reason for a missing file or a missing journalctl', async () => {
    let io = captureIo();
    assert.equal(await logs(['--file', join(dir, 'nope.log')], io), 2);
    assert.match(io.stderr(), /nope\.log: no such file/);
    io = captureIo();
    assert.equal(await logs([], io, { unitDir: dir, journalctl: join(dir, 'no-journalctl') }), 2);
    assert.match(io.stderr(), /no-journalctl not found: read a file instead: kiosk logs --file FILE/);
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

describe('kiosk logs follows the install mode', () => {
  const code = '134567890123454821'; // a wechat code: masked as wechat…4821
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-logs-mode-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const line = (i: number) => JSON.stringify({ level: 30, time: 1764151200000 + i, pid: 7, name: 'kiosk', authCode: code, msg: `line ${i} for ${code}` });

  it("pm2 mode: pm2's own files read without pm2, the time: true prefix taken off, every line pretty (the first too), masked", async () => {
    const units = join(dir, 'units');
    mkdirSync(units, { recursive: true });
    writeFileSync(join(units, 'kiosk-pm2.service'), '');
    const home = join(dir, 'pm2home');
    mkdirSync(join(home, 'logs'), { recursive: true });
    writeFileSync(join(home, 'logs/kiosk-out.log'), [1, 2, 3, 4, 5].map((i) => `2026-12-01T10:00:0${i}: ${line(i)}`).join('\n') + '\n');
    writeFileSync(join(home, 'logs/kiosk-error.log'), `2026-12-01T10:00:09: kiosk: refusing to start: 1 problem\n`);
    const io = captureIo({ PM2_HOME: home, PATH: '/nonexistent' });
    assert.equal(await logs(['--lines', '3'], io, { unitDir: units }), 0, io.stderr());
    const out = io.stdout();
    // The last 3 of the out log, and the error log's line; each JSON line pretty-printed.
    assert.deepEqual(out.match(/line \d/g), ['line 3', 'line 4', 'line 5']);
    assert.equal(out.match(/INFO/g)?.length, 3);
    assert.match(out, /authCode: "wechat…4821"/);
    assert.match(out, /line 3 for wechat…4821/);
    assert.match(out, /refusing to start: 1 problem/);
    assert.ok(!out.includes(code));
    assert.doesNotMatch(out, /^2026-12-01T10:00:03: \{/m);
  });

  it('pm2 mode without log files: says where it looked', async () => {
    const units = join(dir, 'units2');
    mkdirSync(units, { recursive: true });
    writeFileSync(join(units, 'kiosk-pm2.service'), '');
    const io = captureIo({ PM2_HOME: join(dir, 'nowhere') });
    assert.equal(await logs([], io, { unitDir: units }), 2);
    assert.match(io.stderr(), /no pm2 log of the kiosk in \S+nowhere\/logs/);
  });

  it("systemd mode: journalctl -u kiosk -o cat with --lines and --follow passed on; its permission hint becomes 'use sudo'", async () => {
    const fake = join(dir, 'journalctl');
    writeFileSync(fake, `#!/bin/sh\necho "$@" > '${join(dir, 'journalctl.args')}'\necho '${line(1)}'\necho 'Hint: You are currently not seeing messages from other users and the system. Users in groups adm, systemd-journal can see all messages. No journal files were opened due to insufficient permissions.' >&2\n`, { mode: 0o755 });
    const io = captureIo();
    const jdir = join(dir, 'journal-there');
    mkdirSync(jdir, { recursive: true });
    writeFileSync(join(jdir, 'system.journal'), '');
    assert.equal(await logs(['--lines', '50'], io, { unitDir: join(dir, 'no-units'), journalctl: fake, journalDirs: [jdir] }), 0);
    assert.equal(readFileSync(join(dir, 'journalctl.args'), 'utf8').trim(), '-u kiosk -o cat --no-pager -n 50');
    assert.match(io.stdout(), /INFO.*line 1 for wechat…4821/);
    assert.match(io.stderr(), /permission denied: use sudo/);
  });

  it("keeps the daemon's own mask (wallet + last four): a masked code is not masked again", async () => {
    // What the daemon writes (src/log.ts masks at the source): the technician matches a customer's code by it.
    const file = join(dir, 'daemon.log');
    writeFileSync(file, [JSON.stringify({ level: 30, time: 1764151200000, event: 'scan', authCode: 'unionpay…6916', msg: 'payment code scanned' }), JSON.stringify({ level: 30, time: 1764151200000, authCode: 'code…(7 chars)', msg: 'bad' })].join('\n') + '\n');
    for (const json of [[], ['--json']]) {
      const io = captureIo();
      assert.equal(await logs(['--file', file, ...json], io), 0);
      assert.match(io.stdout(), /"?authCode"?: ?"unionpay…6916"/);
      assert.match(io.stdout(), /"?authCode"?: ?"code…\(7 chars\)"/);
    }
  });

  it('journald without a journal on this machine, or without a line of the kiosk: says where it looked, exit 2', async () => {
    const fake = join(dir, 'journalctl-empty');
    writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    const empty = join(dir, 'no-journal');
    mkdirSync(empty, { recursive: true });
    // No options: the install's mode (no kiosk-pm2.service) says journald; there is none.
    let io = captureIo();
    assert.equal(await logs([], io, { unitDir: join(dir, 'no-units'), journalctl: fake, journalDirs: [empty] }), 2);
    assert.match(io.stderr(), /no systemd journal on this machine \(no journal files in \S+no-journal\), so no kiosk log in journald \(the install's mode: no kiosk-pm2.service in \S+no-units\)/);
    io = captureIo();
    assert.equal(await logs(['--source', 'journald'], io, { unitDir: join(dir, 'no-units'), journalctl: fake, journalDirs: [empty] }), 2);
    assert.match(io.stderr(), /no systemd journal on this machine/);
    // A journal, but the kiosk never logged into it.
    const jdir = join(dir, 'journal');
    mkdirSync(join(jdir, 'machine-id'), { recursive: true });
    writeFileSync(join(jdir, 'machine-id', 'system.journal'), '');
    io = captureIo();
    assert.equal(await logs(['--source', 'journald'], io, { journalctl: fake, journalDirs: [jdir] }), 2);
    assert.match(io.stderr(), /no line of the kiosk in journald \(journalctl -u kiosk\)/);
    assert.equal(io.stdout(), '');
  });

  it('--file honours --lines: only the last N lines', async () => {
    const file = join(dir, 'big.log');
    writeFileSync(file, Array.from({ length: 50 }, (_, i) => line(i)).join('\n') + '\n');
    const io = captureIo();
    assert.equal(await logs(['--file', file, '--lines', '2', '--json'], io), 0);
    const got = io.stdout().trim().split('\n');
    assert.equal(got.length, 2);
    assert.match(got[0]!, /line 48 for wechat…4821/);
    assert.match(got[1]!, /line 49/);
  });
});
