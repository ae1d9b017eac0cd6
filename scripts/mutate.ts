// The mutation run: StrykerJS (stryker.config.json) over one folder at a time, then that folder's score into
// docs/tests.md. Not part of `npm test` (minutes to an hour per folder on this shared 2-core machine). Run:
//
//   npm run mutate -- fleet            one folder (names in FOLDERS below; smallest first), niced
//   npm run mutate -- all              every folder, in the order below
//   npm run mutate -- payment --concurrency 2 --checker --no-docs
//
// --concurrency n   test-runner processes (default 1: the machine is shared; 2 when it is quiet)
// --checker         also run @stryker-mutator/typescript-checker (mutants that do not compile are not run;
//                   measured slower than running them here, so off by default: docs/tests.md)
// --no-docs         leave docs/tests.md alone
// --force           test every mutant again, ignoring the incremental results (Stryker sees the compiled tests
//                   only by name: a test changed under the same name is not noticed otherwise)
//
// Incremental: each folder keeps its results in reports/mutation/<folder>.incremental.json (committed), so a
// later run only tests the mutants whose code or covering tests changed. The working tree is never mutated:
// Stryker copies it into .stryker-tmp/, builds it there with tsc (mutant schemata: all mutants compiled in
// at once, switched on one at a time) and runs only the tests that cover each mutant (coverageAnalysis perTest).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';

// dist/scripts/ → the repository
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Folder {
  /** The name given to `npm run mutate` and shown in docs/tests.md. */
  name: string;
  /** Stryker's `mutate` globs (repository-relative). */
  mutate: string[];
  /** The compiled mocha test files run against this folder's mutants: the fast ones that cover it in-process. */
  spec: string[];
}

const spec = (...files: string[]): string[] => files.map((f) => `dist/test/${f}.test.js`);

/**
 * The folders of issue 21, smallest first. The specs leave out the slow end-to-end files (test/crash, test/field,
 * test/fleet/e2e, daemons on a pty, CLI runs): they exercise this code in child processes, whose coverage Stryker
 * cannot see, and would cost minutes per mutant. docs/tests.md lists what each folder's run takes.
 */
export const FOLDERS: readonly Folder[] = [
  {
    name: 'settle',
    mutate: ['src/payment/settle-*.ts'],
    spec: spec('payment/settle-compare', 'payment/settle-day', 'umpay/settle-download', 'journal/journal'),
  },
  {
    name: 'fleet',
    mutate: ['src/fleet/**/*.ts'],
    spec: spec('fleet/protocol', 'fleet/files', 'fleet/client', 'fleet/scanner-setup', 'fleet/watch', 'fleet/tls'),
  },
  {
    name: 'payment',
    mutate: ['src/payment/**/*.ts', '!src/payment/settle-*.ts'],
    spec: spec('payment/engine', 'payment/edges', 'payment/clock-steps', 'payment/drills', 'offline/link'),
  },
  {
    name: 'journal',
    mutate: ['src/journal/**/*.ts'],
    spec: spec(
      'journal/transitions', 'journal/open', 'journal/reader', 'journal/outbox-aging', 'journal/journal', 'journal/outbox', 'journal/states',
      'journal/orderno', 'journal/files', 'journal/quick-check', 'payment/engine',
    ),
  },
  {
    name: 'umpay',
    mutate: ['src/umpay/**/*.ts'],
    spec: spec('umpay/outcome', 'umpay/messages', 'umpay/authcode', 'umpay/vectors', 'umpay/vendor', 'umpay/client', 'umpay/settle-download', 'umpay/docs-example', 'sandbox/client'),
  },
];

export const CONFIG = 'stryker.config.json';
export const DOCS = 'docs/tests.md';
export const BEGIN = '<!-- mutation-scores:begin (written by npm run mutate) -->';
export const END = '<!-- mutation-scores:end -->';
export const incrementalFile = (f: Folder): string => `reports/mutation/${f.name}.incremental.json`;

export interface Counts {
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  /** Marked equivalent in the source (`// Stryker disable …: reason`). */
  ignored: number;
  /** Mutants that did not compile or crashed the runner: not counted in the score. */
  errors: number;
}

export function countStatuses(statuses: readonly string[]): Counts {
  const c: Counts = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
  for (const s of statuses) {
    if (s === 'Killed') c.killed++;
    else if (s === 'Timeout') c.timeout++;
    else if (s === 'Survived') c.survived++;
    else if (s === 'NoCoverage') c.noCoverage++;
    else if (s === 'Ignored') c.ignored++;
    else c.errors++;
  }
  return c;
}

/** Stryker's mutation score: detected / (detected + undetected); equivalents and errors do not count. */
export function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? 100 : (100 * (c.killed + c.timeout)) / valid;
}

export interface Row {
  folder: string;
  counts: Counts;
  commit: string;
  at: string;
  seconds: number;
}

const HEADER = [
  '| folder | score | killed | timeout | survived | no coverage | equivalent | errors | commit | measured (UTC) | run |',
  '|---|---|---|---|---|---|---|---|---|---|---|',
];

export function rowText(r: Row): string {
  const c = r.counts;
  const min = `${Math.round(r.seconds / 60)} min`;
  return `| ${r.folder} | **${score(c).toFixed(1)} %** | ${c.killed} | ${c.timeout} | ${c.survived} | ${c.noCoverage} | ${c.ignored} | ${c.errors} | \`${r.commit}\` | ${r.at} | ${min} |`;
}

/** docs/tests.md with this folder's row replaced (or added), the rows in FOLDERS order. */
export function withRow(docs: string, row: Row): string {
  const b = docs.indexOf(BEGIN);
  const e = docs.indexOf(END);
  if (b < 0 || e < b) throw new Error(`${DOCS}: the markers ${BEGIN} … ${END} are missing`);
  const rows = new Map<string, string>();
  for (const line of docs.slice(b + BEGIN.length, e).split('\n')) {
    const name = /^\| (\w+) \| /.exec(line)?.[1];
    if (name && name !== 'folder') rows.set(name, line);
  }
  rows.set(row.folder, rowText(row));
  const order = FOLDERS.map((f) => f.name);
  const lines = [...rows.entries()].sort(([a], [z]) => order.indexOf(a) - order.indexOf(z)).map(([, l]) => l);
  return `${docs.slice(0, b + BEGIN.length)}\n${[...HEADER, ...lines].join('\n')}\n${docs.slice(e)}`;
}

function commitMeasured(): string {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: ROOT, encoding: 'utf8' }).trim();
  const head = git('rev-parse', '--short', 'HEAD');
  return git('status', '--porcelain', '--', 'src', 'test') ? `${head}+changes` : head;
}

interface Args {
  folders: Folder[];
  concurrency: number;
  checker: boolean;
  docs: boolean;
  force: boolean;
}

export function parseArgs(argv: readonly string[]): Args | string {
  const out: Args = { folders: [], concurrency: 1, checker: false, docs: true, force: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--checker') out.checker = true;
    else if (a === '--no-docs') out.docs = false;
    else if (a === '--force') out.force = true;
    else if (a === '--concurrency') {
      const n = Number(argv[++i]);
      if (!Number.isInteger(n) || n < 1 || n > 8) return '--concurrency takes a whole number 1–8';
      out.concurrency = n;
    } else if (a === 'all') out.folders.push(...FOLDERS);
    else {
      const f = FOLDERS.find((x) => x.name === a);
      if (!f) return `unknown folder or option "${a}": one of ${FOLDERS.map((x) => x.name).join(', ')}, all; --concurrency n, --checker, --no-docs, --force`;
      out.folders.push(f);
    }
  }
  return out.folders.length ? out : `name a folder: ${FOLDERS.map((x) => x.name).join(', ')} or all`;
}

async function runFolder(f: Folder, a: Args): Promise<Row> {
  const { Stryker } = await import('@stryker-mutator/core');
  const started = Date.now();
  // The tree as Stryker copies it now (a commit made while it runs is not what it measured).
  const commit = commitMeasured();
  const stryker = new Stryker({
    configFile: CONFIG,
    mutate: f.mutate,
    mochaOptions: { config: '.mocharc.json', spec: f.spec },
    incrementalFile: incrementalFile(f),
    // A folder of its own: two folders may run side by side (each removes its own when done).
    tempDirName: `.stryker-tmp/${f.name}`,
    concurrency: a.concurrency,
    checkers: a.checker ? ['typescript'] : [],
    force: a.force,
  });
  const results = await stryker.runMutationTest();
  const row: Row = {
    folder: f.name,
    counts: countStatuses(results.map((r) => r.status)),
    commit,
    at: new Date().toISOString().slice(0, 16).replace('T', ' '),
    seconds: (Date.now() - started) / 1000,
  };
  console.log(`\n${f.name}: ${rowText(row)}`);
  return row;
}

async function main(): Promise<number> {
  const a = parseArgs(process.argv.slice(2));
  if (typeof a === 'string') {
    console.error(`npm run mutate: ${a}`);
    return 2;
  }
  process.chdir(ROOT);
  // The machine is shared: the run and every process it starts (build, test runners) yield to interactive work.
  setPriority(10);
  // mocha 12's CLI helpers as Stryker's mocha runner loads them, and no "ready" to Stryker (see the file): here
  // and, through NODE_OPTIONS, in every process Stryker starts.
  const shim = `${ROOT}scripts/stryker-preload.cjs`;
  createRequire(import.meta.url)(shim);
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --require=${shim}`.trim();
  let worst = 100;
  for (const f of a.folders) {
    const row = await runFolder(f, a);
    worst = Math.min(worst, score(row.counts));
    if (a.docs && existsSync(DOCS)) writeFileSync(DOCS, withRow(readFileSync(DOCS, 'utf8'), row));
  }
  return worst >= 90 ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then((code) => (process.exitCode = code), (err: unknown) => {
    console.error(err);
    process.exitCode = 2;
  });
}
