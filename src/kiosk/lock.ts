// Single-instance lock: two daemons on one journal would drive the same hardware and race on the
// same orders. The lock is a file created exclusively (O_EXCL) holding the owner's pid; a file whose
// pid is no longer a running kiosk process is stale (crash, SIGKILL, power cut) and is taken over.
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

export class LockHeldError extends Error {
  readonly code = 'LOCK_HELD';
  constructor(
    readonly lockFile: string,
    readonly pid: number,
  ) {
    super(`another kiosk daemon (pid ${pid}) holds the journal lock ${lockFile}: stop it first (pm2 stop kiosk / systemctl stop kiosk)`);
    this.name = 'LockHeldError';
  }
}

export interface InstanceLock {
  readonly file: string;
  release(): void;
}

/** Whether `pid` is a live process that could be a kiosk daemon (node), so its lock is not stale. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: alive, owned by someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // After a reboot the pid may belong to an unrelated process: only a node process counts.
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /node|kiosk/.test(cmdline);
  } catch {
    return true; // no /proc (not Linux): trust kill(0)
  }
}

/** Takes the lock or throws LockHeldError. Other I/O errors (missing folder, permissions) are thrown as they are. */
export function acquireLock(file: string): InstanceLock {
  for (let attempt = 0; attempt < 3; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let pid = NaN;
      try {
        pid = Number(readFileSync(file, 'utf8').trim());
      } catch (readErr) {
        if ((readErr as NodeJS.ErrnoException).code === 'ENOENT') continue; // released meanwhile
        throw readErr;
      }
      if (pid === process.pid) throw new LockHeldError(file, pid);
      if (pidAlive(pid)) throw new LockHeldError(file, pid);
      // Stale: remove and race again for the exclusive create (another starter may win; then it holds it).
      try {
        unlinkSync(file);
      } catch (unlinkErr) {
        if ((unlinkErr as NodeJS.ErrnoException).code !== 'ENOENT') throw unlinkErr;
      }
      continue;
    }
    writeSync(fd, `${process.pid}\n`);
    closeSync(fd);
    let released = false;
    return {
      file,
      release() {
        if (released) return;
        released = true;
        try {
          // Only remove our own lock: never one a successor took over.
          if (Number(readFileSync(file, 'utf8').trim()) === process.pid) unlinkSync(file);
        } catch {
          /* already gone */
        }
      },
    };
  }
  throw new Error(`could not take the lock ${file}: it keeps changing (several daemons starting at once?)`);
}
