// The docs name only what exists (issue 21 §9): every `kiosk` command, subcommand and option written in README.md and
// docs/*.md is in the one table of commands (src/cli/commands.ts), and every file of this repository they name
// (src/…, test/…, device/…, a relative link) is there.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS, type CommandSpec } from '../src/cli/commands.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The code in a markdown text: each inline `span` and each line of a fenced block, with its line number. */
export function codeOf(text: string): Array<{ line: number; code: string }> {
  const out: Array<{ line: number; code: string }> = [];
  let fenced = false;
  text.split('\n').forEach((l, i) => {
    if (/^\s*```/.test(l)) fenced = !fenced;
    else if (fenced) out.push({ line: i + 1, code: l });
    else for (const m of l.matchAll(/`([^`]+)`/g)) out.push({ line: i + 1, code: m[1]! });
  });
  return out;
}

/** Words that end a command line: a pipe, a list, a comment, a redirect. */
const END = /^(\||\|\||&&|;|#|>|2>|<|\)|→)$/;

/** Words after which `kiosk` is the program run (not the user, the folder or a word of prose). */
const BEFORE_COMMAND = new Set(['$', '#', 'sudo', '&&', '||', '|', ';', '(', '$(', 'time', 'exec', 'env', 'nice', 'then', 'do', 'ssh']);

function atCommand(words: readonly string[], i: number): boolean {
  const prev = words[i - 1];
  return prev === undefined || BEFORE_COMMAND.has(prev) || /^[A-Z_]+=\S*$/.test(prev) || (prev === 'kiosk' && words[i - 2] === '-u');
}

/**
 * Every `kiosk …` in a piece of code, checked against the table: the command, a subcommand where the command has
 * them (`a/b/c` lists several), and each `--option` up to the end of that command line. Returns what is not there.
 */
export function unknownNames(code: string): string[] {
  const words = code.replace(/(^|\s)#.*$/, '').split(/\s+/).filter(Boolean);
  const wrong: string[] = [];
  for (let i = 0; i < words.length; i++) {
    if (words[i] !== 'kiosk' || !atCommand(words, i)) continue;
    const name = words[i + 1]?.replace(/[`,.:)]+$/, '');
    // Placeholders (`kiosk <command>`, `kiosk COMMAND`): not a command word.
    if (!name || !/^[a-z][a-z0-9-]*$/.test(name)) continue;
    const spec = COMMANDS[name];
    if (!spec) {
      wrong.push(`kiosk ${name}`);
      continue;
    }
    let specs: Array<[string, CommandSpec]> = [[`kiosk ${name}`, spec]];
    let j = i + 2;
    const next = words[j]?.replace(/[`,.:)]+$/, '');
    if (spec.subcommands && next && /^[a-z][a-z0-9/|-]*$/.test(next) && !(spec.positionals && spec.args?.includes(next.split(/[/|]/)[0]!))) {
      const subs = next.split(/[/|]/).filter(Boolean);
      const known = subs.filter((s) => spec.subcommands![s]);
      for (const s of subs) if (!spec.subcommands[s]) wrong.push(`kiosk ${name} ${s}`);
      if (known.length) {
        specs = known.map((s) => [`kiosk ${name} ${s}`, spec.subcommands![s]!]);
        j++;
      }
    }
    for (; j < words.length && !END.test(words[j]!) && words[j] !== 'kiosk'; j++) {
      const opt = /^\[?--([A-Za-z][A-Za-z0-9-]*)/.exec(words[j]!)?.[1];
      if (!opt || opt === 'help') continue;
      for (const [path, s] of specs) if (!s.options?.[opt]) wrong.push(`${path} --${opt}`);
    }
  }
  return wrong;
}

/** Files the docs name that a command writes, not the repository: not looked for. */
const WRITTEN = new Set(['bench/results.json']); // npm run bench writes it (not committed)

/** Files of this repository a markdown text names: paths under its top folders, and relative links. */
export function namedFiles(text: string, doc: string): string[] {
  const out = new Set<string>();
  for (const m of text.matchAll(/(?<![\w./-])((?:src|test|docs|device|scripts|bench|tools|systemd)\/[\w./-]*[\w-]\.(?:ts|md|json|sh|cjs|js|rules|service|timer|conf|txt|csv|yml|yaml))(?![\w/])/g)) out.add(m[1]!);
  for (const m of text.matchAll(/\]\((?!https?:|mailto:|#)([^)\s#]+)/g)) out.add(join(dirname(doc), m[1]!));
  return [...out];
}

describe('the docs name only what exists', () => {
  it('the checks themselves: a command, a subcommand, an option out of the table are found; prose and other users of the word are not', () => {
    assert.deepEqual(unknownNames('kiosk status --json --config FILE'), []);
    assert.deepEqual(unknownNames('kiosk fleet cmd K1 status --key OP.pem | jq . # --nonsense'), []);
    assert.deepEqual(unknownNames('kiosk journal list/show'), []);
    assert.deepEqual(unknownNames('sudo -u kiosk kiosk doctor; chown kiosk /var/lib/kiosk'), []);
    assert.deepEqual(unknownNames('npm start  # the whole kiosk simulated'), []);
    assert.deepEqual(unknownNames('differs: mode is manual, the kiosk needs continuous'), []);
    assert.deepEqual(unknownNames('$ KIOSK_CONFIG=/x kiosk umpay micropay --authCode C --bogus'), ['kiosk umpay micropay --bogus']);
    assert.deepEqual(unknownNames('kiosk stats --json'), ['kiosk stats']);
    assert.deepEqual(unknownNames('kiosk doctor --fix'), ['kiosk doctor --fix']);
    assert.deepEqual(unknownNames('kiosk umpay check --base URL --verbose'), ['kiosk umpay check --verbose']);
    assert.deepEqual(unknownNames('kiosk umpay sign/frobnicate'), ['kiosk umpay frobnicate']);
    assert.deepEqual(namedFiles('see `test/hardware/fake-clock.ts` and [the guide](ops.md)', 'docs/x.md'), ['test/hardware/fake-clock.ts', 'docs/ops.md']);
  });

  it("README's command table names every command and subcommand of the table", () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const start = readme.indexOf('`kiosk --help` lists:');
    const table = readme.slice(start, readme.indexOf('\n\n', readme.indexOf('| command |', start)));
    const rows = table.split('\n').filter((l) => l.startsWith('| `kiosk') || l.startsWith('| `'));
    const named = rows.map((r) => r.split(' | ')[0]!).join(' ');
    const missing: string[] = [];
    for (const [name, spec] of Object.entries(COMMANDS)) {
      if (!new RegExp(`\`(kiosk )?${name}[\` /]`).test(named)) missing.push(name);
      for (const sub of Object.keys(spec.subcommands ?? {})) if (!new RegExp(`kiosk ${name}( [^|]*)?[ /]${sub}[\` /]`).test(named)) missing.push(`${name} ${sub}`);
    }
    assert.deepEqual(missing, []);
  });

  for (const doc of DOCS) {
    it(`${doc}: every kiosk command and option it names is in src/cli/commands.ts; every file it names exists`, () => {
      const text = readFileSync(join(ROOT, doc), 'utf8');
      const wrong = codeOf(text).flatMap(({ line, code }) => unknownNames(code).map((w) => `${doc}:${line}: ${w}`));
      const missing = namedFiles(text, doc)
        .filter((f) => !WRITTEN.has(f) && !existsSync(join(ROOT, f)))
        .map((f) => `${doc}: ${f}`);
      assert.deepEqual([...wrong, ...missing], [], 'not in the command table / no such file');
    });
  }
});
