// The native modules of `npm run test:pi`: which installed packages compile C/C++ at install time (node-gyp) and
// which only run their own install script (prebuilt binaries shipped in the package, checked by loading them), and
// the cross compile: node-gyp of this machine's npm, Debian's <triplet>-gcc/g++ (crossbuild-essential-<arch>),
// the headers and config.gypi of the root's own Node (libnode-dev, /usr/include/node). Nothing of the root is linked:
// an addon's Node symbols resolve in the node process that loads it (node-gyp passes no libraries).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { PiArch } from './pi-platform.js';

interface LockEntry {
  name?: string;
  hasInstallScript?: boolean;
  optional?: boolean;
}

export interface NativePackages {
  /** node_modules/... paths compiled by node-gyp at install (`node-gyp rebuild` in their install script). */
  compile: { dir: string; optional: boolean }[];
  /** Package names whose install scripts run in the root as they are (prebuilt binaries, a message). */
  ownScripts: string[];
}

const scriptOf = (pkg: { scripts?: Record<string, string> }) => ['preinstall', 'install', 'postinstall'].map((k) => pkg.scripts?.[k] ?? '').join(' && ');

/** From the installed tree's hidden lockfile (node_modules/.package-lock.json, written by `npm ci`). */
export function nativePackages(app: string): NativePackages {
  const lock = JSON.parse(readFileSync(path.join(app, 'node_modules/.package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };
  const out: NativePackages = { compile: [], ownScripts: [] };
  for (const [dir, entry] of Object.entries(lock.packages)) {
    if (!entry.hasInstallScript || !existsSync(path.join(app, dir, 'package.json'))) continue;
    const pkg = JSON.parse(readFileSync(path.join(app, dir, 'package.json'), 'utf8')) as { name: string; scripts?: Record<string, string> };
    if (existsSync(path.join(app, dir, 'binding.gyp')) && /node-gyp rebuild/.test(scriptOf(pkg))) out.compile.push({ dir, optional: entry.optional === true });
    else if (!out.ownScripts.includes(pkg.name)) out.ownScripts.push(pkg.name);
  }
  return out;
}

/** node-gyp of the npm that runs this script (the host's). */
export function hostNodeGyp(): string {
  const candidates = [path.join(path.dirname(process.execPath), '../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js'), '/usr/share/nodejs/node-gyp/bin/node-gyp.js'];
  const found = candidates.find((f) => existsSync(f));
  if (!found) throw new Error(`node-gyp not found (looked in ${candidates.join(', ')})`);
  return found;
}

/** The environment and arguments of `node-gyp rebuild` for `arch`, against the Node in `root`. */
export function crossGyp(root: string, arch: PiArch, base: NodeJS.ProcessEnv): { args: string[]; env: NodeJS.ProcessEnv } {
  const env: NodeJS.ProcessEnv = {};
  // npm run exports its own config (npm_config_nodedir, _arch...): none of it may reach the cross build.
  for (const [k, v] of Object.entries(base)) if (!/^npm_/i.test(k)) env[k] = v;
  const t = arch.triplet;
  // Headers Debian's Node does not copy into include/node (libuv's uv.h, used through nan) come from the root,
  // after the cross compiler's own. Not -L of the root's libraries: its libc.so would replace the cross one.
  const inc = `-idirafter ${path.join(root, 'usr/include')} -idirafter ${path.join(root, 'usr/include', t)}`;
  Object.assign(env, {
    CC: `${t}-gcc`,
    CXX: `${t}-g++`,
    LINK: `${t}-g++`,
    AR: `${t}-ar`,
    RANLIB: `${t}-ranlib`,
    CC_host: 'gcc',
    CXX_host: 'g++',
    LINK_host: 'g++',
    AR_host: 'ar',
    CFLAGS: inc,
    CXXFLAGS: inc,
  });
  return { args: [hostNodeGyp(), 'rebuild', '--release', `--arch=${arch.node}`, `--nodedir=${path.join(root, 'usr')}`, '--jobs=2'], env };
}

export type Runner = (cmd: string, args: string[], env: NodeJS.ProcessEnv) => Promise<{ code: number; out: string }>;

export async function crossBuild(root: string, arch: PiArch, runInPackage: Runner): Promise<{ code: number; out: string }> {
  const { args, env } = crossGyp(root, arch, process.env);
  return runInPackage(process.execPath, args, env);
}
