// `kiosk logs [--file FILE | -] [--lines N] [--follow] [--json]`: the daemon's JSON log lines, readable.
// Source: `pm2 logs kiosk --raw` (default), a file (--file, e.g. a systemd journal export or a rotated
// pm2 log) or stdin (--file -). Every line is masked before printing with src/log.ts scrub (authCode,
// code, signature, privateKey fields) and, as a safety net, any payment-code-shaped digit run in text.
// Exit 0, 2 on bad input (no such file, pm2 missing).
import { closeSync, createReadStream, existsSync, openSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { prettyFactory } from 'pino-pretty';
import { maskText, scrub } from '../log.js';
import { parseCommand, UsageError } from './args.js';
import { CommandExit, runCommand } from './tech/context.js';
import { EXIT, processIo, type Io } from './tech/format.js';

export interface LogsOptions {
  /** stdin for `--file -` (tests pass a stream). */
  stdin?: Readable;
  /** The pm2 executable (default: `pm2` on PATH). */
  pm2?: string;
}

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, options: LogsOptions = {}): Promise<number> {
  return runCommand(io, () => logs(argv, io, options));
}


/** One log line made safe: a JSON object through scrub (fields by name, code-shaped text anywhere); other lines through the text net. */
export function maskLine(line: string): { json?: Record<string, unknown>; text: string } {
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

  let input: Readable;
  let child: ReturnType<typeof spawn> | undefined;
  if (file === '-') input = options.stdin ?? process.stdin;
  else if (file !== undefined) {
    if (!existsSync(file)) throw new CommandExit(EXIT.USAGE, `${file}: no such file`);
    // A device never ends a line (readline would fill memory and crash); pipes come in through --file -.
    const st = statSync(file);
    if (st.isDirectory()) throw new CommandExit(EXIT.USAGE, `${file}: is a folder`);
    if (!st.isFile()) throw new CommandExit(EXIT.USAGE, `${file}: not a regular file (a pipe: --file -)`);
    try {
      closeSync(openSync(file, 'r')); // a permission problem as a clear answer, before streaming
    } catch (err) {
      throw new CommandExit(EXIT.USAGE, `${file}: ${(err as Error).message}`);
    }
    input = createReadStream(file);
  } else {
    const pm2Args = ['logs', 'kiosk', '--raw', '--lines', lines, ...(args.flags.follow ? [] : ['--nostream'])];
    child = spawn(options.pm2 ?? 'pm2', pm2Args, { stdio: ['ignore', 'pipe', 'pipe'] });
    input = child.stdout!;
    // pm2 writes error lines to stderr in raw mode: they carry log text too, so they are masked the same way.
    createInterface({ input: child.stderr! }).on('line', (l) => io.err(maskLine(l).text + '\n'));
  }
  const pretty = args.flags.json ? undefined : prettyFactory({ colorize: io.outIsTTY, translateTime: 'SYS:standard', ignore: 'hostname' });
  const rl = createInterface({ input, crlfDelay: Infinity });
  const spawnFailed = child
    ? new Promise<string | null>((resolve) => {
        child!.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? `${options.pm2 ?? 'pm2'} not found: is pm2 installed (npm i -g pm2)? Or read a file: kiosk logs --file FILE` : err.message));
        child!.once('close', () => resolve(null));
      })
    : Promise.resolve(null);
  for await (const line of rl) {
    if (!line.trim()) continue;
    const safe = maskLine(line);
    if (pretty && safe.json) io.out(pretty(safe.json));
    else io.out(safe.text + '\n');
  }
  const failure = await spawnFailed;
  if (failure) throw new CommandExit(EXIT.USAGE, failure);
  return EXIT.OK;
}
