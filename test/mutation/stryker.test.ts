// The mutation run (npm run mutate: StrykerJS, minutes to an hour per folder) is not part of npm test; this keeps
// it runnable: the config is valid against Stryker's own schema, the folders and test files it names exist, the
// pinned Stryker loads with this mocha, and docs/tests.md has a score for each folder. A second or two.
import assert from 'node:assert/strict';
import { fork, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BEGIN, CONFIG, countStatuses, DOCS, END, FOLDERS, incrementalFile, parseArgs, score, withRow } from '../../scripts/mutate.js';

// dist/test/mutation/ → the repository
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const read = (f: string): string => readFileSync(join(ROOT, f), 'utf8');
const require = createRequire(join(ROOT, 'package.json'));

/** Files under src/ a folder's globs select (the globs here are `dir/**\/*.ts`, `dir/prefix-*.ts` and `!…`). */
function selected(globs: readonly string[]): string[] {
  const toRe = (g: string) => new RegExp(`^${g.split('**/').map((p) => p.replace(/[.]/g, '\\.').replace(/\*/g, '[^/]*')).join('(?:.*/)?')}$`);
  const take = globs.filter((g) => !g.startsWith('!')).map(toRe);
  const drop = globs.filter((g) => g.startsWith('!')).map((g) => toRe(g.slice(1)));
  const all = readdirSync(join(ROOT, 'src'), { recursive: true }).map((f) => `src/${String(f)}`);
  return all.filter((f) => take.some((r) => r.test(f)) && !drop.some((r) => r.test(f))).sort();
}

describe('mutation run: StrykerJS config (stryker.config.json, scripts/mutate.ts)', () => {
  const config = JSON.parse(read(CONFIG)) as Record<string, unknown>;

  it('is valid against the installed Stryker schema, with no key the schema does not know', () => {
    const schema = JSON.parse(read('node_modules/@stryker-mutator/core/schema/stryker-schema.json')) as { properties: Record<string, unknown> };
    const ajvPath = createRequire(require.resolve('@stryker-mutator/core/package.json')).resolve('ajv');
    const Ajv = (createRequire(ajvPath)(ajvPath) as { default: new (o: object) => { compile(s: object): ((d: unknown) => boolean) & { errors?: unknown } } }).default;
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    assert.ok(validate(config), JSON.stringify(validate.errors));
    assert.deepEqual(Object.keys(config).filter((k) => k !== '$schema' && !(k in schema.properties)), []);
    assert.equal(validate({ ...config, coverageAnalysis: 'per-test' }), false, 'the validation does refuse a bad value');
  });

  it('keeps the settings the run was designed for: schemata built by tsc, per-test coverage, incremental, mocha', () => {
    assert.equal(config.testRunner, 'mocha');
    assert.equal(config.coverageAnalysis, 'perTest');
    assert.equal(config.incremental, true);
    assert.match(String(config.buildCommand), /^tsc -p tsconfig\.json$/);
    assert.ok((config.ignorePatterns as string[]).includes('dist'), 'the sandbox builds its own dist/');
  });

  it('the five folders select the money path, journal, gateway, fleet and settlement sources, each file once', () => {
    assert.deepEqual(FOLDERS.map((f) => f.name), ['settle', 'fleet', 'payment', 'journal', 'umpay']);
    const files = FOLDERS.map((f) => selected(f.mutate));
    for (const [i, f] of FOLDERS.entries()) assert.ok(files[i]!.length > 0, `${f.name} selects no file`);
    const flat = files.flat();
    assert.equal(new Set(flat).size, flat.length, 'no file in two folders');
    const want = selected(['src/payment/**/*.ts', 'src/journal/**/*.ts', 'src/umpay/**/*.ts', 'src/fleet/**/*.ts']);
    assert.deepEqual([...flat].sort(), want);
    assert.ok(files[0]!.every((f) => /^src\/payment\/settle-/.test(f)));
  });

  it('each folder\'s tests exist, and none is a slow end-to-end or in-process daemon file', () => {
    for (const f of FOLDERS) {
      for (const s of f.spec) {
        const m = /^dist\/(test\/.+)\.test\.js$/.exec(s);
        assert.ok(m, `${f.name}: ${s} is a compiled test file`);
        assert.ok(existsSync(join(ROOT, `${m[1]}.test.ts`)), `${f.name}: ${m[1]}.test.ts exists`);
        assert.doesNotMatch(s, /test\/(crash|field|kiosk|cli)\/|fleet\/e2e|umpay\/cli\.test/, `${f.name}: ${s} is too slow for every mutant`);
      }
    }
  });

  it('the pinned Stryker (9.6.1, Node 20) loads its mocha runner with this mocha through scripts/stryker-preload.cjs', () => {
    const pkg = JSON.parse(read('package.json')) as { devDependencies: Record<string, string> };
    for (const p of ['core', 'mocha-runner', 'typescript-checker']) {
      const name = `@stryker-mutator/${p}`;
      assert.match(pkg.devDependencies[name] ?? '', /^\d+\.\d+\.\d+$/, `${name} is pinned`);
      assert.equal((JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')) as { version: string }).version, pkg.devDependencies[name], `${name} installed as pinned`);
    }
    const load = (args: string[]) => spawnSync(process.execPath, [...args, '--input-type=module', '-e', "await import('@stryker-mutator/mocha-runner')"], { cwd: ROOT, encoding: 'utf8' });
    const withShim = load(['--require', './scripts/stryker-preload.cjs']);
    assert.equal(withShim.status, 0, withShim.stderr);
    const without = load([]);
    if (without.status === 0) assert.fail('the mocha runner loads without the shim now: drop scripts/stryker-preload.cjs');
  });

  it('the preload keeps a daemon\'s "ready" (pm2 wait_ready) from Stryker\'s IPC channel, and only that', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'stryker-preload-'));
    try {
      const script = join(dir, 'child.cjs');
      writeFileSync(script, "process.send('ready'); process.send('{\"kind\":1}'); process.send({ a: 1 }, () => process.disconnect());\n");
      const child = fork(script, [], { execArgv: ['--require', join(ROOT, 'scripts/stryker-preload.cjs')], stdio: 'ignore' });
      const got: unknown[] = [];
      child.on('message', (m) => got.push(m));
      await new Promise((r) => child.on('exit', r));
      assert.deepEqual(got, ['{"kind":1}', { a: 1 }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('incremental results, where present, are Stryker reports of that folder\'s files only', () => {
    for (const f of FOLDERS) {
      const p = join(ROOT, incrementalFile(f));
      if (!existsSync(p)) continue;
      const report = JSON.parse(readFileSync(p, 'utf8')) as { schemaVersion: string; files: Record<string, unknown> };
      assert.match(report.schemaVersion, /^\d/);
      // Every file of the report is one of the folder's, and most of the folder is there: Stryker leaves out a file in
      // which it found no mutant (src/journal/quick-check-worker.ts: one call, no literal, no operator).
      const files = Object.keys(report.files).sort();
      const folder = selected(f.mutate);
      assert.deepEqual(files.filter((x) => !folder.includes(x)), [], `${incrementalFile(f)} holds files of ${f.name} only`);
      assert.ok(files.length >= folder.length - 1 && files.length > 0, `${incrementalFile(f)} covers ${f.name}: ${files.length} of ${folder.length} files`);
    }
  });

  it('docs/tests.md has the score table with a row per folder', () => {
    const docs = read(DOCS);
    const table = docs.slice(docs.indexOf(BEGIN), docs.indexOf(END));
    assert.ok(docs.includes(BEGIN) && docs.includes(END));
    for (const f of FOLDERS) assert.match(table, new RegExp(`^\\| ${f.name} \\| (\\*\\*[0-9.]+ %\\*\\*|not run yet) \\|`, 'm'), `${f.name} row`);
  });
});

describe('mutation run: scripts/mutate.ts', () => {
  it('counts and scores as Stryker does: detected over detected + undetected; equivalents and errors left out', () => {
    const c = countStatuses(['Killed', 'Killed', 'Timeout', 'Survived', 'NoCoverage', 'Ignored', 'CompileError', 'RuntimeError']);
    assert.deepEqual(c, { killed: 2, timeout: 1, survived: 1, noCoverage: 1, ignored: 1, errors: 2 });
    assert.equal(score(c), 60);
    assert.equal(score(countStatuses([])), 100);
  });

  it('writes one folder\'s row into the table, keeping the others in folder order', () => {
    const docs = `intro\n${BEGIN}\nold\n| umpay | **50.0 %** | x |\n${END}\nafter\n`;
    const row = { folder: 'fleet', counts: countStatuses(['Killed', 'Survived']), commit: 'abc1234', at: '2026-12-05 04:00', seconds: 600 };
    const out = withRow(docs, row);
    assert.ok(out.startsWith(`intro\n${BEGIN}\n| folder |`));
    assert.ok(out.endsWith(`${END}\nafter\n`));
    const rows = out.split('\n').filter((l) => /^\| (fleet|umpay) /.test(l));
    assert.deepEqual(rows, ['| fleet | **50.0 %** | 1 | 0 | 1 | 0 | 0 | 0 | `abc1234` | 2026-12-05 04:00 | 10 min |', '| umpay | **50.0 %** | x |']);
    assert.throws(() => withRow('no markers', row), /markers/);
  });

  it('takes a folder, all, and its options; refuses anything else with the list', () => {
    const a = parseArgs(['fleet', '--concurrency', '2', '--checker', '--no-docs', '--force']);
    assert.ok(typeof a !== 'string');
    assert.deepEqual([a.folders.map((f) => f.name), a.concurrency, a.checker, a.docs, a.force], [['fleet'], 2, true, false, true]);
    const all = parseArgs(['all']);
    assert.ok(typeof all !== 'string' && all.folders.length === FOLDERS.length && all.concurrency === 1 && all.docs && !all.force);
    assert.equal(typeof parseArgs([]), 'string');
    assert.match(parseArgs([]) as string, /name a folder: settle, fleet, payment, journal, umpay or all/);
    assert.match(parseArgs(['src/fleet']) as string, /unknown folder or option "src\/fleet"/);
    assert.match(parseArgs(['fleet', '--concurrency', '0']) as string, /whole number/);
  });
});
