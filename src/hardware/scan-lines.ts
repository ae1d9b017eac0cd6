// The line handling shared by the byte-stream scanner drivers (serial port, simulator): one line parser (line
// ends, prefix/suffix, length limits) and, with a scanner module, the module session in front of it. Kept in one
// place so that a driver cannot forget a piece (a line seen re-arms a command-trigger module; a module's answer
// drops the partial line before it).
import type { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import type { Clock } from '../clock.js';
import { ScanParser, type ScannerParseOptions } from './scanner.js';
import { moduleSessionFor, type ModuleOptions } from './modules/options.js';
import type { ModuleSession } from './modules/session.js';

export interface ScanLines {
  readonly parser: ScanParser;
  /** The module's command protocol on the port; null for a plain scanner (scanner.module "plain"). */
  readonly session: ModuleSession | null;
}

/**
 * The parser of `scanner` (whose 'code' and 'bad' events it emits) and its module session. Bytes from the port go
 * to `session.ingest` when there is a session, else to `parser.push`.
 */
export function scanLines(
  scanner: EventEmitter,
  options: ScannerParseOptions & ModuleOptions,
  io: { path: string; baudRate: number; write(bytes: Buffer): Promise<void>; timers: Clock; log: Logger },
): ScanLines {
  let session: ModuleSession | null = null;
  const parser = new ScanParser(
    options,
    (code) => {
      scanner.emit('code', code);
      session?.lineSeen();
    },
    (bad) => {
      scanner.emit('bad', bad);
      session?.lineSeen();
    },
  );
  session = moduleSessionFor(options, { ...io, onData: (bytes) => parser.push(bytes), onAnswer: () => parser.reset(), onConversationEnd: () => parser.reset() });
  return { parser, session };
}
