// `npm run test:pi -- --arch arm64|armhf`: builds and tests the kiosk on Raspberry Pi OS's CPU and Node, here, under
// qemu-user. A Debian 13 root for that arch (made with debootstrap when missing, reused after), this checkout copied
// in, `npm ci` with Debian's Node and npm, `npm run build`, the mocha suite (a stated subset: scripts/pi-platform.ts),
// `kiosk demo --auto 7`, and cold start against bare `node -e ''` under the same emulation; one JSON line at the end.
// The native modules are compiled by Debian's cross compilers (crossbuild-essential-<arch>) against the root's Node
// headers, on this CPU: the same compiler family a Pi runs, minutes instead of an hour of emulated gcc. Modules that
// ship their binaries for that CPU inside the npm package (koffi, @serialport/bindings-cpp) run their own install
// scripts in the root, as on a Pi. docs/tests.md has the how and the measured lines; needs root (chroot, mounts).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireLock } from '../src/kiosk/lock.js';
import { aptMirror, LEFT_OUT, mochaCounts, NOT_PLACED, SUBSET, parsePiArgs, PiUsageError, resultLine, ROOT_PACKAGES, SLOWDOWN, SUITE, USAGE, type PiOptions } from './pi-platform.js';
import { crossBuild, nativePackages } from './pi-native.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const APP = '/srv/umpay-kiosk'; // the checkout's copy, inside the root
const PATH_IN_ROOT = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const CA_IN_ROOT = '/etc/kiosk-test-pi/npm-ca.pem';
const MARKER = 'etc/kiosk-test-pi/root-finished'; // written once apt-get has finished the root

class Fail extends Error {}

interface Ctx {
  o: PiOptions;
  root: string;
  log: string;
}

function say(c: Ctx, text: string): void {
  process.stderr.write(`test:pi ${c.o.arch.debian}: ${text}\n`);
}

/** Runs a command with its output appended to the log (and returned when `capture`); resolves with the exit code. */
/** The process groups running now: stopped with the run (an emulated `npm ci` must not outlive a Ctrl-C). */
const running = new Set<number>();

function run(c: Ctx, cmd: string, args: string[], opt: { env?: NodeJS.ProcessEnv; cwd?: string; capture?: boolean } = {}): Promise<{ code: number; out: string }> {
  const fd = openSync(c.log, 'a');
  writeFileSync(fd, `\n$ ${cmd} ${args.join(' ')}\n`);
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opt.cwd, env: opt.env ?? process.env, stdio: ['ignore', opt.capture ? 'pipe' : fd, opt.capture ? 'pipe' : fd], detached: true });
    const pid = p.pid;
    if (pid !== undefined) running.add(pid);
    let out = '';
    const keep = (d: Buffer) => {
      out += d.toString();
      writeFileSync(fd, d);
    };
    p.stdout?.on('data', keep);
    p.stderr?.on('data', keep);
    p.on('error', (err) => {
      closeSync(fd);
      reject(err);
    });
    p.on('close', (code, signal) => {
      if (pid !== undefined) running.delete(pid);
      closeSync(fd);
      resolve({ code: code ?? (signal ? 128 : 1), out });
    });
  });
}

/** A shell command inside the root, niced, with a clean environment (plus `env`), in the checkout's copy. */
function inRoot(c: Ctx, script: string, env: Record<string, string> = {}, capture = false) {
  const vars = Object.entries({ PATH: PATH_IN_ROOT, HOME: '/root', LANG: 'C.UTF-8', TERM: 'dumb', ...env }).map(([k, v]) => `${k}=${v}`);
  return run(c, 'nice', ['-n', '10', 'chroot', c.root, '/usr/bin/env', '-i', ...vars, '/bin/sh', '-c', `cd ${APP} 2>/dev/null; ${script}`], { capture });
}

async function must(c: Ctx, what: string, p: Promise<{ code: number; out: string }>): Promise<string> {
  const r = await p;
  if (r.code !== 0) throw new Fail(`${what} failed (exit ${r.code}); the log is ${c.log}`);
  return r.out;
}

async function timed<T>(c: Ctx, what: string, f: () => Promise<T>): Promise<{ value: T; s: number }> {
  say(c, `${what} ...`);
  const t = process.hrtime.bigint();
  const value = await f();
  const s = Number(process.hrtime.bigint() - t) / 1e9;
  say(c, `${what}: ${s.toFixed(1)} s`);
  return { value, s };
}

function preflight(o: PiOptions): void {
  if (process.getuid?.() !== 0) throw new Fail('needs root (debootstrap, chroot and mounts): run it with sudo');
  const binfmt = `/proc/sys/fs/binfmt_misc/qemu-${o.arch.qemu}`;
  if (!existsSync(binfmt) || !readFileSync(binfmt, 'utf8').startsWith('enabled')) {
    throw new Fail(`${binfmt} is not enabled: apt install qemu-user-static binfmt-support (and mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc)`);
  }
  if (spawnSync(`${o.arch.triplet}-g++`, ['--version'], { stdio: 'ignore' }).status !== 0) throw new Fail(`${o.arch.triplet}-g++ not found: apt install crossbuild-essential-${o.arch.debian}`);
}

function hostMirror(): string | undefined {
  const files: { name: string; text: string }[] = [];
  const read = (name: string) => existsSync(name) && files.push({ name, text: readFileSync(name, 'utf8') });
  read('/etc/apt/sources.list');
  const dir = '/etc/apt/sources.list.d';
  if (existsSync(dir)) for (const f of readdirSync(dir).sort()) read(path.join(dir, f));
  return aptMirror(files);
}

/** Makes the root when there is none, finishes an existing one (missing packages, broken dependencies). */
async function ensureRoot(c: Ctx): Promise<void> {
  if (!existsSync(path.join(c.root, 'usr/bin/dpkg'))) {
    if (existsSync(c.root) && readdirSync(c.root).length > 0) throw new Fail(`${c.root} is not empty and holds no Debian root: give another --roots`);
    const mirror = c.o.mirror ?? hostMirror();
    if (!mirror) throw new Fail('no Debian mirror in /etc/apt/sources.list{,.d}: give --mirror URL');
    if (spawnSync('debootstrap', ['--version'], { stdio: 'ignore' }).status !== 0) throw new Fail('debootstrap not found: apt install debootstrap');
    mkdirSync(c.root, { recursive: true });
    say(c, `making a Debian ${SUITE} ${c.o.arch.debian} root in ${c.root} (about half an hour)`);
    const r = await run(c, 'debootstrap', [`--arch=${c.o.arch.debian}`, '--variant=minbase', `--include=${ROOT_PACKAGES.join(',')}`, SUITE, c.root, mirror]);
    // --include does not resolve every dependency (npm's): debootstrap then fails configuring them, with the base
    // system in place. apt-get finishes that below; a root without apt is beyond finishing.
    if (r.code !== 0) say(c, `debootstrap exited ${r.code} (--include leaves some of npm's dependencies out): apt-get finishes it`);
  }
  if (!existsSync(path.join(c.root, 'usr/bin/apt-get'))) throw new Fail(`${c.root} is a Debian root without apt (a debootstrap cut short?): remove it or give another --roots; the log is ${c.log}`);
}

async function finishRoot(c: Ctx): Promise<void> {
  // Names resolve in the root as here. A symlink there (to systemd's stub) would point into this machine's /run.
  const resolv = path.join(c.root, 'etc/resolv.conf');
  rmSync(resolv, { force: true });
  writeFileSync(resolv, readFileSync('/etc/resolv.conf'));
  mkdirSync(path.join(c.root, 'etc/kiosk-test-pi'), { recursive: true });
  const q = await inRoot(c, `dpkg-query -W -f='\${Package} \${db:Status-Abbrev}\\n' ${ROOT_PACKAGES.join(' ')} 2>/dev/null; apt-get check >/dev/null 2>&1 || echo broken`, {}, true);
  const installed = new Set(q.out.split('\n').filter((l) => / ii\s*$/.test(l)).map((l) => l.split(' ')[0]));
  const missing = ROOT_PACKAGES.filter((p) => !installed.has(p));
  const marker = path.join(c.root, MARKER);
  if (missing.length === 0 && !q.out.includes('broken') && existsSync(marker)) return;
  say(c, `finishing the root: ${missing.length ? `installing ${missing.join(' ')}` : 'broken dependencies'}`);
  const apt = 'DEBIAN_FRONTEND=noninteractive apt-get -y -o Dpkg::Use-Pty=0';
  await must(c, 'apt-get in the root', inRoot(c, `${apt} update && ${apt} --fix-broken install && ${apt} install --no-install-recommends ${ROOT_PACKAGES.join(' ')}`));
  writeFileSync(marker, `finished by npm run test:pi ${new Date().toISOString()}: ${ROOT_PACKAGES.join(' ')}\n`);
}

const mounted: string[] = [];

async function mountRoot(c: Ctx): Promise<void> {
  const table = readFileSync('/proc/mounts', 'utf8');
  const has = (p: string) => table.includes(` ${p} `);
  const proc = path.join(c.root, 'proc');
  const dev = path.join(c.root, 'dev');
  if (!has(proc)) {
    await must(c, 'mount proc', run(c, 'mount', ['-t', 'proc', 'proc', proc]));
    mounted.push(proc);
  }
  if (!has(dev)) {
    await must(c, 'mount dev', run(c, 'mount', ['--rbind', '/dev', dev]));
    mounted.push(dev);
    await must(c, 'mount dev', run(c, 'mount', ['--make-rslave', dev]));
  }
}

function unmountRoot(): void {
  for (const m of mounted.splice(0).reverse()) {
    if (spawnSync('umount', ['-R', m]).status !== 0) spawnSync('umount', ['-R', '-l', m]);
  }
}

/** The checkout as git sees it (tracked and untracked files, not ignored ones: no node_modules, no dist). */
async function copyCheckout(c: Ctx): Promise<void> {
  const dest = path.join(c.root, APP);
  rmSync(dest, { recursive: true, force: true });
  mkdirSync(dest, { recursive: true });
  const ls = spawnSync('git', ['-C', REPO, 'ls-files', '-z', '-co', '--exclude-standard'], { encoding: 'utf8' });
  if (ls.status !== 0) throw new Fail(`git ls-files in ${REPO} failed: ${ls.stderr}`);
  const files = ls.stdout.split('\0').filter((f) => f && existsSync(path.join(REPO, f)));
  const list = path.join(c.o.roots, `${c.o.arch.debian}-files.txt`);
  writeFileSync(list, files.join('\0'));
  await must(c, 'copying the checkout', run(c, 'sh', ['-c', `tar -C "$1" --null -T "$2" -cf - | tar -C "$3" -xf -`, 'sh', REPO, list, dest]));
  rmSync(list);
}

/** `npm ci` as on a Pi, with the registry and CA this machine's npm uses; native modules compiled (see the top). */
async function npmCi(c: Ctx): Promise<void> {
  const npmConfig = (key: string) => {
    const v = spawnSync('npm', ['config', 'get', key], { encoding: 'utf8', cwd: REPO }).stdout.trim();
    return v && v !== 'null' && v !== 'undefined' ? v : undefined;
  };
  const env: Record<string, string> = { npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const registry = npmConfig('registry');
  if (registry) env.npm_config_registry = registry;
  for (const k of ['proxy', 'https-proxy', 'noproxy']) {
    const v = npmConfig(k);
    if (v) env[`npm_config_${k.replace('-', '_')}`] = v;
  }
  const ca = npmConfig('cafile') ?? process.env.NODE_EXTRA_CA_CERTS ?? '/etc/ssl/certs/ca-certificates.crt';
  if (existsSync(ca)) {
    mkdirSync(path.join(c.root, path.dirname(CA_IN_ROOT)), { recursive: true });
    writeFileSync(path.join(c.root, CA_IN_ROOT), readFileSync(ca));
    Object.assign(env, { npm_config_cafile: CA_IN_ROOT, NODE_EXTRA_CA_CERTS: CA_IN_ROOT });
  }
  await must(c, 'npm ci --ignore-scripts in the root', inRoot(c, 'npm ci --ignore-scripts --no-audit --no-fund', env));
  const pkgs = nativePackages(path.join(c.root, APP));
  for (const p of pkgs.compile) {
    say(c, `cross-compiling ${p.dir} (${c.o.arch.triplet}-g++)`);
    const cwd = path.join(c.root, APP, p.dir);
    const t = process.hrtime.bigint();
    const r = await crossBuild(c.root, c.o.arch, (cmd, args, env2) => run(c, cmd, args, { env: env2, cwd }));
    say(c, `${p.dir}: exit ${r.code} after ${(Number(process.hrtime.bigint() - t) / 1e9).toFixed(1)} s`);
    // As npm does: an optional dependency that does not build is left out, anything else fails the install.
    if (r.code !== 0 && !p.optional) throw new Fail(`cross-compiling ${p.dir} failed (exit ${r.code}); the log is ${c.log}`);
    if (r.code !== 0) say(c, `${p.dir} (optional) did not build: left out, as npm leaves it out`);
  }
  if (pkgs.ownScripts.length) {
    say(c, `install scripts in the root: ${pkgs.ownScripts.join(' ')}`);
    await must(c, 'npm rebuild in the root', inRoot(c, `npm rebuild ${pkgs.ownScripts.join(' ')}`, env));
  }
}

function testFiles(c: Ctx): string[] {
  const dir = path.join(c.root, APP, 'dist/test');
  const all = readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.test.js'))
    .sort();
  const unplaced = all.filter((f) => !(f in SUBSET) && !(f in LEFT_OUT));
  if (unplaced.length && !c.o.all) say(c, `left out, ${NOT_PLACED}: ${unplaced.join(' ')}`);
  return all.filter((f) => c.o.all || f in SUBSET).map((f) => `dist/test/${f}`);
}

async function main(argv: string[]): Promise<number> {
  let o: PiOptions;
  try {
    o = parsePiArgs(argv, process.env);
  } catch (err) {
    if (!(err instanceof PiUsageError)) throw err;
    process.stderr.write(`test:pi: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  preflight(o);
  mkdirSync(o.roots, { recursive: true });
  const c: Ctx = { o, root: path.join(o.roots, o.arch.debian), log: path.join(o.roots, `${o.arch.debian}-test-pi.log`) };
  writeFileSync(c.log, `npm run test:pi -- ${argv.join(' ')}  (${new Date().toISOString()})\n`);
  say(c, `root ${c.root}, log ${c.log}`);
  const lock = acquireLock(path.join(o.roots, `${o.arch.debian}.lock`));
  const stop = () => {
    for (const pid of running) {
      try {
        process.kill(-pid, 'SIGKILL'); // the whole group: chroot, the emulated shell and what it started
      } catch {
        // already gone
      }
    }
    unmountRoot();
    process.exit(130);
  };
  process.once('SIGINT', stop).once('SIGTERM', stop);
  try {
    await ensureRoot(c);
    await mountRoot(c);
    await finishRoot(c);
    const node = (await must(c, 'node -v in the root', inRoot(c, 'node -v', {}, true))).trim();
    say(c, `Debian's ${node}, copying the checkout to ${APP}`);
    await copyCheckout(c);
    const ci = await timed(c, 'npm ci', () => npmCi(c));
    const build = await timed(c, 'npm run build', () => must(c, 'npm run build', inRoot(c, 'npm run build')));
    const native = await inRoot(c, 'node dist/scripts/pi-native-check.js', {}, true);
    for (const l of native.out.trim().split('\n')) say(c, l);
    if (native.code !== 0) throw new Fail(`a native module does not load in the root; the log is ${c.log}`);
    const files = testFiles(c);
    const tests = await timed(c, `mocha, ${files.length} files${o.all ? '' : ` (${Object.keys(LEFT_OUT).length} left out: scripts/pi-platform.ts)`}`, () =>
      inRoot(c, `KIOSK_TEST_SLOWDOWN=${SLOWDOWN} node node_modules/mocha/bin/mocha.js --parallel --jobs 2 --timeout 120000 ${files.join(' ')}`, {}, true),
    );
    const counts = mochaCounts(tests.value.out) ?? { passing: 0, failing: -1, pending: 0 };
    say(c, `tests: ${JSON.stringify(counts)}`);
    if (counts.failing !== 0) process.stderr.write(`${tests.value.out.slice(Math.max(0, tests.value.out.search(/^\s*\d+ passing/m))).slice(0, 8000)}\n`);
    const demo = await timed(c, 'kiosk demo --auto 7', () => inRoot(c, 'node dist/src/cli/kiosk.js demo --auto 7 --data /tmp/kiosk-test-pi-demo'));
    const cold = await timed(c, 'cold start, median of 5', () => inRoot(c, 'BENCH_STARTS=5 node dist/scripts/pi-cold-start.js', {}, true));
    const coldLine = cold.value.out.trim().split('\n').filter((l) => l.startsWith('{')).pop();
    const ratio = cold.value.code === 0 && coldLine ? (JSON.parse(coldLine) as { ratio: number }).ratio : null;
    if (coldLine) say(c, `cold start ${coldLine}`);
    const demoResult = demo.value.code === 0 ? 'ok' : `failed (exit ${demo.value.code})`;
    process.stdout.write(`${resultLine({ arch: o.arch.debian, node, npmCiS: ci.s, buildS: build.s, tests: counts, demo: demoResult, coldStartRatio: ratio })}\n`);
    return counts.failing === 0 && demo.value.code === 0 && ratio !== null ? 0 : 1;
  } finally {
    unmountRoot();
    lock.release();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    unmountRoot();
    process.stderr.write(`test:pi: ${err instanceof Fail ? err.message : (err as Error).stack}\n`);
    process.exit(1);
  },
);
