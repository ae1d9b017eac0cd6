// Single-instance lock: two daemons on one journal would drive the same hardware and race on the same
// orders. The lock is a kernel advisory lock (flock(2), exclusive) held on an open file descriptor for the
// daemon's whole life: the kernel releases it when the process dies (crash, SIGKILL, power cut), so there is
// no stale lock to judge, and a pid that lives on after a reboot (our own, or any node process) blocks nothing.
// Node has no flock: it is called from libc through koffi (installed; prebuilt for Linux arm/arm64/x64).
// Why not SQLite's own locks on a lock database: fcntl locks belong to the process and vanish when any fd of
// the file is closed in it, and a lock file that is a database is a file more to get wrong; flock is one call.
//
// The file holds the owner's pid, for people (`kiosk status`). It is never deleted and never chmod'ed, and a
// file that is not a lock file (anything but empty or a pid, not a regular file, not ours) is refused untouched.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';

export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD';
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`another kiosk daemon (${pid > 0 ? `pid ${pid}` : 'pid unknown'}) holds the journal lock ${lockFile}: stop it first (pm2 stop kiosk / systemctl stop kiosk)`);
    this.name = 'LockHeldError';
  }
}

/** The lock file cannot be used as one (not a regular file, not ours, holds something else): nothing was changed. */
export class LockFileError extends Error {
  readonly code = 'LOCK_FILE';
  constructor(
    readonly lockFile: string,
    message: string,
  ) {
    super(`daemon.lockFile ${lockFile}: ${message}`);
    this.name = 'LockFileError';
  }
}

export interface InstanceLock {
  readonly file: string;
  release(): void;
}

const LOCK_SH = 1;
const LOCK_EX = 2;
const LOCK_NB = 4;
const LOCK_UN = 8;
const EWOULDBLOCK = new Set([11, 35]); // EAGAIN on Linux, EWOULDBLOCK on BSD/macOS

type Flock = (fd: number, op: number) => number;
let flockFn: { call: Flock; errno: () => number } | undefined;

/** flock(2) from libc, loaded once. */
function flock(): { call: Flock; errno: () => number } {
  if (flockFn) return flockFn;
  const require = createRequire(import.meta.url);
  const koffi = require('koffi') as { load(name: string): { func(sig: string): Flock }; errno(): number };
  let lastErr: unknown;
  for (const name of ['libc.so.6', 'libc.so', '/usr/lib/libSystem.B.dylib']) {
    try {
      const lib = koffi.load(name);
      flockFn = { call: lib.func('int flock(int fd, int operation)'), errno: () => koffi.errno() };
      return flockFn;
    } catch (err) {
      lastErr = err;
    }
  }
  throw new Error(`cannot load flock() from the C library: ${(lastErr as Error)?.message}`);
}

const MAX_LOCK_BYTES = 32;

/** What the lock file says (a pid, or nothing); undefined when it holds something that is not a lock file's. */
function readPid(fd: number): { pid: number } | undefined {
  const buf = Buffer.alloc(MAX_LOCK_BYTES + 1);
  const n = readSync(fd, buf, 0, buf.length, 0);
  if (n > MAX_LOCK_BYTES) return undefined;
  const text = buf.subarray(0, n).toString('latin1');
  if (text.trim() === '') return { pid: 0 };
  return /^\s*[0-9]{1,10}\s*$/.test(text) ? { pid: Number(text.trim()) } : undefined;
}

/** Opens the lock file without following a symlink, and checks it is a lock file we own. */
function openLockFile(file: string, create: boolean): number {
  const flags = (create ? constants.O_RDWR | constants.O_CREAT : constants.O_RDONLY) | constants.O_NOFOLLOW | constants.O_NONBLOCK; // libuv adds O_CLOEXEC
  let fd: number;
  try {
    fd = openSync(file, flags, 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') throw new LockFileError(file, 'is a symbolic link: give the lock file itself (e.g. /var/lib/kiosk/kiosk.lock)');
    if (e.code === 'EISDIR') throw new LockFileError(file, 'is a folder: give a file name in it (e.g. /var/lib/kiosk/kiosk.lock)');
    if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') throw new LockFileError(file, `cannot be opened for writing (${e.code}): it must be a file in a folder the kiosk user owns`);
    throw err;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new LockFileError(file, 'is not a regular file (a device, a socket or a pipe): give a lock file name in the journal folder');
    if (create && typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new LockFileError(file, `belongs to uid ${st.uid}, not to the kiosk user (uid ${process.getuid()}): refusing to write into someone else's file`);
    }
    if (readPid(fd) === undefined) throw new LockFileError(file, `holds ${st.size} bytes that are not a pid: it is not a lock file (is it the journal, the config or a key?); nothing was changed`);
    return fd;
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

/**
 * Takes the lock or throws LockHeldError (another process holds it) or LockFileError (the path is not a usable
 * lock file; nothing was written). A status probe may hold the lock for an instant: a few tries over ~1 s.
 */
export function acquireLock(file: string): InstanceLock {
  const fl = flock();
  const fd = openLockFile(file, true);
  try {
    // `kiosk status` probes with a shared lock for microseconds: a few quick tries before giving up.
    for (let attempt = 0; ; attempt++) {
      if (fl.call(fd, LOCK_EX | LOCK_NB) === 0) break;
      const errno = fl.errno();
      if (!EWOULDBLOCK.has(errno)) throw new Error(`flock ${file}: errno ${errno}`);
      if (attempt >= 4) throw new LockHeldError(file, readPid(fd)?.pid ?? 0);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  let released = false;
  return {
    file,
    release() {
      if (released) return;
      released = true;
      // Closing the descriptor releases the lock. The file stays: deleting it would race with a starter that
      // has it open, and the daemon never deletes a file by name.
      try {
        fl.call(fd, LOCK_UN);
      } finally {
        closeSync(fd);
      }
    },
  };
}

export interface LockState {
  /** A process holds the lock now. */
  held: boolean;
  /** The pid written in the file (by the holder, or by the last holder when not held). */
  pid?: number;
  /** Why the file could not be read as a lock file. */
  problem?: string;
}

/** Whether a daemon holds the lock (a non-blocking shared flock, released at once), without creating the file. */
export function lockState(file: string): LockState {
  let fd: number;
  try {
    fd = openLockFile(file, false);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { held: false };
    return { held: false, problem: (err as Error).message };
  }
  try {
    const pid = readPid(fd)?.pid;
    const fl = flock();
    if (fl.call(fd, LOCK_SH | LOCK_NB) === 0) {
      fl.call(fd, LOCK_UN);
      return { held: false, ...(pid ? { pid } : {}) };
    }
    return { held: true, ...(pid ? { pid } : {}) };
  } finally {
    closeSync(fd);
  }
}
