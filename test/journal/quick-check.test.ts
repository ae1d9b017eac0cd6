// The remote selftest's journal check (src/journal/quick-check-worker.ts): quick_check in a worker thread, on a
// read-only connection of its own, while the daemon's connection stays open and writing.
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openJournal } from '../../src/journal/journal.js';
import { quickCheckFile } from '../../src/journal/reader.js';

describe('journal quick_check off the event loop', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-qc-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('answers ok for a sound journal that the daemon keeps open, and the main thread turns meanwhile', async () => {
    const j = openJournal(join(dir, 'journal.db'));
    try {
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      const answer = await j.quickCheckOffThread();
      clearInterval(ticker);
      assert.equal(answer, 'ok');
      assert.equal(answer, j.quickCheck(), 'the same verdict as on the main connection');
      assert.ok(turns > 0, 'the event loop was free while the worker checked');
    } finally {
      j.close();
    }
  });

  it('a journal that cannot be opened: said, never thrown (in the worker nothing would catch it)', async () => {
    const gone = join(dir, 'gone.db');
    assert.equal(quickCheckFile(gone), 'could not check: unable to open database file');
    const j = openJournal(gone);
    try {
      rmSync(gone);
      assert.equal(await j.quickCheckOffThread(), 'could not check: unable to open database file');
    } finally {
      j.close();
    }
  });

  it('names what is wrong when the file under the open journal is damaged, instead of answering ok', async () => {
    const file = join(dir, 'journal.db');
    openJournal(file).close();
    // More pages to damage than the schema's, all in the main file.
    const db = new Database(file);
    db.exec('CREATE TABLE filler(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < 2000) INSERT INTO filler SELECT randomblob(200) FROM n;');
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const j = openJournal(file);
    try {
      const size = statSync(file).size;
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(16384, 0xa5), 0, 16384, Math.floor(size / 2 / 4096) * 4096);
      closeSync(fd);
      const answer = await j.quickCheckOffThread();
      assert.notEqual(answer, 'ok');
      assert.equal(answer, quickCheckFile(file), 'the worker answers what the check says');
    } finally {
      j.close();
    }
  });
});
