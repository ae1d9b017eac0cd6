// The journal file and its -wal/-shm as files: never opened through a symlink, only a regular file this user owns,
// made 0600 through the descriptor; "permission denied" told apart from "no journal"; the schema version read
// without migrating; which file a path names now (a journal deleted, replaced or restored under the daemon).
import Database from 'better-sqlite3';
import { closeSync, constants, fchmodSync, fstatSync, lstatSync, openSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { JournalError } from './schema.js';

/**
 * A journal that is there but not ours to read (an admin user outside the kiosk user's 0700 folder) is
 * "permission denied", never "no journal here": existsSync cannot tell the two apart.
 */
export function assertReadable(file: string): void {
  try {
    statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new JournalError('PERMISSION', `${file}: permission denied: use sudo (the journal belongs to the kiosk user)`);
    throw new JournalError('NO_JOURNAL', `${file}: no journal here (check journal.path in the config, or --db)`);
  }
  // Opened, not access(2)'d: access checks the real uid, SQLite's open (next) the effective one.
  try {
    closeSync(openSync(file, constants.O_RDONLY | constants.O_NONBLOCK));
  } catch {
    throw new JournalError('PERMISSION', `${file}: permission denied: use sudo (the journal belongs to the kiosk user)`);
  }
}

/** The schema version of the journal at `path` (read-only, no migration): what `kiosk version` compares. */
export function journalSchemaVersion(path: string): number {
  const file = resolve(path);
  assertReadable(file);
  const db = new Database(file, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
}

/**
 * Opens `path` without following a symlink (creating it 0600 when `create`), checks it is a regular file owned
 * by this user, makes it 0600 through the descriptor, and returns its identity; undefined when it does not exist
 * and `create` is false.
 */
export function secureFile(path: string, create: boolean): FileId | undefined {
  let fd: number;
  try {
    fd = openSync(path, (create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY) | constants.O_NOFOLLOW | constants.O_NONBLOCK, 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (!create && e.code === 'ENOENT') return undefined;
    if (e.code === 'ELOOP') throw new JournalError('JOURNAL_SYMLINK', `${path} is a symbolic link: journal.path must name the journal file itself (nothing was changed)`);
    if (e.code === 'EISDIR') throw new JournalError('NOT_A_JOURNAL', `${path} is a folder: journal.path must name the journal file`);
    // Stryker disable next-line StringLiteral: Node's fs errors always carry a code; the fallback is for the type
    const code = e.code ?? 'JOURNAL_OPEN';
    throw new JournalError(code, `${path}: ${e.message}`);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new JournalError('NOT_A_JOURNAL', `${path} is not a regular file (a device, a pipe or a socket): not a journal (nothing was changed)`);
    // Stryker disable next-line ConditionalExpression: process.getuid exists on every POSIX system (not on Windows)
    const uid = typeof process.getuid === 'function' ? process.getuid() : st.uid;
    if (st.uid !== uid) {
      throw new JournalError('JOURNAL_NOT_OURS', `${path} belongs to uid ${st.uid}, not to the kiosk user (uid ${uid}): refusing to change its mode or write to it`);
    }
    const loose = (st.mode & 0o777) !== 0o600;
    // Stryker disable next-line ConditionalExpression: a chmod to the mode the file has changes nothing but its ctime
    if (loose) fchmodSync(fd, 0o600);
    return idOf(fstatSync(fd, { bigint: true }));
  } finally {
    closeSync(fd);
  }
}

/**
 * A file's identity, exact: inode numbers are 64-bit and a JavaScript number holds 53 bits. Large ones are real
 * (an overlay root, as Raspberry Pi OS's read-only "overlay file system" mode makes, sets the top bits; btrfs, XFS,
 * NFS), and two of them can round to the same number: a journal replaced under the daemon would pass as "same".
 */
export interface FileId {
  dev: bigint;
  ino: bigint;
}

export const idOf = (st: { dev: bigint; ino: bigint }): FileId => ({ dev: st.dev, ino: st.ino });

/** The journal file and its -wal/-shm as a writable connection opened them (null: not there at open). */
export interface HeldFiles {
  main: FileId;
  wal: FileId | null;
  shm: FileId | null;
}

/** The identity of the file at `path`, or null when there is none. */
export function fileIdAt(path: string): FileId | null {
  try {
    return idOf(lstatSync(path, { bigint: true }));
  } catch {
    return null;
  }
}

/** Whether `path` still names the file `id` ('same'), nothing ('gone') or another file ('other'); else the error. */
export function whereIs(path: string, id: FileId): string {
  try {
    const st = lstatSync(path, { bigint: true });
    return st.dev === id.dev && st.ino === id.ino ? 'same' : 'other';
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    return `${path}: ${(err as Error).message}`;
  }
}
