import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openJournal, SCHEMA_VERSION, type Journal } from '../../src/journal/journal.js';
import { run } from '../../src/cli/journal.js';
import { captureIo } from '../../src/cli/tech/format.js';

const CODE = '134567890123456789';

describe('kiosk journal', () => {
  let dir: string;
  let db: string;
  let j: Journal;
  let a: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'jcli-'));
    mkdirSync(join(dir, 'etc'));
    db = join(dir, 'data', 'journal.db');
    j = openJournal(db); // the daemon's connection stays open: the CLI reads beside it
    const base = { deviceId: 'K1', date: '20260601', orderTime: '20260601100000', orderType: 'wechat', authMask: 'wechat…6789', goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1 };
    a = j.createOrder({ ...base, txnAmt: '150', authCode: CODE, at: '2026-06-01T09:00:00.000Z' }).orderNo;
    j.transition(a, [{ from: 'created', to: 'paid', event: { kind: 'answer', cause: 'micropay: PAID', call: 'micropay', respCode: '00' }, patch: { transactionId: 'T77' } }, { from: 'paid', to: 'delivering', event: { kind: 'release', cause: 'x' } }, { from: 'delivering', to: 'delivered', event: { kind: 'released', cause: 'y' } }], '2026-06-01T09:00:01.000Z');
    j.createOrder({ ...base, txnAmt: '200', authCode: '134567890123456780', at: '2026-06-02T09:00:00.000Z' });
    writeFileSync(join(dir, 'etc', 'config.json'), JSON.stringify({ journal: { path: '../data/journal.db' } }));
  });
  afterEach(() => {
    j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('list --json via --config (path relative to the config folder): the fields, newest first, no codes', async () => {
    const io = captureIo();
    assert.equal(await run(['list', '--json', '--config', join(dir, 'etc', 'config.json')], io), 0);
    const rows = JSON.parse(io.stdout()) as Record<string, unknown>[];
    assert.equal(rows.length, 2);
    assert.equal(rows[1]!.orderNo, a);
    for (const k of ['orderNo', 'state', 'txnAmt', 'orderType', 'createdAt', 'updatedAt', 'transactionId']) assert.ok(k in rows[1]!, k);
    assert.equal(rows[1]!.transactionId, 'T77');
    assert.ok(!io.stdout().includes(CODE) && !io.stdout().includes('134567890123456780'));
  });

  it('list for people, filtered by state and since; KIOSK_CONFIG', async () => {
    const io = captureIo({ KIOSK_CONFIG: join(dir, 'etc', 'config.json') });
    assert.equal(await run(['list', '--state', 'created', '--since', '2026-06-02'], io), 0);
    const lines = io.stdout().trim().split('\n');
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /^created\s+orderNo\s+state\s+yuan/);
    assert.match(lines[2]!, /created\s+2\.00\s+wechat\s+wechat…6789/);
  });

  it('show: the order and its events; --db', async () => {
    const io = captureIo();
    assert.equal(await run(['show', a, '--db', db], io), 0);
    assert.match(io.stdout(), /state:\s+delivered \(final\)/);
    assert.match(io.stdout(), /micropay: PAID/);
    assert.ok(!io.stdout().includes(CODE));
    const js = captureIo();
    assert.equal(await run(['show', a, '--db', db, '--json'], js), 0);
    assert.equal((JSON.parse(js.stdout()) as { events: unknown[] }).events.length, 4);
  });

  it('bad input gets a clear answer', async () => {
    // Another program's SQLite file that happens to carry our user_version, and a journal from a newer kiosk.
    const foreign = join(dir, 'foreign.db');
    const f = new Database(foreign);
    f.exec('CREATE TABLE x (a)');
    f.pragma(`user_version = ${SCHEMA_VERSION}`);
    f.close();
    const newer = join(dir, 'newer.db');
    const n = new Database(newer);
    n.pragma('user_version = 99');
    n.close();
    const cases: Array<[string[], RegExp, number]> = [
      [['list', '--db', db, '--state', 'nope'], /--state "nope": not a state/, 2],
      [['list', '--db', db, '--since', 'yesterday'], /--since "yesterday": not a date/, 2],
      [['show', 'K1X', '--db', db], /no order K1X/, 1],
      [['list', '--db', join(dir, 'missing.db')], /missing\.db: no journal here/, 2],
      [['list', '--config', join(dir, 'nope.json')], /nope\.json: cannot read the config/, 2],
      [['frobnicate', '--db', db], /unknown subcommand/, 2],
      [['list', '--db', dir], /not a readable journal/, 2],
      [['list', '--db', foreign], /foreign\.db: not a readable journal \(no such table: orders\)/, 2],
      [['list', '--db', newer], /newer\.db: journal schema version 99 is newer than this program knows/, 2],
    ];
    for (const [argv, msg, code] of cases) {
      const io = captureIo();
      assert.equal(await run(argv, io), code, argv.join(' '));
      assert.match(io.stderr(), msg);
    }
  });
});
