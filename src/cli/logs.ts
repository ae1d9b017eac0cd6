// `kiosk logs [--file FILE | -] [--lines N] [--follow] [--json] [--source journald|pm2]`: the daemon's JSON
// log lines, readable. Source, unless --file says: the install's own mode. A kiosk installed with
// --mode pm2 (/etc/systemd/system/kiosk-pm2.service) logs into pm2's files ($PM2_HOME/logs/kiosk-out.log
// and kiosk-error.log, read directly: pm2 need not be on PATH); otherwise journald (`journalctl -u kiosk`).
// pm2's `time: true` prefix ("2026-12-01T10:00:00: {...}") is taken off before a line is parsed. Every line
// is masked before printing with src/log.ts scrub (authCode, signature, privateKey fields) and, as a
// safety net, any payment-code-shaped digit run in text.
// Exit 0; 2 on bad input (no such file, no log where the mode says, permission denied: use sudo).
import { accessSync, closeSync, constants, createReadStream, existsSync, openSync, readdirSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { prettyFactory } from 'pino-pretty';
import { maskText, scrub } from '../log.js';
import { parseCommand, UsageError } from './args.js';
import { CommandExit, runCommand } from './tech/context.js';
import { EXIT, processIo, type Io } from './tech/format.js';

export interface LogsOptions {
  /** stdin for `--file -` (tests pass a stream). */
  stdin?: Readable;
  /** Where the units are installed (default /etc/systemd/system): kiosk-pm2.service there means pm2 mode. */
  unitDir?: string;
  /** journalctl (default /usr/bin/journalctl, else on PATH). */
  journalctl?: string;
  /** tail, for pm2's files and --follow (default /usr/bin/tail). */
  tail?: string;
  /** Where journald keeps its files (default /run/log/journal, /var/log/journal): none there, no journal. */
  journalDirs?: readonly string[];
}

const JOURNAL_DIRS = ['/run/log/journal', '/var/log/journal'];

/** journald's files exist in one of `dirs` (or one level down, per machine id); a folder we may not list counts. */
function journalPresent(dirs: readonly string[]): boolean {
  const has = (dir: string, depth: number): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      return (err as NodeJS.ErrnoException).code === 'EACCES'; // there, but not ours to read: journalctl says so
    }
    return entries.some((e) => (e.isFile() && /\.journal~?$/.test(e.name)) || (depth > 0 && e.isDirectory() && has(join(dir, e.name), depth - 1)));
  };
  return dirs.some((d) => has(d, 1));
}

/** pm2's `time: true` prefix, and `journalctl -o short-iso`'s: a timestamp, a colon, the line. */
const TIME_PREFIX = /^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?):\s(.*)$/;

const RUNNING = new Set<ReturnType<typeof spawn>>();

const firstExisting = (...paths: string[]) => paths.find((p) => existsSync(p)) ?? paths[paths.length - 1]!;

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: LogsOptions = {}): Promise<number> {
  return runCommand(io, () => logs(argv, io, options));
}


/**
 * One log line made safe: a JSON object through scrub (fields by name, code-shaped text anywhere); other lines through
 * the text net.
 */
export function maskLine(line: string): { json?: Record<string, unknown>; text: string } {
  const stamped = TIME_PREFIX.exec(line);
  if (stamped && stamped[2]!.trim().startsWith('{')) line = stamped[2]!;
  const trimmed = line.trim();
  if (trimmed.startsWith('{')) {
    try {
      const obj = scrub(JSON.parse(trimmed)) as Record<string, unknown>;
      return { json: obj, text: JSON.stringify(obj) };
    } catch {
      /* not JSON after all: treated as text */
    }
  }
  return { text: maskText(line) };
}

async function logs(argv: readonly string[], io: Io, options: LogsOptions): Promise<number> {
  const args = parseCommand('logs', argv);
  const lines = typeof args.flags.lines === 'string' ? args.flags.lines : '200';
  if (!/^[0-9]+$/.test(lines)) throw new UsageError(`--lines must be a whole number, got ${JSON.stringify(lines)}`);
  const file = typeof args.flags.file === 'string' ? args.flags.file : undefined;
  const follow = args.flags.follow === true;
  const unitDir = options.unitDir ?? '/etc/systemd/system';
  const sourceFlag = typeof args.flags.source === 'string' ? args.flags.source : undefined;
  if (sourceFlag !== undefined && sourceFlag !== 'journald' && sourceFlag !== 'pm2') throw new UsageError(`--source must be journald or pm2, got ${JSON.stringify(sourceFlag)}`);
  const tail = options.tail ?? firstExisting('/usr/bin/tail', '/bin/tail');

  let input: Readable;
  let child: ReturnType<typeof spawn> | undefined;
  let childName = '';
  /** Only the last N lines of a whole file (a ring, so a big rotated log is streamed, not loaded). */
  let lastOnly: number | undefined;
  /** Where a source that was not a file was looked for, for "nothing there" (exit 2). */
  let looked: string | undefined;
  const guessed = sourceFlag === undefined ? ` (the install's mode: no kiosk-pm2.service in ${unitDir})` : '';
  if (file === '-') input = options.stdin ?? process.stdin;
  else if (file !== undefined) {
    checkFile(file);
    if (follow) {
      child = spawn(tail, ['-n', lines, '-F', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      childName = tail;
      input = child.stdout!;
    } else {
      input = createReadStream(file);
      lastOnly = Number(lines);
    }
  } else if ((sourceFlag ?? (existsSync(join(unitDir, 'kiosk-pm2.service')) ? 'pm2' : 'journald')) === 'pm2') {
    // pm2's own files, read directly: pm2 is rarely on PATH, and `pm2 logs` cuts and reformats lines.
    const home = io.env.PM2_HOME || '/var/lib/kiosk/.pm2';
    const files = ['kiosk-out.log', 'kiosk-error.log'].map((f) => join(home, 'logs', f));
    const present = files.filter((f) => canRead(f, home));
    if (present.length === 0) throw new CommandExit(EXIT.USAGE, `no pm2 log of the kiosk in ${join(home, 'logs')} (PM2_HOME=${home}): has pm2 started it? Or read a file: kiosk logs --file FILE`);
    child = spawn(tail, ['-q', '-n', lines, ...(follow ? ['-F'] : []), ...present], { stdio: ['ignore', 'pipe', 'pipe'] });
    childName = tail;
    input = child.stdout!;
  } else {
    const journalctl = options.journalctl ?? firstExisting('/usr/bin/journalctl', '/bin/journalctl');
    const dirs = options.journalDirs ?? JOURNAL_DIRS;
    looked = `journald${guessed}`;
    if (existsSync(journalctl) && !journalPresent(dirs)) {
      throw new CommandExit(EXIT.USAGE, `no systemd journal on this machine (no journal files in ${dirs.join(' or ')}), so no kiosk log in ${looked}: read a file instead: kiosk logs --file FILE (or --file - from a pipe), or --source pm2`);
    }
    child = spawn(journalctl, ['-u', 'kiosk', '-o', 'cat', '--no-pager', '-n', lines, ...(follow ? ['-f'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
    childName = journalctl;
    input = child.stdout!;
  }
  let denied = false;
  if (child) {
    // The reader went away (kiosk logs --follow | head exits 141): stop the child too.
    if (RUNNING.size === 0) process.once('exit', () => RUNNING.forEach((c) => c.kill()));
    RUNNING.add(child);
    child.once('close', () => RUNNING.delete(child));
    createInterface({ input: child.stderr! }).on('line', (l) => {
      // journalctl as a user outside adm/systemd-journal: its hint, as ours.
      const hint = /insufficient permissions|Permission denied/i.test(l);
      denied ||= hint;
      if (hint) io.err(`kiosk: the kiosk's log: permission denied: use sudo (${maskText(l.trim())})\n`);
      else io.err(maskLine(l).text + '\n');
    });
  }
  const pretty = args.flags.json ? undefined : prettyFactory({ colorize: io.outIsTTY, translateTime: 'SYS:standard', ignore: 'hostname' });
  let printed = 0;
  const print = (line: string) => {
    if (!line.trim()) return;
    printed++;
    const safe = maskLine(line);
    if (pretty && safe.json) io.out(pretty(safe.json));
    else io.out(safe.text + '\n');
  };
  const rl = createInterface({ input, crlfDelay: Infinity });
  const spawnFailed = child
    ? new Promise<string | null>((resolve) => {
        child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? `${childName} not found: read a file instead: kiosk logs --file FILE (or --file - from a pipe)` : err.message));
        child.once('close', () => resolve(null));
      })
    : Promise.resolve(null);
  const ring: string[] = [];
  for await (const line of rl) {
    if (lastOnly === undefined) print(line);
    else if (lastOnly > 0 && line.trim()) {
      ring.push(line);
      if (ring.length > lastOnly) ring.shift();
    }
  }
  for (const line of ring) print(line);
  const failure = await spawnFailed;
  if (failure) throw new CommandExit(EXIT.USAGE, failure);
  if (looked && printed === 0 && !follow) {
    if (denied) throw new CommandExit(EXIT.USAGE, `no line of the kiosk readable in ${looked}: permission denied: use sudo`);
    throw new CommandExit(EXIT.USAGE, `no line of the kiosk in ${looked} (journalctl -u kiosk): the daemon has not logged there; in pm2 mode: --source pm2, or read a file: kiosk logs --file FILE`);
  }
  return EXIT.OK;
}

/** A log file to read: a clear answer for a missing file, a folder, a device, no permission. */
function checkFile(file: string): void {
  if (!existsSync(file)) {
    canRead(file, file); // throws "permission denied: use sudo" when the file is there but hidden from us
    throw new CommandExit(EXIT.USAGE, `${file}: no such file`);
  }
  // A device never ends a line (readline would fill memory and crash); pipes come in through --file -.
  const st = statSync(file);
  if (st.isDirectory()) throw new CommandExit(EXIT.USAGE, `${file}: is a folder`);
  if (!st.isFile()) throw new CommandExit(EXIT.USAGE, `${file}: not a regular file (a pipe: --file -)`);
  try {
    closeSync(openSync(file, 'r')); // a permission problem as a clear answer, before streaming
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandExit(EXIT.USAGE, code === 'EACCES' ? `${file}: permission denied: use sudo` : `${file}: ${(err as Error).message}`);
  }
}

/** Readable, or missing; throws "permission denied: use sudo" when this user may not look (pm2's home is 0700). */
function canRead(file: string, home: string): boolean {
  try {
    statSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw new CommandExit(EXIT.USAGE, `${home}: permission denied: use sudo`);
    return false;
  }
  try {
    accessSync(file, constants.R_OK);
    return true;
  } catch {
    throw new CommandExit(EXIT.USAGE, `${file}: permission denied: use sudo`);
  }
}
