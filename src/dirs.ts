// The folders the product makes (journal, settlement files, operator keys, dev rigs): one level at a time, bounded
// by the path's depth. Node's mkdir { recursive: true } never returns where mkdir answers ENOENT under a folder that
// exists (/proc, /sys: it retries the same call for ever, at full CPU, on the daemon's event loop). And a pseudo
// filesystem is never a place for the kiosk's files: the config check refuses one by name (pseudoFolder).
import { mkdirSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Kernel filesystems that hold no files of ours (statfs f_type): proc, sysfs, devpts, cgroup(2), debugfs, … */
const PSEUDO_TYPES: ReadonlyMap<number, string> = new Map([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
]);

/** Where the kernel's own trees are mounted on Linux (the device nodes' /dev included: a RAM filesystem). */
const PSEUDO_ROOTS = ['/proc', '/sys', '/dev'];

/** The nearest folder of `path` (itself or an ancestor) that exists; undefined when none can be read. */
function nearestExisting(path: string): string | undefined {
  for (let d = resolve(path); ; d = dirname(d)) {
    try {
      statSync(d);
      return d;
    } catch {
      if (dirname(d) === d) return undefined;
    }
  }
}

/**
 * Why `dir` cannot hold the kiosk's files because it is in a kernel pseudo filesystem (/proc, /sys, /dev or one of
 * those mounted elsewhere), or undefined. `probe: false`: by the name only (nothing on the disk is looked at).
 */
export function pseudoFolder(dir: string, opts: { probe?: boolean } = {}): string | undefined {
  const abs = resolve(dir);
  const root = PSEUDO_ROOTS.find((r) => abs === r || abs.startsWith(`${r}/`));
  if (root) return `is under ${root}, a kernel pseudo filesystem that holds no files of ours: choose a folder on the SD card (e.g. under the journal's folder)`;
  if (opts.probe === false) return undefined;
  const existing = nearestExisting(abs);
  if (!existing) return undefined;
  let type: number;
  try {
    type = statfsSync(existing).type;
  } catch {
    return undefined;
  }
  const name = PSEUDO_TYPES.get(type);
  return name ? `is on a ${name} filesystem (${existing}), a kernel pseudo filesystem that holds no files of ours: choose a folder on the SD card` : undefined;
}

/**
 * `mkdir -p` with `mode` for each folder it makes, one level at a time: at most as many calls as the path has
 * levels. Throws the first error (with its errno code) instead of retrying; a folder already there is fine.
 */
export function makeDirs(dir: string, mode = 0o700): void {
  const abs = resolve(dir);
  const missing: string[] = [];
  for (let d = abs; ; d = dirname(d)) {
    try {
      if (!statSync(d).isDirectory()) throw Object.assign(new Error(`ENOTDIR: ${d} is not a folder`), { code: 'ENOTDIR', path: d });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(d) === d) throw err;
      missing.push(d);
    }
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
}
