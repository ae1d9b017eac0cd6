// Option parsing for every `kiosk` command: node:util parseArgs (strict) driven by the one table of
// commands (commands.ts). Unknown options are refused by name with the command's usage; every command
// has --help. Modules call parseCommand('status', argv) and read `flags` and `positional`.
import { parseArgs as nodeParseArgs } from 'node:util';
import { COMMANDS, type CommandSpec, type OptionSpec } from './commands.js';

export class UsageError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** `--help` was given: the caller prints `text` to stdout and exits 0 (runCommand and kiosk.ts do). */
export class HelpRequest extends Error {
  readonly exitCode = 0;
  constructor(readonly text: string) {
    super('help requested');
    this.name = 'HelpRequest';
  }
}

export interface ParsedArgs {
  flags: Record<string, string | true>;
  positional: string[];
}

const HELP: OptionSpec = { type: 'boolean', short: 'h', help: 'this help' };

/** The spec of `path` ('status', 'journal list'); throws for a name not in the table (a bug). */
export function commandSpec(path: string): CommandSpec {
  const [name, sub] = path.split(' ');
  const top = COMMANDS[name!];
  const spec = sub ? top?.subcommands?.[sub] : top;
  if (!spec) throw new Error(`kiosk ${path} is not in the command table (src/cli/commands.ts)`);
  return spec;
}

function optionUsage(name: string, o: OptionSpec): string {
  const text = o.type === 'boolean' ? `--${name}` : `--${name} ${o.arg ?? 'VALUE'}`;
  return o.required ? text : `[${text}]`;
}

/** One line per way to run `path`: `usage: kiosk settle FILE.csv [FILE.csv…] [--date yyyy-mm-dd] …`. */
export function usageLines(path: string): string[] {
  const spec = commandSpec(path);
  const lines: string[] = [];
  if (spec.options || !spec.subcommands) {
    const opts = Object.entries(spec.options ?? {});
    // Required options first, as a reader types them.
    const sorted = [...opts.filter(([, o]) => o.required), ...opts.filter(([, o]) => !o.required)];
    lines.push(['kiosk', path, spec.args, ...sorted.map(([n, o]) => optionUsage(n, o))].filter(Boolean).join(' '));
  }
  for (const sub of Object.keys(spec.subcommands ?? {})) lines.push(...usageLines(`${path} ${sub}`));
  return lines;
}

/** The short usage shown with a usage error. */
export function usage(path: string): string {
  return usageLines(path)
    .map((l, i) => `${i === 0 ? 'usage: ' : '       '}${l}`)
    .join('\n');
}

/** What `kiosk <path> --help` prints. */
export function helpText(path: string): string {
  const spec = commandSpec(path);
  const out = [usage(path), '', spec.summary];
  const opts = Object.entries({ ...(spec.options ?? {}), help: HELP });
  if (spec.options || !spec.subcommands) {
    const shown = opts.map(([n, o]) => [`${o.short ? `-${o.short}, ` : ''}--${n}${o.type === 'boolean' ? '' : ` ${o.arg ?? 'VALUE'}`}`, o.help + (o.required ? ' (required)' : '')] as const);
    const width = Math.max(...shown.map(([l]) => l.length));
    out.push('', 'options:', ...shown.map(([l, h]) => `  ${l.padEnd(width)}  ${h}`));
  }
  const subs = Object.entries(spec.subcommands ?? {});
  if (subs.length) {
    const width = Math.max(...subs.map(([n]) => n.length));
    out.push('', 'commands (kiosk ' + path + ' COMMAND --help for its options):', ...subs.map(([n, s]) => `  ${n.padEnd(width)}  ${s.summary}`));
  }
  if (spec.notes) out.push('', spec.notes);
  return out.join('\n') + '\n';
}

/** The top-level `kiosk` usage: every command and what it does. */
export function kioskUsage(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((k) => k.length));
  return ['usage: kiosk <command> [options]   (kiosk <command> --help for its options)', '', ...Object.entries(COMMANDS).map(([k, v]) => `  ${k.padEnd(width)}  ${v.summary}`)].join('\n');
}

/** node:util's messages, said the way the rest of the CLI says things. */
function usageMessage(err: Error & { code?: string }): string {
  const m = err.message;
  const named = /'(-{1,2}[^' ]+)/.exec(m)?.[1];
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${named ?? m}`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${JSON.stringify(/'([^']*)'/.exec(m)?.[1] ?? m)}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(m)) return `${named} takes no value`;
      if (/argument missing/.test(m)) return `${named} needs a value`;
      if (/ambiguous/.test(m)) return `${named} needs a value (one that starts with "-" is written ${named}=VALUE)`;
      return m;
    default:
      return m;
  }
}

/**
 * Parses `argv` for the command `path` ('status', 'journal list') by its table entry: strict, every
 * option known, int options whole numbers, required options present, positionals counted.
 */
export function parseCommand(path: string, argv: readonly string[]): ParsedArgs {
  const spec = commandSpec(path);
  const options: Record<string, OptionSpec> = { ...(spec.options ?? {}), help: HELP };
  const [min, max] = spec.positionals ?? [0, 0];
  const fail = (message: string): never => {
    throw new UsageError(`${path}: ${message}\n${usage(path)}`);
  };
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    // The options are built at run time: the result's plain shape.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    parsed = nodeParseArgs({
      args: [...argv],
      options: Object.fromEntries(Object.entries(options).map(([n, o]) => [n, { type: o.type === 'boolean' ? 'boolean' : 'string', ...(o.short ? { short: o.short } : {}) }])),
      strict: true,
      allowPositionals: max > 0,
    }) as typeof parsed;
  } catch (err) {
    const e = err as Error & { code?: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    // --help anywhere wins over a mistake elsewhere on the line.
    if (argv.includes('--help') || argv.includes('-h')) throw new HelpRequest(helpText(path));
    return fail(usageMessage(e));
  }
  if (parsed.values.help) throw new HelpRequest(helpText(path));
  const flags: Record<string, string | true> = {};
  for (const [name, v] of Object.entries(parsed.values)) {
    if (v === undefined || v === false) continue;
    flags[name] = v === true ? true : v;
    if (options[name]?.type === 'int' && !/^-?[0-9]+$/.test(v as string)) fail(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  }
  if (parsed.positionals.length < min) fail(`give ${spec.args ?? 'the arguments'}`);
  if (parsed.positionals.length > max) fail(`unexpected argument ${JSON.stringify(parsed.positionals[max])}`);
  for (const [name, o] of Object.entries(options)) if (o.required && flags[name] === undefined) fail(`missing --${name}`);
  return { flags, positional: parsed.positionals };
}

/**
 * The subcommand `argv` starts with, for commands that have them; undefined when the command also runs
 * without one (sandbox) and argv starts with an option. Refuses an unknown or missing subcommand.
 */
export function subcommand(command: string, argv: readonly string[]): string | undefined {
  const spec = commandSpec(command);
  const first = argv[0];
  if (first !== undefined && spec.subcommands?.[first]) return first;
  if (first === 'help' || ((first === '--help' || first === '-h') && !spec.options)) throw new HelpRequest(helpText(command));
  if (spec.options && (first === undefined || first.startsWith('-'))) return undefined;
  throw new UsageError(
    `${command}: ${first === undefined ? 'which subcommand?' : `unknown subcommand ${JSON.stringify(first)}`} (${Object.keys(spec.subcommands ?? {}).join(', ')})\n${usage(command)}`,
  );
}

export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === true) throw new UsageError(`--${name} needs a value`);
  return v;
}

export function requireFlag(args: ParsedArgs, name: string): string {
  const v = stringFlag(args, name);
  if (v === undefined || v === '') throw new UsageError(`missing --${name}`);
  return v;
}

export function intFlag(args: ParsedArgs, name: string, fallback?: number): number | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  if (!/^-?[0-9]+$/.test(v)) throw new UsageError(`--${name} must be a whole number, got ${JSON.stringify(v)}`);
  return Number(v);
}
