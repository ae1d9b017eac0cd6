// File identities (src/journal/files.ts): exact 64-bit inode numbers. An overlay root (Raspberry Pi OS's read-only
// "overlay file system" mode), btrfs, XFS or NFS give inode numbers above 2^53, where two files' numbers can round
// to the same JavaScript number and a replaced journal would pass as the same file.
import assert from 'node:assert/strict';
import { lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileIdAt, secureFile, whereIs } from '../../src/journal/files.js';

describe('journal/files identities', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'kiosk-files-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('are the exact 64-bit numbers, so ids a double cannot tell apart are told apart', () => {
    const f = join(dir, 'j.db');
    const id = secureFile(f, true)!;
    const st = lstatSync(f, { bigint: true });
    assert.deepEqual(id, { dev: st.dev, ino: st.ino });
    assert.deepEqual(fileIdAt(f), id);
    assert.equal(whereIs(f, id), 'same');
    // 2^60 and 2^60 + 1 are one double: compared as numbers, the second file would be "the same".
    assert.equal(Number(2n ** 60n), Number(2n ** 60n + 1n));
    assert.equal(whereIs(f, { dev: st.dev, ino: st.ino + 1n }), 'other');
    // The same inode number on another file system (a journal restored onto another mount) is another file.
    assert.equal(whereIs(f, { dev: st.dev + 1n, ino: st.ino }), 'other');
    assert.equal(fileIdAt(join(dir, 'none')), null);
    assert.equal(whereIs(join(dir, 'none'), id), 'gone');
    writeFileSync(join(dir, 'other'), '');
    assert.equal(whereIs(join(dir, 'other'), id), 'other');
  });
});
