// Permission tests in-process: a file that is there but not ours to read. Root reads everything, so when the tests
// run as root, the call runs with the effective uid of `nobody` (65534) and is switched back at once (the real uid
// stays 0); otherwise as the user itself, for whom a mode of 0 (file) or 0 (folder) is just as closed.

/** Calls `fn` without root's privileges over the file system (synchronous calls only: nothing else runs meanwhile). */
export function unprivileged<T>(fn: () => T): T {
  if (process.geteuid?.() !== 0 || !process.seteuid) return fn();
  process.seteuid(65534);
  try {
    return fn();
  } finally {
    process.seteuid(0);
  }
}
