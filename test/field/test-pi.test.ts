// `npm run test:pi` (scripts/test-pi.ts) without a root: its arguments, the apt mirror read from this machine's
// sources in both formats, the subset's left-out files named as they exist, mocha's summary, the JSON line, which
// native packages are compiled and which run their own scripts, the cross build's environment.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { testsDoc } from '../../scripts/docs.js';
import { crossGyp, nativePackages } from '../../scripts/pi-native.js';
import { aptMirror, ARCHES, LEFT_OUT, mochaCounts, parsePiArgs, PiUsageError, resultLine, SUBSET } from '../../scripts/pi-platform.js';

describe('test:pi (scripts/test-pi.ts)', () => {
  it('arguments: --arch is required and checked; --roots/--mirror by option or environment', () => {
    assert.throws(() => parsePiArgs([], {}), /--arch is required/);
    assert.throws(() => parsePiArgs(['--arch', 'x86'], {}), /arm64 or armhf, got "x86"/);
    assert.throws(() => parsePiArgs(['--arch'], {}), /--arch needs a value/);
    assert.throws(() => parsePiArgs(['--arch', 'arm64', '--fast'], {}), PiUsageError);
    assert.throws(() => parsePiArgs(['--arch', 'arm64', '--mirror', 'ftp.example'], {}), /http\(s\) URL/);
    const a = parsePiArgs(['--arch', 'armhf'], { KIOSK_PI_ROOTS: '/x', KIOSK_PI_MIRROR: 'http://m.example/debian' });
    assert.deepEqual(a, { arch: ARCHES.armhf, roots: '/x', mirror: 'http://m.example/debian', all: false });
    assert.equal(a.arch.node, 'arm');
    const b = parsePiArgs(['--arch', 'arm64', '--roots', '/y', '--all'], { KIOSK_PI_ROOTS: '/x' });
    assert.equal(b.roots, '/y');
    assert.equal(b.all, true);
    assert.equal(b.mirror, undefined);
  });

  it('a bad argument is a usage error (exit 2), before anything needs root', () => {
    const r = spawnSync(process.execPath, ['dist/scripts/test-pi.js', '--arch', 'mips'], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--arch must be arm64 or armhf, got "mips"/);
    assert.match(r.stderr, /usage: npm run test:pi/);
  });

  it("the apt mirror is this machine's: deb822 and one-line sources, security and other archives skipped", () => {
    const deb822 = [
      'Types: deb-src\nURIs: http://src.example/debian\nSuites: trixie\n',
      'Types: deb\nURIs: http://sec.example/debian-security\nSuites: trixie-security\n',
      'Enabled: no\nTypes: deb\nURIs: http://off.example/debian\n',
      'Types: deb\n# comment\nURIs: http://mirror.example/debian/\nSuites: trixie trixie-updates\nComponents: main\n',
    ].join('\n');
    assert.equal(aptMirror([{ name: '/etc/apt/sources.list.d/debian.sources', text: deb822 }]), 'http://mirror.example/debian');
    const list = '# deb http://commented.example/debian trixie main\ndeb [arch=amd64] https://other.example/apt stable main\ndeb [signed-by=/k.gpg] http://one.example/debian bookworm main\n';
    assert.equal(aptMirror([{ name: '/etc/apt/sources.list', text: list }]), 'http://one.example/debian');
    assert.equal(aptMirror([{ name: '/etc/apt/sources.list.d/x.list', text: 'deb https://other.example/apt stable main\n' }]), undefined);
    assert.equal(aptMirror([{ name: '/etc/apt/sources.list.d/x.list.disabled', text: 'deb http://one.example/debian bookworm main\n' }]), undefined);
  });

  it('every file the subset names or leaves out exists (a renamed file would silently drop out), each with a reason', () => {
    const files = new Set(readdirSync('dist/test', { recursive: true }).map(String));
    for (const [f, why] of Object.entries({ ...SUBSET, ...LEFT_OUT })) {
      assert.ok(files.has(f), `${f} is not a test file: rename it in scripts/pi-platform.ts`);
      assert.ok(why.length > 20, `${f} needs its reason`);
    }
    for (const f of Object.keys(SUBSET)) assert.ok(!(f in LEFT_OUT), `${f} both run and left out`);
    for (const f of ['hardware/hid.test.js', 'kiosk/lock.test.js', 'journal/journal.test.js']) assert.ok(f in SUBSET, f);
  });

  it('every test file is placed: run under emulation or left out with its reason (a new file must be decided on)', () => {
    const tests = readdirSync('dist/test', { recursive: true }).map(String).filter((f) => f.endsWith('.test.js'));
    const unplaced = tests.filter((f) => !(f in SUBSET) && !(f in LEFT_OUT));
    assert.deepEqual(unplaced, [], 'place these in SUBSET or LEFT of scripts/pi-platform.ts');
  });

  it('docs/tests.md lists the subset and every left-out file with its reason as scripts/pi-platform.ts says (npm run docs)', () => {
    const doc = readFileSync('docs/tests.md', 'utf8');
    assert.equal(doc, testsDoc(doc));
    assert.match(doc, /`test\/kiosk\/lock\.test\.ts` \| flock\(2\)/);
  });

  it("mocha's counts, the JSON line", () => {
    const out = '  x\n  1) fails\n\n  120 passing (3m)\n  4 pending\n  1 failing\n\n  1) fails:\n  Error: 2 passing expected\n';
    assert.deepEqual(mochaCounts(out), { passing: 120, failing: 1, pending: 4 });
    assert.deepEqual(mochaCounts('\n  7 passing (1s)\n'), { passing: 7, failing: 0, pending: 0 });
    assert.equal(mochaCounts('Error: cannot find module'), undefined);
    const line = resultLine({ arch: 'armhf', node: 'v20.19.2', npmCiS: 301.04, buildS: 88.26, tests: { passing: 9, failing: 0, pending: 1 }, demo: 'ok', coldStartRatio: 3.14159 });
    assert.equal(line, '{"arch":"armhf","node":"v20.19.2","npmCiS":301,"buildS":88.3,"tests":{"passing":9,"failing":0,"pending":1},"demo":"ok","coldStartRatio":3.14}');
  });

  it('native packages: node-gyp ones are cross-compiled, prebuilt ones run their own install script', () => {
    const app = mkdtempSync(path.join(tmpdir(), 'kiosk-test-pi-'));
    try {
      const pkg = (dir: string, scripts: Record<string, string>, gyp: boolean) => {
        mkdirSync(path.join(app, dir), { recursive: true });
        writeFileSync(path.join(app, dir, 'package.json'), JSON.stringify({ name: dir.replace(/^.*node_modules\//, ''), scripts }));
        if (gyp) writeFileSync(path.join(app, dir, 'binding.gyp'), '{}');
      };
      pkg('node_modules/better-sqlite3', { install: 'prebuild-install || node-gyp rebuild --release' }, true);
      pkg('node_modules/@serialport/bindings-cpp', { install: 'node-gyp-build' }, true);
      pkg('node_modules/koffi', { install: 'node ./cnoke.cjs --prebuild' }, false);
      pkg('node_modules/a/node_modules/@serialport/bindings', { install: 'prebuild-install || node-gyp rebuild' }, true);
      writeFileSync(
        path.join(app, 'node_modules/.package-lock.json'),
        JSON.stringify({
          packages: {
            'node_modules/better-sqlite3': { hasInstallScript: true },
            'node_modules/@serialport/bindings-cpp': { hasInstallScript: true },
            'node_modules/koffi': { hasInstallScript: true },
            'node_modules/a/node_modules/@serialport/bindings': { hasInstallScript: true, optional: true },
            'node_modules/not-installed': { hasInstallScript: true, optional: true },
            'node_modules/zod': {},
          },
        }),
      );
      assert.deepEqual(nativePackages(app), {
        compile: [
          { dir: 'node_modules/better-sqlite3', optional: false },
          { dir: 'node_modules/a/node_modules/@serialport/bindings', optional: true },
        ],
        ownScripts: ['@serialport/bindings-cpp', 'koffi'],
      });
    } finally {
      rmSync(app, { recursive: true, force: true });
    }
  });

  it("the cross build: Debian's cross compilers, the root's Node headers, none of npm's own config", function () {
    const gyp = path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js');
    if (!existsSync(gyp) && !existsSync('/usr/share/nodejs/node-gyp/bin/node-gyp.js')) this.skip(); // reason: no npm beside this node
    const { args, env } = crossGyp('/r', ARCHES.armhf!, { PATH: '/bin', npm_config_nodedir: '/usr', npm_config_arch: 'x64' });
    assert.deepEqual(args.slice(1), ['rebuild', '--release', '--arch=arm', '--nodedir=/r/usr', '--jobs=2']);
    assert.equal(env.CXX, 'arm-linux-gnueabihf-g++');
    assert.equal(env.CXX_host, 'g++');
    assert.equal(env.npm_config_nodedir, undefined);
    assert.equal(env.npm_config_arch, undefined);
    assert.equal(env.PATH, '/bin');
    assert.match(env.CXXFLAGS!, /-idirafter \/r\/usr\/include /);
    assert.equal(env.LDFLAGS, undefined);
  });
});
