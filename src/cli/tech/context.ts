// What every technician command starts with: the config (--config, $KIOSK_CONFIG, or
// /etc/kiosk/config.json), and the journal opened read-only. Problems become a clear message and an exit
// code, never a stack trace.
import { ConfigError, loadConfig, resolveConfigPath, type Config } from '../../config/index.js';
import { openJournal, JournalError, type Journal } from '../../journal/journal.js';
import { HelpRequest, UsageError, type ParsedArgs } from '../args.js';
import { EXIT, processIo, type Io } from './format.js';

/** Thrown inside a command to end it with a message and an exit code (caught by `runCommand`). */
export class CommandExit extends Error {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'CommandExit';
  }
}

export function configPath(args: ParsedArgs, io: Io): string {
  const flag = args.flags.config;
  return resolveConfigPath(typeof flag === 'string' ? flag : undefined, io.env);
}

/**
 * Loads and validates the config. `checkFiles: false` for commands that only read the journal (a report
 * must work even when, say, the key file is being replaced).
 */
export function techConfig(args: ParsedArgs, io: Io, checkFiles = false): { file: string; config: Config } {
  const file = configPath(args, io);
  try {
    return { file, config: loadConfig(file, { checkFiles }) };
  } catch (err) {
    if (err instanceof ConfigError) throw new CommandExit(EXIT.USAGE, `${err.message}\n(kiosk doctor checks everything and says how to fix it)`);
    throw err;
  }
}

/** The journal, read-only (safe while the daemon writes). */
export function readJournal(path: string): Journal {
  try {
    return openJournal(path, { readonly: true });
  } catch (err) {
    if (err instanceof JournalError) throw new CommandExit(EXIT.USAGE, err.message);
    const e = err as NodeJS.ErrnoException & { code?: string };
    if (e.code === 'SQLITE_CANTOPEN' || e.code === 'EACCES' || /permission|unable to open/i.test(e.message)) {
      throw new CommandExit(EXIT.USAGE, `${path}: cannot open the journal (${e.message}); run as the kiosk user: sudo -u kiosk kiosk …`);
    }
    // Any other SQLite error (a folder, another program's database, a damaged file) is about the file, not a bug.
    if (typeof e.code === 'string' && e.code.startsWith('SQLITE_')) throw new CommandExit(EXIT.USAGE, `${path}: not a readable journal (${e.message}); run kiosk doctor`);
    throw err;
  }
}

/** The journal, writable (a technician's note, an update event): a file that will not open is exit 2, said where. */
export function writeJournal(path: string): Journal {
  try {
    return openJournal(path);
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `${path}: ${(err as Error).message}`);
  }
}

/**
 * Runs a command body with its Io and turns the expected failures into exit codes:
 * --help → the help on stdout and 0, UsageError → 2, CommandExit → its code; anything else is a bug and
 * propagates (stack trace, exit 1).
 */
export async function runCommand(io: Io, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (err instanceof HelpRequest) {
      io.out(err.text);
      return EXIT.OK;
    }
    if (err instanceof UsageError) {
      io.err(`kiosk: ${err.message}\n`);
      return EXIT.USAGE;
    }
    if (err instanceof CommandExit) {
      io.err(`kiosk: ${err.message}\n`);
      return err.exitCode;
    }
    throw err;
  }
}

export { processIo };
