// Output shared by the technician's commands: aligned tables for people, JSON for machines,
// ✓/✗ check lines, money in yuan, and one set of exit codes so scripts can rely on them.

/**
 * Exit codes every technician command uses (docs/operations.md, "The technician's command line", lists them per
 * command).
 */
export const EXIT = {
  /** Everything checked out / all matched / done. */
  OK: 0,
  /** The command ran and found a problem (a failed check, a mismatch, an order left unfinished). */
  PROBLEM: 1,
  /** Bad input: unknown flag, unreadable or invalid config, malformed file. Nothing was concluded. */
  USAGE: 2,
  /** Refused: another process (the daemon) holds the journal or the hardware. */
  REFUSED: 3,
} as const;

/** Where a command writes; tests pass a capturing one. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: NodeJS.ProcessEnv;
  /** stderr is a terminal (progress bars only then). */
  errIsTTY: boolean;
  /** stdout is a terminal (colour-free anyway; kept for paging decisions). */
  outIsTTY: boolean;
}

export const processIo: Io = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  env: process.env,
  errIsTTY: Boolean(process.stderr.isTTY),
  outIsTTY: Boolean(process.stdout.isTTY),
};

/** An Io that records everything (tests and in-process callers). */
export function captureIo(env: NodeJS.ProcessEnv = {}): Io & { stdout: () => string; stderr: () => string } {
  let o = '';
  let e = '';
  return {
    out: (t) => void (o += t),
    err: (t) => void (e += t),
    env,
    errIsTTY: false,
    outIsTTY: false,
    stdout: () => o,
    stderr: () => e,
  };
}

export type Cell = string | number | null | undefined;

/**
 * Aligned columns: numbers right-aligned, text left-aligned, a dashed rule under the header.
 * An empty table prints the header and "(none)" so the reader knows the query ran.
 */
export function table(head: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const text = rows.map((r) => head.map((_, i) => cellText(r[i])));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => r[i] == null || typeof r[i] === 'number' || /^-?[0-9]+(\.[0-9]+)?$/.test(String(r[i]))));
  const widths = head.map((h, i) => Math.max(h.length, ...text.map((t) => t[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [head.map((h, i) => (numeric[i] ? h.padStart(widths[i]!) : h.padEnd(widths[i]!))).join('  ').trimEnd(), widths.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)];
  if (rows.length === 0) out.push('(none)');
  return out.join('\n') + '\n';
}

function cellText(c: Cell): string {
  if (c === null || c === undefined) return '-';
  return String(c);
}

/** `label: value` pairs with the labels aligned. */
export function keyValues(pairs: readonly (readonly [string, Cell])[]): string {
  const w = Math.max(0, ...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${(k + ':').padEnd(w + 1)}  ${cellText(v)}`).join('\n') + '\n';
}

/** JSON for machines: one document, stable key order as built, newline-terminated. */
export function json(value: unknown): string {
  return JSON.stringify(value, null, 2) + '\n';
}

/** Integer fen as yuan with two decimals ("1234" → "12.34"); never floating-point arithmetic. */
export function yuan(fen: number | bigint): string {
  const n = BigInt(fen);
  const neg = n < 0n;
  const abs = neg ? -n : n;
  return `${neg ? '-' : ''}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}

/** One check's result: what was checked, whether it passed, what was seen, how to fix it. */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** What the technician should do; only for a failed check. */
  fix?: string;
  /** A check that could not run because an earlier one failed (shown as '-' with the reason; not a problem). */
  skipped?: boolean;
  /** A fact, neither a pass nor a problem (e.g. "daemon not running"): shown with '·', not '✓'. */
  info?: boolean;
}

export function checkLines(checks: readonly Check[]): string {
  const w = Math.max(0, ...checks.map((c) => c.name.length));
  const lines: string[] = [];
  for (const c of checks) {
    lines.push(`${c.info && c.ok ? '·' : c.ok ? '✓' : c.skipped ? '-' : '✗'} ${c.name.padEnd(w)}  ${c.detail}`);
    if (!c.ok && !c.skipped && c.fix) lines.push(`  ${' '.repeat(w)}  fix: ${c.fix}`);
  }
  return lines.join('\n') + '\n';
}

/** A duration in words, for "oldest waiting since …" lines. */
export function ago(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** A progress bar on one terminal line (stderr); a no-op when stderr is not a terminal. */
export function progressBar(io: Io, total: number, label: string): { tick(done: number, note?: string): void; end(): void } {
  if (!io.errIsTTY || total <= 0) return { tick: () => undefined, end: () => undefined };
  const width = 30;
  let last = '';
  return {
    tick(done, note) {
      const filled = Math.round((Math.min(done, total) / total) * width);
      const line = `\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}${note ? ' ' + note : ''}`;
      if (line !== last) io.err(line.padEnd(last.length));
      last = line;
    },
    end() {
      if (last) io.err('\n');
    },
  };
}

const FS_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or folder',
  EACCES: 'permission denied (run as the kiosk user, or with sudo)',
  EPERM: 'not permitted (run as the kiosk user, or with sudo)',
  EEXIST: 'already exists',
  ENOTDIR: 'a part of the path is not a folder',
  EISDIR: 'is a folder',
  EROFS: 'on a read-only file system',
  ENOSPC: 'the disk is full',
  ELOOP: 'too many symbolic links',
};

/** A file system error as a technician reads it: the path and what is wrong, not errno text. */
export function fsProblem(path: string, err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return `${path}: ${(e.code && FS_WORDS[e.code]) ?? e.message}`;
}
