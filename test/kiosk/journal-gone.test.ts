// Issue 10 §4: the journal deleted, replaced or moved under a running daemon. SQLite keeps writing to the open
// file, so nothing fails by itself; after a restart those writes would be gone (a charge nobody gives back).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import Database from 'better-sqlite3';
import { openJournal } from '../../src/journal/journal.js';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import type { PaymentRecord } from '../../src/kiosk/interaction.js';
import { run as status } from '../../src/cli/status.js';
import { testCode } from '../../src/sandbox/index.js';
import { DaemonFixture, LogCapture, type LogLine } from './daemon-helpers.js';
import { captureIo } from '../../src/cli/tech/format.js';

describe('kiosk daemon: the journal deleted or replaced while it runs (issue 10 §4)', function () {
  this.timeout(20_000);
  let fx: DaemonFixture;
  let daemon: Daemon | undefined;
  let lines: LogLine[];
  let capture: LogCapture;
  beforeEach(async () => {
    fx = await new DaemonFixture().start();
    capture = new LogCapture();
    lines = capture.lines;
    const config = loadConfig(fx.writeConfig());
    daemon = await Daemon.start(config, { log: capture.log, walPurgeIdleMs: 60_000, journalWatchMs: 50, timing: { resultMs: 100 } });
  });
  afterEach(async () => {
    await daemon?.stop();
    await fx.dispose();
  });

  /** The first log line (so far or to come) that matches. */
  const waitForLine = (match: (l: LogLine) => boolean): Promise<LogLine> => capture.first(match);
  const next = (d: Daemon) => new Promise<PaymentRecord>((resolve) => d.interaction.once('payment', resolve));
  const deleteJournal = () => {
    for (const side of ['', '-wal', '-shm']) rmSync(fx.journalPath + side, { force: true });
  };

  it('deleted mid-payment: that payment and its reversal finish in the open file; the next scan is refused with fault, nothing sent', async () => {
    const d = daemon!;
    const first = next(d);
    d.hardware.scanner.emit('code', testCode('pending-forever', 'wechat', `gone${Date.now() % 100000}`));
    await new Promise<void>((r) => d.interaction.once('progress', () => r()));
    deleteJournal();
    const r1 = await first;
    assert.equal(r1.result.kind, 'not-charged');
    const orderNo = (r1.result as { orderNo: string }).orderNo;
    await new Promise((res) => d.interaction.once('state', res)); // the result is over: ready for the next scan

    const second = next(d);
    const code2 = testCode('paid', 'wechat', `gone2${Date.now() % 100000}`);
    d.hardware.scanner.emit('code', code2);
    const r2 = await second;
    assert.equal(r2.pattern, 'fault');
    assert.equal(r2.result.kind, 'error');
    const line = lines.find((l) => l.event === 'journal-unusable');
    assert.ok(line && /was deleted/.test(String(line.msg)), JSON.stringify(lines.slice(-3)));
    assert.equal(fx.sandbox.ledger().orders.length, 1, 'the refused scan sent nothing');

    // The daemon noticed on its own and saved what the open journal holds beside the path (a crash now loses nothing).
    const rescued = await waitForLine((l) => l.event === 'journal-rescued');
    const copy = openJournal(String(rescued.copy), { readonly: true });
    try {
      assert.ok(copy.get(orderNo), 'the rescued copy holds the order in flight');
    } finally {
      copy.close();
    }
    assert.equal(statSync(String(rescued.copy)).mode & 0o777, 0o600);

    // Unfinished work goes on in the open file: the first order is reversed at the platform.
    await d.engine.whenIdle();
    assert.equal(d.journal.get(orderNo)!.state, 'reversed');
    assert.equal(fx.sandbox.ledger().orders[0]!.netFen, 0);
    assert.match(String(d.status().journal?.problem), /was deleted/);

    // kiosk status says so, from the daemon's own report (the file at journal.path is gone).
    const io = captureIo({ KIOSK_CONFIG: fx.configFile });
    assert.equal(await status(['--no-gateway'], io), 1);
    assert.match(io.stdout(), /^journal:\s+NOT OK: .*journal\.sqlite was deleted/m);
    assert.equal(existsSync(fx.journalPath), false, 'status created nothing');
  });

  it('replaced by another file (a restored backup) under the running daemon: refused with fault', async () => {
    const d = daemon!;
    const copy = join(fx.dir, 'copy.sqlite');
    d.journal.db.exec(`VACUUM INTO '${copy}'`);
    renameSync(copy, fx.journalPath);
    const r = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `repl${Date.now() % 100000}`));
    assert.equal((await r).pattern, 'fault');
    assert.match(String(d.status().journal?.problem), /is now another file/);
    assert.equal(fx.sandbox.ledger().orders.length, 0);
  });

  // SQLite keeps writing to the -wal it has open; every commit since the last checkpoint is only there. Deleted,
  // those commits die with the process (a kill -9, a power cut), and another process opening the journal gets an
  // I/O error (the last describe of this file shows SQLite's side on the real file system).
  it('its -wal deleted (commits not yet checkpointed): noticed, the open journal rescued, the next scan refused with fault', async () => {
    const d = daemon!;
    const first = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `wal${Date.now() % 100000}`));
    const r1 = await first;
    assert.equal(r1.result.kind, 'approved');
    const orderNo = (r1.result as { orderNo: string }).orderNo;
    assert.ok(statSync(`${fx.journalPath}-wal`).size > 0, 'the paid order is in the -wal (no checkpoint yet: walPurgeIdleMs is a minute)');
    rmSync(`${fx.journalPath}-wal`);

    const gone = await waitForLine((l) => l.event === 'journal-gone');
    assert.match(String(gone.msg), /journal\.sqlite-wal \(the journal's write-ahead log.*\) was deleted/);
    const rescued = await waitForLine((l) => l.event === 'journal-rescued');
    const copy = openJournal(String(rescued.copy), { readonly: true });
    try {
      assert.equal(copy.get(orderNo)?.state, 'delivered', 'the rescued copy holds what only the deleted -wal had');
    } finally {
      copy.close();
    }
    await new Promise((res) => d.interaction.once('state', res)); // the first result is over
    const second = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `wal2${Date.now() % 100000}`));
    assert.equal((await second).pattern, 'fault');
    assert.equal(fx.sandbox.ledger().orders.length, 1, 'the refused scan sent nothing');
    assert.match(String(d.status().journal?.problem), /-wal .* was deleted/);
    const io = captureIo({ KIOSK_CONFIG: fx.configFile });
    assert.equal(await status(['--no-gateway'], io), 1);
    assert.match(io.stdout(), /^journal:\s+NOT OK: .*journal\.sqlite-wal .* was deleted/m, io.stdout() + io.stderr());
  });

  it('its -shm replaced (two writers would no longer see each other): refused with fault', async () => {
    const d = daemon!;
    const shm = `${fx.journalPath}-shm`;
    writeFileSync(`${shm}.new`, readFileSync(shm));
    renameSync(`${shm}.new`, shm);
    const r = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `shm${Date.now() % 100000}`));
    assert.equal((await r).pattern, 'fault');
    assert.match(String(d.status().journal?.problem), /journal\.sqlite-shm \(.*\) is now another file/);
    assert.equal(fx.sandbox.ledger().orders.length, 0);
  });

  it('a -wal that is not its own at stop (a restored backup) is left alone: the close of SQLite would delete it', async () => {
    const d = daemon!;
    const wal = `${fx.journalPath}-wal`;
    writeFileSync(`${wal}.restored`, 'a restored backup of the -wal');
    renameSync(`${wal}.restored`, wal);
    await waitForLine((l) => l.event === 'journal-gone');
    await d.stop();
    assert.equal(readFileSync(wal, 'utf8'), 'a restored backup of the -wal');
    assert.ok(lines.some((l) => l.event === 'journal-left-open'), JSON.stringify(lines.slice(-3)));
    assert.ok(lines.some((l) => l.event === 'journal-rescued' && /-stopped-/.test(String(l.copy))), 'the last state is saved at stop');
  });

  it('the journal read-only (or the disk full): the order cannot be journaled, so nothing is sent (fault); it pays again once it can', async () => {
    const d = daemon!;
    // SQLite's own refusal, through the real journal code (query_only: every write fails SQLITE_READONLY).
    d.journal.db.pragma('query_only = 1');
    const r = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `ro${Date.now() % 100000}`));
    assert.equal((await r).pattern, 'fault');
    assert.ok(lines.some((l) => l.event === 'journal-unusable' && String(l.code).startsWith('SQLITE_READONLY')), JSON.stringify(lines.slice(-3)));
    assert.equal(fx.sandbox.ledger().orders.length, 0);
    d.journal.db.pragma('query_only = 0');
    await new Promise((res) => d.interaction.once('state', res)); // the fault result is over
    const again = next(d);
    d.hardware.scanner.emit('code', testCode('paid', 'wechat', `ro2${Date.now() % 100000}`));
    assert.equal((await again).result.kind, 'approved');
  });
});

// Why the -wal is watched at all: SQLite's own behaviour, on the real file system. A process keeps writing to the
// -wal it has open after the path was deleted; killed, everything committed since the last checkpoint is gone.
describe('SQLite: commits in a deleted -wal die with the process (why the daemon watches it)', function () {
  this.timeout(20_000);
  it('rows 2 and 3 committed, the -wal deleted, row 4 committed, kill -9: only row 1 (checkpointed before) is left', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wal-gone-'));
    const file = join(dir, 'j.sqlite');
    try {
      const script = `
        import Database from 'better-sqlite3';
        import { rmSync } from 'node:fs';
        const db = new Database(${JSON.stringify(file)});
        db.pragma('journal_mode = WAL');
        db.pragma('synchronous = FULL');
        db.exec('CREATE TABLE t (x)');
        db.prepare('INSERT INTO t VALUES (1)').run();
        db.pragma('wal_checkpoint(TRUNCATE)');
        db.prepare('INSERT INTO t VALUES (2)').run();
        db.prepare('INSERT INTO t VALUES (3)').run();
        rmSync(${JSON.stringify(file + '-wal')});
        db.prepare('INSERT INTO t VALUES (4)').run();
        process.kill(process.pid, 'SIGKILL');`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.equal(signal, 'SIGKILL', `exit ${code}`);
      const db = new Database(file, { readonly: true });
      try {
        assert.deepEqual(db.prepare('SELECT x FROM t ORDER BY x').all(), [{ x: 1 }]);
      } finally {
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
