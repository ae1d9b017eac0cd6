// Opening the journal (src/journal/journal.ts openJournal, files.ts) and the files it holds: the settings of the
// connection, its run row, the refusals of a newer/older/locked/foreign file, what it says when the journal (or its
// -wal/-shm) is deleted or replaced under it, a close that never deletes a file it did not make, the rescue copy,
// the WAL purge that takes erased codes out of the file, and reads that write nothing. About 440 lines: each of these
// needs files set up its own way, and they share the folder and the helpers above the first test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Journal, JournalError, journalSchemaVersion, openJournal, SCHEMA_VERSION, type NewOrder } from '../../src/journal/journal.js';
import { fileIdAt, secureFile } from '../../src/journal/files.js';
import { quickCheckFile } from '../../src/journal/reader.js';
import { migrate } from '../../src/journal/schema.js';
import { unprivileged } from '../unprivileged.js';

const order = (code = '134567890123456789'): NewOrder => ({
  deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: '150', orderType: 'wechat', authCode: code, authMask: 'm',
  goodsId: 'G', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: '2026-06-01T10:00:00.000Z',
});
const refused = (code: string, message?: string | RegExp) => (e: unknown) =>
  e instanceof JournalError && e.name === 'JournalError' && e.code === code && (message === undefined || (typeof message === 'string' ? e.message === message : message.test(e.message)));

describe('journal: opening it, and the files it holds', () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'journal-open-'));
    file = join(dir, 'journal.db');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** The files of this test's folder that this process has open. */
  const fds = () =>
    readdirSync('/proc/self/fd')
      .map((fd) => {
        try {
          return readlinkSync(`/proc/self/fd/${fd}`);
        } catch {
          return '';
        }
      })
      .filter((f) => f.startsWith(dir))
      .sort();

  it('a writable connection: busy timeout (5 s unless told), a 2 MB page cache, foreign keys on; its run is listed with where its sequence starts', () => {
    const before = Date.now();
    const j = openJournal(file);
    try {
      assert.deepEqual([j.db.pragma('busy_timeout', { simple: true }), j.db.pragma('cache_size', { simple: true }), j.db.pragma('foreign_keys', { simple: true })], [5000, -2000, 1]);
      j.createOrder(order());
      const [run] = j.identity().runs;
      assert.deepEqual([run!.runId, run!.firstSeq, run!.pid], [j.runId, 1, process.pid]);
      assert.ok(Date.parse(run!.openedAt) >= before - 1 && Date.parse(run!.openedAt) <= Date.now(), run!.openedAt);
    } finally {
      j.close();
    }
    const k = openJournal(file, { busyTimeoutMs: 1234 });
    try {
      assert.equal(k.db.pragma('busy_timeout', { simple: true }), 1234);
      assert.deepEqual(k.identity().runs.map((r) => r.firstSeq), [1, 2]);
    } finally {
      k.close();
    }
    const ro = openJournal(file, { readonly: true, busyTimeoutMs: 777 });
    try {
      assert.equal(ro.db.pragma('busy_timeout', { simple: true }), 777);
      assert.equal(ro.runId, null);
      assert.equal(ro.db.readonly, true, 'a read-only connection');
    } finally {
      ro.close();
    }
    const ro2 = openJournal(file, { readonly: true });
    try {
      assert.equal(ro2.db.pragma('busy_timeout', { simple: true }), 5000);
    } finally {
      ro2.close();
    }
  });

  it('makes a missing folder 0700 (every level); leaves an existing folder as it is', () => {
    const shared = join(dir, 'shared');
    mkdirSync(shared, { mode: 0o755 });
    chmodSync(shared, 0o755);
    openJournal(join(shared, 'a', 'b', 'journal.db')).close();
    assert.equal(statSync(shared).mode & 0o777, 0o755);
    assert.equal(statSync(join(shared, 'a')).mode & 0o777, 0o700);
    assert.equal(statSync(join(shared, 'a', 'b')).mode & 0o777, 0o700);
    openJournal(join(shared, 'journal.db')).close();
    assert.equal(statSync(shared).mode & 0o777, 0o755);
  });

  it('read-only: a newer schema and an older one are refused, naming the file and what to do', () => {
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(
      () => openJournal(file, { readonly: true }),
      refused('JOURNAL_TOO_NEW', `${file}: journal schema version ${SCHEMA_VERSION + 1} is newer than this program knows (${SCHEMA_VERSION}); use the newer kiosk version`),
    );
    assert.throws(
      () => openJournal(file),
      refused('JOURNAL_TOO_NEW', `${file}: journal schema version ${SCHEMA_VERSION + 1} is newer than this program knows (${SCHEMA_VERSION}); install the newer kiosk version or restore a matching backup`),
    );
    const old = join(dir, 'old.db');
    const o = new Database(old);
    o.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    o.close();
    assert.throws(
      () => openJournal(old, { readonly: true }),
      refused('JOURNAL_VERSION', `${old}: journal schema version ${SCHEMA_VERSION - 1}, this program reads version ${SCHEMA_VERSION} (start the daemon once to migrate it, or use the matching kiosk version)`),
    );
    assert.equal(journalSchemaVersion(old), SCHEMA_VERSION - 1, 'nothing migrated it');
    assert.throws(() => journalSchemaVersion(join(dir, 'none.db')), refused('NO_JOURNAL', `${join(dir, 'none.db')}: no journal here (check journal.path in the config, or --db)`));
    assert.throws(() => openJournal(join(dir, 'none.db'), { readonly: true }), refused('NO_JOURNAL'));
    assert.ok(!existsSync(join(dir, 'none.db')), 'a read-only open creates nothing');
  });

  it('a journal that is there but not ours to read is "permission denied", never "no journal here"', () => {
    const closed = join(dir, 'closed');
    mkdirSync(closed);
    openJournal(join(closed, 'journal.db')).close();
    chmodSync(closed, 0o000);
    openJournal(file).close();
    chmodSync(file, 0o000);
    chmodSync(dir, 0o711);
    const denied = (f: string) => refused('PERMISSION', `${f}: permission denied: use sudo (the journal belongs to the kiosk user)`);
    try {
      unprivileged(() => {
        // The folder cannot be searched: stat says EACCES.
        assert.throws(() => openJournal(join(closed, 'journal.db'), { readonly: true }), denied(join(closed, 'journal.db')));
        // The file is seen but cannot be read.
        assert.throws(() => openJournal(file, { readonly: true }), denied(file));
        assert.throws(() => journalSchemaVersion(file), denied(file));
      });
    } finally {
      chmodSync(closed, 0o700);
      chmodSync(dir, 0o700);
    }
  });

  it('a path the kernel refuses with EPERM (not by its mode) is "permission denied" too', () => {
    // Following a /proc/self/map_files link takes a capability no unprivileged process has: stat says EPERM.
    const link = `/proc/self/map_files/${readdirSync('/proc/self/map_files')[0]}`;
    unprivileged(() => {
      assert.throws(() => statSync(link), (e: NodeJS.ErrnoException) => e.code === 'EPERM');
      assert.throws(() => journalSchemaVersion(link), refused('PERMISSION', `${link}: permission denied: use sudo (the journal belongs to the kiosk user)`));
      assert.throws(() => openJournal(link, { readonly: true }), refused('PERMISSION'));
    });
  });

  it('reading a journal (its version, a read-only connection, quick_check) writes nothing to it and leaves no file open', () => {
    // A copy of a journal with its -wal, as after a power cut: a writing connection's close would checkpoint the -wal
    // into the file and delete it.
    const j = openJournal(join(dir, 'live.db'));
    j.createOrder(order());
    copyFileSync(join(dir, 'live.db'), file);
    copyFileSync(join(dir, 'live.db-wal'), `${file}-wal`);
    j.close();
    const bytes = () => [readFileSync(file), readFileSync(`${file}-wal`)];
    const before = bytes();
    assert.equal(journalSchemaVersion(file), SCHEMA_VERSION);
    assert.deepEqual(fds(), [], 'the version is read on a connection closed after');
    assert.equal(quickCheckFile(file), 'ok');
    assert.deepEqual(fds(), [], 'quick_check on a connection closed after');
    const ro = openJournal(file, { readonly: true });
    assert.equal(ro.get(ro.list()[0]!.orderNo)!.state, 'created', 'the order is in the -wal');
    ro.close();
    assert.deepEqual(bytes(), before);
  });

  it('a refused open leaves no file open behind it; an error that is not SQLite\'s passes unchanged', () => {
    const old = join(dir, 'old.db');
    const o = new Database(old);
    o.pragma(`user_version = ${SCHEMA_VERSION - 1}`);
    o.close();
    const newer = join(dir, 'newer.db');
    const n = new Database(newer);
    n.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    n.close();
    openJournal(file).close();
    const other = new Database(file);
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      const before = fds();
      assert.throws(() => openJournal(old, { readonly: true }), refused('JOURNAL_VERSION'));
      assert.throws(() => openJournal(newer, { readonly: true }), refused('JOURNAL_TOO_NEW'));
      assert.deepEqual(fds(), before, 'the refused read-only connections are closed');
      // (SQLite keeps a closed connection's descriptor while another connection of this process locks that file.)
      assert.throws(() => openJournal(file, { busyTimeoutMs: 0 }), refused('SQLITE_BUSY'));
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    assert.deepEqual(fds(), [], 'the refused writable connection is closed');
    // A setting SQLite cannot take (here a busy timeout that is no number): better-sqlite3's own error, as it is.
    assert.throws(() => openJournal(file, { busyTimeoutMs: '1; SELECT 1' as never }), (e: unknown) => e instanceof RangeError && /more than one statement/.test(e.message));
  });

  it('a journal another connection holds locked: SQLite\'s code with the file named (after the busy timeout)', () => {
    openJournal(file).close();
    const other = new Database(file);
    other.prepare('BEGIN IMMEDIATE').run();
    try {
      assert.throws(() => openJournal(file, { busyTimeoutMs: 0 }), refused('SQLITE_BUSY', `${file}: database is locked`));
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
  });

  it('the file itself: a folder, a fifo, a path through a file are refused by name; a loose mode is made 0600; a missing side file is no error', () => {
    mkdirSync(join(dir, 'folder.db'));
    assert.throws(() => openJournal(join(dir, 'folder.db')), refused('NOT_A_JOURNAL', `${join(dir, 'folder.db')} is a folder: journal.path must name the journal file`));
    execFileSync('mkfifo', [join(dir, 'fifo.db')]);
    assert.throws(() => openJournal(join(dir, 'fifo.db')), refused('NOT_A_JOURNAL', `${join(dir, 'fifo.db')} is not a regular file (a device, a pipe or a socket): not a journal (nothing was changed)`));
    writeFileSync(join(dir, 'plain'), '');
    assert.throws(() => openJournal(join(dir, 'plain', 'journal.db')), refused('ENOTDIR', /^.*plain\/journal\.db: ENOTDIR/));
    assert.equal(secureFile(join(dir, 'absent-wal'), false), undefined);
    assert.throws(() => secureFile(join(dir, 'plain', 'x'), false), refused('ENOTDIR'));
    writeFileSync(join(dir, 'loose'), '', { mode: 0o644 });
    chmodSync(join(dir, 'loose'), 0o644);
    const id = secureFile(join(dir, 'loose'), false)!;
    assert.equal(statSync(join(dir, 'loose')).mode & 0o777, 0o600);
    assert.deepEqual(id, fileIdAt(join(dir, 'loose')));
  });

  it('a damaged journal is "not a journal", with SQLite\'s reason and what to check', () => {
    const db = new Database(file);
    db.exec('CREATE TABLE a(x); CREATE TABLE b(y);');
    db.close();
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(200, 0x41), 0, 200, 100);
    closeSync(fd);
    assert.throws(() => openJournal(file), refused('NOT_A_JOURNAL', `${file}: not a journal (database disk image is malformed); check journal.path`));
  });

  it('migrates one version per transaction: a step that fails leaves the journal at the version before, with none of that step written', () => {
    // A v3 journal that already has a `runs` table (made by hand): the v3 → v4 step fails on it.
    const db = new Database(file);
    migrate(db, file, 3);
    db.exec('CREATE TABLE runs (x)');
    db.close();
    assert.throws(() => openJournal(file), refused('NOT_A_JOURNAL', /table runs already exists/));
    const after = new Database(file, { readonly: true });
    try {
      assert.equal(after.pragma('user_version', { simple: true }), 3);
      assert.equal((after.prepare(`SELECT count(*) AS n FROM meta WHERE key IN ('journalId', 'createdAt')`).get() as { n: number }).n, 0);
    } finally {
      after.close();
    }
  });

  it('migrating to a version below the journal\'s changes nothing (a journal is never taken back)', () => {
    openJournal(file).close();
    const db = new Database(file);
    try {
      migrate(db, file, 3);
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    } finally {
      db.close();
    }
  });

  it('a journal without orders migrated to v4 is born at its migration', () => {
    const db = new Database(file);
    migrate(db, file, 3);
    db.close();
    const before = new Date().toISOString();
    const j = openJournal(file);
    try {
      const { createdAt } = j.identity();
      assert.ok(createdAt! >= before && createdAt! <= new Date().toISOString(), createdAt!);
    } finally {
      j.close();
    }
  });

  describe('the files held by a writable connection (whereabouts)', () => {
    const after = 'new payments are refused; unfinished orders are finished in the open file; restart the daemon once they are (kiosk status)';

    it('the journal deleted: said, and a new order is refused with nothing written; an unfinished one is finished in the open file', () => {
      const j = openJournal(file);
      try {
        const o = j.createOrder(order());
        assert.equal(j.whereabouts(), null);
        rmSync(file);
        const why = `${file} was deleted (or moved away) while the daemon has it open: ${after}`;
        assert.equal(j.whereabouts(), why);
        assert.throws(() => j.createOrder(order('134567890123456780')), refused('JOURNAL_GONE', why));
        assert.equal((j.db.prepare('SELECT count(*) AS n FROM orders').get() as { n: number }).n, 1);
        j.transition(o.orderNo, [{ from: 'created', to: 'failed', event: { kind: 'answer', cause: 'declined' } }], 't');
        assert.equal(j.get(o.orderNo)!.state, 'failed');
      } finally {
        j.close();
      }
    });

    it('the journal replaced by another file, or its folder by a file: said', () => {
      const j = openJournal(file);
      try {
        writeFileSync(join(dir, 'other.db'), '');
        renameSync(join(dir, 'other.db'), file);
        assert.equal(j.whereabouts(), `${file} is now another file than the journal the daemon has open (replaced or restored while it ran): ${after}`);
      } finally {
        j.close();
      }
      const sub = join(dir, 'sub');
      const k = openJournal(join(sub, 'journal.db'));
      try {
        renameSync(sub, join(dir, 'moved'));
        writeFileSync(sub, '');
        assert.match(k.whereabouts()!, new RegExp(`^${sub}/journal\\.db: ENOTDIR`));
      } finally {
        k.close();
      }
    });

    it('its -wal deleted, its -shm replaced: said, naming which and what it holds', () => {
      const j = openJournal(file);
      try {
        rmSync(`${file}-wal`);
        assert.equal(j.whereabouts(), `${file}-wal (the journal's write-ahead log: the latest transitions, not yet in the journal file) was deleted (or moved away) while the daemon has it open: ${after}`);
      } finally {
        j.close();
      }
      const k = openJournal(file);
      try {
        writeFileSync(join(dir, 'shm'), '');
        renameSync(join(dir, 'shm'), `${file}-shm`);
        assert.equal(
          k.whereabouts(),
          `${file}-shm (the journal's shared-memory index: what readers and writers of the journal agree on) is now another file than the one the daemon has open (replaced or restored while it ran): ${after}`,
        );
      } finally {
        k.close();
      }
    });

    it('side files that were not there at open are not watched', () => {
      const j = openJournal(file);
      const k = new Journal(j.db, file, false, 'abcdefghjk', { main: fileIdAt(file)!, wal: null, shm: null });
      rmSync(`${file}-wal`);
      rmSync(`${file}-shm`);
      assert.equal(k.whereabouts(), null);
      j.close();
    });
  });

  describe('close', () => {
    it('closes once; a second close is nothing', () => {
      const j = openJournal(file);
      assert.equal(j.close(), null);
      assert.equal(j.db.open, false);
      assert.equal(j.close(), null);
      assert.equal(j.purgeWal(), false, 'nothing to purge on a closed connection');
      // A -wal put there after the close is no business of this connection.
      writeFileSync(`${file}-wal`, 'restored');
      assert.equal(j.close(), null);
    });

    it('a -wal and -shm that are not the ones it made are not deleted: the connection is left open and the reason returned', () => {
      const j = openJournal(file);
      j.createOrder(order());
      for (const side of ['-wal', '-shm']) {
        writeFileSync(join(dir, `restored${side}`), `restored ${side}`);
        renameSync(join(dir, `restored${side}`), file + side);
      }
      assert.equal(j.close(), `${file}-wal and ${file}-shm: not the file(s) this connection made: the connection is left open so that SQLite's close does not delete them`);
      assert.equal(j.db.open, true);
      for (const side of ['-wal', '-shm']) assert.equal(readFileSync(file + side, 'utf8'), `restored ${side}`);
    });

    it('only the -shm foreign: named alone', () => {
      const j = openJournal(file);
      writeFileSync(join(dir, 'x'), 'x');
      renameSync(join(dir, 'x'), `${file}-shm`);
      assert.equal(j.close(), `${file}-shm: not the file(s) this connection made: the connection is left open so that SQLite's close does not delete them`);
      assert.equal(readFileSync(`${file}-shm`, 'utf8'), 'x');
    });

    it('a -wal deleted under it is no reason to stay open', () => {
      const j = openJournal(file);
      rmSync(`${file}-wal`);
      assert.equal(j.close(), null);
      assert.equal(j.db.open, false);
    });
  });

  it('saveCopy: a consistent 0600 copy in a new file, never over an existing file or through a link', () => {
    const j = openJournal(file);
    try {
      const o = j.createOrder(order());
      const copy = join(dir, 'rescue.db');
      const old = process.umask(0);
      try {
        j.saveCopy(copy);
      } finally {
        process.umask(old);
      }
      assert.equal(statSync(copy).mode & 0o777, 0o600);
      const c = new Database(copy, { readonly: true });
      assert.equal((c.prepare('SELECT order_no AS n FROM orders').get() as { n: string }).n, o.orderNo);
      c.close();
      writeFileSync(join(dir, 'empty.db'), '');
      assert.throws(() => j.saveCopy(join(dir, 'empty.db')), /EEXIST/);
      assert.equal(readFileSync(join(dir, 'empty.db'), 'utf8'), '');
      symlinkSync(join(dir, 'target'), join(dir, 'link.db'));
      assert.throws(() => j.saveCopy(join(dir, 'link.db')), /EEXIST|ELOOP/);
      assert.ok(!existsSync(join(dir, 'target')));
    } finally {
      j.close();
    }
  });

  it('purgeWal: truncates the WAL and notes when; false while a reader holds part of it', () => {
    const j = openJournal(file, { busyTimeoutMs: 50 });
    try {
      j.createOrder(order());
      const before = new Date().toISOString();
      assert.equal(j.purgeWal(), true);
      const started = (j.db.prepare(`SELECT value FROM meta WHERE key = 'walStartedAt'`).get() as { value: string }).value;
      assert.ok(started >= before && started <= new Date().toISOString(), started);
      const reader = new Database(file, { readonly: true });
      try {
        reader.prepare('BEGIN').run();
        reader.prepare('SELECT count(*) FROM orders').get();
        j.createOrder(order('134567890123456780'));
        assert.equal(j.purgeWal(), false);
        reader.prepare('COMMIT').run();
      } finally {
        reader.close();
      }
      assert.equal(j.purgeWal(), true);
    } finally {
      j.close();
    }
  });
});
