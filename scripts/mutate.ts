// The mutation run: applies each hand-made mutant of scripts/mutants.ts to a temporary copy of the repository,
// runs the test files that must catch it, and reports killed/survived. Not part of `npm test` (~75 s
// here, plus the build). Run:
//
//   npm run mutate                     every mutant; exit 0 only when all are killed and none is stale
//   npm run mutate -- --only a,b       just these ids
//   npm run mutate -- --check          only check that every mutant's text is still in its file (no tests)
//   npm run mutate -- --docs           a full run that also writes its result into docs/tests.md
//
// The working tree is never touched: an interrupted run leaves at most a folder under the OS temp dir.
// Only the mutated file is recompiled (TypeScript's transpileModule with tsconfig's options, checked first
// to give byte-for-byte what tsc gave for the unmutated file): a whole incremental tsc takes ~13 s here.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { MUTANTS, staleness, structureProblems, type Mutant } from './mutants.js';

// dist/scripts/ → the repository
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DOCS = 'docs/tests.md';
const BEGIN = '<!-- mutation-run:begin (written by npm run mutate -- --docs) -->';
const END = '<!-- mutation-run:end -->';

type Status = 'killed' | 'survived' | 'stale' | 'timeout' | 'error';
interface Result {
  mutant: Mutant;
  status: Status;
  /** The first test that failed (file: full title), or why the run did not count. */
  detail: string;
  seconds: number;
}

const jsOf = (file: string): string => join('dist', file.replace(/\.ts$/, '.js'));
const stripMapComment = (js: string): string => js.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');

function compilerOptions(): ts.CompilerOptions {
  const read = ts.readConfigFile(join(ROOT, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  if (read.error) throw new Error(`tsconfig.json: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`);
  const parsed = ts.parseJsonConfigFileContent(read.config, ts.sys, ROOT);
  // package.json says "type": "module": every file is an ES module, which transpileModule cannot see from NodeNext.
  // One file alone: nothing to resolve, no output folder.
  const options: ts.CompilerOptions = { ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, sourceMap: false, declaration: false };
  for (const key of ['rootDir', 'outDir', 'tsBuildInfoFile', 'incremental'] as const) delete options[key];
  return options;
}

/** The JS for one source file, or the syntax errors that keep it from compiling. */
function transpile(source: string, fileName: string, options: ts.CompilerOptions): { js: string } | { error: string } {
  const out = ts.transpileModule(source, { compilerOptions: options, fileName, reportDiagnostics: true });
  const errs = (out.diagnostics ?? []).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errs.length) return { error: errs.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')).join('; ') };
  return { js: out.outputText };
}

interface RunOutcome {
  code: number | null;
  timedOut: boolean;
  /** The first failure, "test/x.test.ts: full title". */
  failure?: string;
  tail: string;
}

let current: ChildProcess | undefined;

/** Runs mocha on the compiled test files inside the copy; stops at the first failure. */
function runMocha(copy: string, tests: readonly string[], timeoutMs: number, tag: string): Promise<RunOutcome> {
  const report = join(copy, `.mutate-${tag}.json`);
  rmSync(report, { force: true });
  const args = [join(ROOT, 'node_modules/mocha/bin/mocha.js'), '--bail', '--reporter', 'json', '--reporter-option', `output=${report}`, ...tests.map(jsOf)];
  return new Promise((resolve) => {
    // Own process group: a mutant that hangs a daemon the tests spawned is killed with everything under it.
    const child = spawn(process.execPath, args, { cwd: copy, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, FORCE_COLOR: '0' } });
    current = child;
    let tail = '';
    const keep = (b: Buffer) => (tail = (tail + b.toString('utf8')).slice(-2000));
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      current = undefined;
      let failure: string | undefined;
      try {
        const json = JSON.parse(readFileSync(report, 'utf8')) as { failures?: Array<{ fullTitle?: string; file?: string }> };
        const f = json.failures?.[0];
        if (f) failure = `${f.file ? f.file.slice(copy.length + 1).replace(/^dist\//, '').replace(/\.js$/, '.ts') + ': ' : ''}${f.fullTitle ?? '?'}`;
      } catch {
        // no report: mocha died before writing it (the tail says why)
      }
      resolve({ code, timedOut, failure, tail });
    });
  });
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** A copy of the repository without .git and node_modules (symlinked): the mutants are applied there. */
function makeCopy(): string {
  const copy = mkdtempSync(join(tmpdir(), 'umpay-mutate-'));
  for (const entry of readdirSync(ROOT)) {
    if (entry === 'node_modules' || entry === '.git') continue;
    cpSync(join(ROOT, entry), join(copy, entry), { recursive: true, verbatimSymlinks: true });
  }
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'), 'dir');
  return copy;
}

function git(...args: string[]): string {
  const r = spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : '';
}

function oneLine(s: string, max = 110): string {
  const t = s.replace(/\s+/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
}

function table(results: readonly Result[]): string {
  const rows = results.map(
    (r) => `| \`${r.mutant.id}\` | ${r.mutant.area} | \`${r.mutant.file.replace(/^src\//, '')}\` | ${r.mutant.bug.replace(/\|/g, '\\|')} | **${r.status}** | ${r.seconds.toFixed(1)} | ${oneLine(r.detail, 90).replace(/\|/g, '\\|')} |`,
  );
  return ['| mutant | area | file (src/) | the bug it models | result | s | caught by |', '|---|---|---|---|---|---|---|', ...rows].join('\n');
}

function summary(results: readonly Result[]): string {
  const count = (s: Status) => results.filter((r) => r.status === s).length;
  const parts = [`${count('killed')} killed`, `${count('survived')} survived`, `${count('stale')} stale`];
  if (count('timeout')) parts.push(`${count('timeout')} timed out`);
  if (count('error')) parts.push(`${count('error')} not run (error)`);
  return `${results.length} mutants: ${parts.join(', ')}`;
}

interface Options {
  only?: Set<string>;
  check: boolean;
  docs: boolean;
  keep: boolean;
  timeoutMs: number;
}

function parseOptions(argv: string[]): Options {
  const o: Options = { check: false, docs: false, keep: false, timeoutMs: 120_000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--check') o.check = true;
    else if (a === '--docs') o.docs = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--only') o.only = new Set((argv[++i] ?? '').split(',').filter(Boolean));
    else if (a === '--timeout') o.timeoutMs = Number(argv[++i]) * 1000;
    else if (a === '--help' || a === '-h') {
      console.log('usage: npm run mutate -- [--only id,id] [--check] [--docs] [--keep] [--timeout seconds]');
      process.exit(0);
    } else {
      console.error(`mutate: unknown option ${a} (see --help)`);
      process.exit(64);
    }
  }
  if (!(o.timeoutMs > 0)) {
    console.error('mutate: --timeout needs a number of seconds');
    process.exit(64);
  }
  if (o.docs && o.only) {
    console.error('mutate: --docs records a full run; leave out --only');
    process.exit(64);
  }
  if (o.only) {
    const unknown = [...o.only].filter((id) => !MUTANTS.some((m) => m.id === id));
    if (unknown.length) {
      console.error(`mutate: no mutant ${unknown.join(', ')}`);
      process.exit(64);
    }
  }
  return o;
}

async function main(): Promise<number> {
  const opts = parseOptions(process.argv.slice(2));
  const shape = structureProblems(MUTANTS, ROOT);
  if (shape.length) {
    console.error(`scripts/mutants.ts is not well-formed:\n  ${shape.join('\n  ')}`);
    return 2;
  }
  const chosen = MUTANTS.filter((m) => !opts.only || opts.only.has(m.id));
  const started = Date.now();
  const results: Result[] = [];
  const runnable: Mutant[] = [];
  for (const m of chosen) {
    const why = staleness(m, ROOT);
    if (why) results.push({ mutant: m, status: 'stale', detail: why, seconds: 0 });
    else runnable.push(m);
  }
  if (opts.check) {
    for (const r of results) console.log(`stale     ${r.mutant.id}: ${r.detail}`);
    console.log(`${chosen.length - results.length} of ${chosen.length} mutants apply to the current source`);
    return results.length ? 1 : 0;
  }

  const options = compilerOptions();
  const copy = makeCopy();
  const cleanup = () => {
    if (current) killGroup(current);
    if (!opts.keep) rmSync(copy, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      cleanup();
      console.error(`\nmutate: interrupted (${sig}); the working tree was never changed`);
      process.exit(130);
    });
  }
  try {
    // Each mutated file must compile alone to exactly what tsc made of it, or its mutants would test other code.
    for (const file of new Set(runnable.map((m) => m.file))) {
      const js = readFileSync(join(copy, jsOf(file)), 'utf8');
      const again = transpile(readFileSync(join(copy, file), 'utf8'), join(copy, file), options);
      if ('error' in again || stripMapComment(again.js) !== stripMapComment(js)) {
        const why = 'error' in again ? again.error : 'the output differs (dist is stale? npm run mutate builds first)';
        console.error(`mutate: ${file} does not compile alone to what tsc built: ${why}`);
        return 2;
      }
    }
    // The chosen tests must pass without any mutant, or every mutant would look killed.
    const allTests = [...new Set(runnable.flatMap((m) => m.tests))];
    process.stdout.write(`baseline: ${allTests.length} test files without mutants … `);
    const base = await runMocha(copy, allTests, opts.timeoutMs * 2, 'baseline');
    if (base.code !== 0) {
      console.log('FAILED');
      console.error(base.failure ?? base.tail);
      console.error('mutate: the tests fail without any mutant; fix them first');
      return 2;
    }
    console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);

    let i = 0;
    for (const m of chosen) {
      i++;
      const stale = results.find((r) => r.mutant === m);
      if (stale) {
        console.log(`[${String(i).padStart(2)}/${chosen.length}] stale     ${m.id}: ${stale.detail}`);
        continue;
      }
      const t0 = Date.now();
      const srcPath = join(copy, m.file);
      const jsPath = join(copy, jsOf(m.file));
      const src = readFileSync(srcPath, 'utf8');
      const js = readFileSync(jsPath, 'utf8');
      const mutated = src.replace(m.find, () => m.replace);
      let result: Result;
      const compiled = transpile(mutated, srcPath, options);
      if ('error' in compiled) {
        result = { mutant: m, status: 'error', detail: `does not compile: ${compiled.error}`, seconds: 0 };
      } else {
        try {
          writeFileSync(srcPath, mutated);
          writeFileSync(jsPath, compiled.js);
          const run = await runMocha(copy, m.tests, opts.timeoutMs, m.id);
          const seconds = (Date.now() - t0) / 1000;
          if (run.timedOut) result = { mutant: m, status: 'timeout', detail: `tests still running after ${opts.timeoutMs / 1000} s`, seconds };
          else if (run.code === 0) result = { mutant: m, status: 'survived', detail: `no test in ${m.tests.join(', ')} failed`, seconds };
          else result = { mutant: m, status: 'killed', detail: run.failure ?? `mocha exited ${run.code}: ${oneLine(run.tail.slice(-300))}`, seconds };
        } finally {
          writeFileSync(srcPath, src);
          writeFileSync(jsPath, js);
        }
      }
      results.push(result);
      console.log(`[${String(i).padStart(2)}/${chosen.length}] ${result.status.padEnd(9)} ${m.id} (${result.seconds.toFixed(1)} s)  ${oneLine(result.detail, 100)}`);
    }
  } finally {
    cleanup();
  }

  const ordered = chosen.map((m) => results.find((r) => r.mutant === m)!);
  const seconds = (Date.now() - started) / 1000;
  const line = `${summary(ordered)}; ${seconds.toFixed(0)} s`;
  console.log(`\n${table(ordered)}\n\n${line}`);
  if (opts.docs) writeDocs(ordered, seconds);
  return ordered.every((r) => r.status === 'killed') ? 0 : 1;
}

function writeDocs(results: readonly Result[], seconds: number): void {
  const path = join(ROOT, DOCS);
  const text = readFileSync(path, 'utf8');
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a === -1 || b < a) {
    console.error(`mutate: ${DOCS} has no ${BEGIN} … ${END} block; result not written`);
    return;
  }
  const commit = git('rev-parse', '--short', 'HEAD') || 'unknown';
  const dirty = git('status', '--porcelain', '--', 'src', 'test', 'scripts') ? ' with uncommitted changes' : '';
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const block = [
    BEGIN,
    `Last run: ${when} UTC, commit \`${commit}\`${dirty}, node ${process.version}, ${seconds.toFixed(0)} s on this 2-core machine. ${summary(results)}.`,
    '',
    table(results),
    END,
  ].join('\n');
  writeFileSync(path, text.slice(0, a) + block + text.slice(b + END.length));
  console.log(`wrote the result into ${DOCS}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(err);
      process.exit(2);
    },
  );
}
