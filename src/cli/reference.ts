// docs/cli.md, generated from the command table (commands.ts) by `npm run docs`; a test fails while the
// file and the table differ.
import { usageLines } from './args.js';
import { COMMANDS, type CommandSpec } from './commands.js';

function section(path: string, spec: CommandSpec, depth: number): string[] {
  const out = [`${'#'.repeat(depth)} \`kiosk ${path}\``, '', spec.summary + (spec.summary.endsWith('.') ? '' : '.'), ''];
  if (spec.options || !spec.subcommands) {
    out.push('```', ...usageLines(path).slice(0, 1), '```', '');
    const opts = Object.entries(spec.options ?? {});
    if (opts.length) {
      out.push('| option | meaning |', '|---|---|');
      for (const [name, o] of opts) {
        const flag = `\`--${name}${o.type === 'boolean' ? '' : ` ${o.arg ?? 'VALUE'}`}\``;
        out.push(`| ${flag.replace(/\|/g, '\\|')} | ${(o.help + (o.required ? ' (required)' : '')).replace(/\|/g, '\\|')} |`);
      }
      out.push('');
    }
  }
  if (spec.notes) out.push(spec.notes, '');
  for (const [sub, s] of Object.entries(spec.subcommands ?? {})) out.push(...section(`${path} ${sub}`, s, depth + 1));
  return out;
}

/** The whole text of docs/cli.md. */
export function cliReference(): string {
  const out = [
    '# `kiosk` command reference',
    '',
    '<!-- Generated from src/cli/commands.ts by `npm run docs`; edit the table, not this file. -->',
    '',
    'Every command takes `--help` (`-h`). Options are parsed strictly: an unknown option, a missing value,',
    'a value for a flag that takes none or a stray argument is refused with the command\'s usage (exit 2).',
    'Commands that read the config take `--config FILE` (default `$KIOSK_CONFIG`, else `/etc/kiosk/config.json`).',
    '',
    '| command | what it does |',
    '|---|---|',
    ...Object.entries(COMMANDS).map(([name, s]) => `| [\`kiosk ${name}\`](#kiosk-${name}) | ${s.summary} |`),
    '',
  ];
  for (const [name, spec] of Object.entries(COMMANDS)) out.push(...section(name, spec, 2));
  return out.join('\n').replace(/\n+$/, '\n');
}
