// The one table of commands drives the parser, --help and docs/cli.md; every command parses strictly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HelpRequest, parseCommand, subcommand, usage, UsageError } from '../../src/cli/args.js';
import { COMMANDS, type CommandSpec } from '../../src/cli/commands.js';
import { cliReference } from '../../src/cli/reference.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const KIOSK_JS = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));

function runKiosk(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [KIOSK_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, KIOSK_CONFIG: '/nonexistent/config.json' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every runnable path in the table: 'status', 'journal list', 'sandbox' (runs without a subcommand too). */
function paths(): Array<[string, CommandSpec]> {
  const out: Array<[string, CommandSpec]> = [];
  for (const [name, spec] of Object.entries(COMMANDS)) {
    if (spec.options || !spec.subcommands) out.push([name, spec]);
    for (const [sub, s] of Object.entries(spec.subcommands ?? {})) out.push([`${name} ${sub}`, s]);
  }
  return out;
}

function usageError(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof UsageError, `expected a UsageError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected a UsageError');
}

describe('kiosk command table', () => {
  it('docs/cli.md is generated from the table (run `npm run docs` after changing it)', () => {
    assert.equal(readFileSync(ROOT + 'docs/cli.md', 'utf8'), cliReference());
  });

  it('every command in the table has its module', () => {
    for (const name of Object.keys(COMMANDS)) assert.ok(existsSync(fileURLToPath(new URL(`../../src/cli/${name}.js`, import.meta.url))), name);
  });

  it('every command refuses an unknown option by name, with its usage, and has --help', () => {
    for (const [path] of paths()) {
      const m = usageError(() => parseCommand(path, ['--definitely-not', 'x']));
      assert.match(m, new RegExp(`^${path}: unknown option --definitely-not\\n`), path);
      assert.ok(m.endsWith(usage(path)), `${path}: the message ends with the usage`);
      for (const flag of ['--help', '-h']) {
        assert.throws(
          () => parseCommand(path, [flag]),
          (err: unknown) => err instanceof HelpRequest && err.text.includes(`kiosk ${path}`),
          `${path} ${flag}`,
        );
      }
    }
  });

  it('values, flags, whole numbers, required options and positionals are checked', () => {
    assert.match(usageError(() => parseCommand('status', ['--json=yes'])), /--json takes no value/);
    assert.match(usageError(() => parseCommand('report', ['--day'])), /--day needs a value/);
    assert.match(usageError(() => parseCommand('sandbox', ['--port', 'ninety'])), /--port must be a whole number, got "ninety"/);
    assert.match(usageError(() => parseCommand('export', ['--from', '2026-01-01'])), /missing --to/);
    assert.match(usageError(() => parseCommand('status', ['extra'])), /unexpected argument "extra"/);
    assert.match(usageError(() => parseCommand('journal show', [])), /give ORDERNO/);
    assert.match(usageError(() => parseCommand('journal show', ['A', 'B'])), /unexpected argument "B"/);
    assert.match(usageError(() => subcommand('journal', ['lsit'])), /unknown subcommand "lsit" \(list, show\)/);
    assert.equal(subcommand('sandbox', ['--port', '1']), undefined, 'sandbox also runs without a subcommand');
    assert.deepEqual(parseCommand('settle', ['a.csv', '--date', '2026-06-01', 'b.csv', '--all']), { flags: { date: '2026-06-01', all: true }, positional: ['a.csv', 'b.csv'] });
    assert.deepEqual(parseCommand('logs', ['--file', '-']).flags, { file: '-' }, '"-" (stdin) is a value');
  });

  it('from the shell: a typo is refused, not ignored (kiosk sandbox --prot 9 used to start on a random port)', async () => {
    const sandbox = await runKiosk(['sandbox', '--prot', '9']);
    assert.equal(sandbox.code, 2);
    assert.match(sandbox.stderr, /kiosk: sandbox: unknown option --prot\nusage: kiosk sandbox /);
    const status = await runKiosk(['status', '--bogus']);
    assert.equal(status.code, 2);
    assert.match(status.stderr, /unknown option --bogus/);
    assert.doesNotMatch(status.stderr, /needs a value/);
    const help = await runKiosk(['journal', 'show', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^usage: kiosk journal show ORDERNO/);
  });
});
