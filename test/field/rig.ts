// The fake machine device/install.sh runs on under --root (shared by install.test.ts and mender.test.ts):
// a temp folder as /, shims for systemctl (runs the real daemon from /opt/kiosk/current) and npm (this
// checkout's node_modules), built checkouts to install from, and the commands a test runs against it.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const FIXTURES = join(REPO, 'test/fixtures/umpay');
const temps: string[] = [];

export function temp(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A built checkout to install from; `tag` makes it a different release (any changed byte does). */
export function source(tag: string, change?: (dir: string) => void): string {
  const dir = temp(`kiosk-src-${tag}-`);
  for (const p of ['dist/src', 'package.json', 'package-lock.json', 'ecosystem.config.cjs', 'ecosystem.config.js', 'device', 'systemd']) {
    cpSync(join(REPO, p), join(dir, p), { recursive: true });
  }
  writeFileSync(join(dir, 'dist/src/BUILD'), `${tag}\n`);
  change?.(dir);
  return dir;
}

/** A fake machine: an empty root with the shims install.sh runs instead of systemctl and npm. */
export function machine(): string {
  const root = temp('kiosk-root-');
  const shims = join(root, '.install/shims');
  mkdirSync(shims, { recursive: true });
  // npm ci --prefix DIR: this checkout's node_modules instead of a download (90 s and the network).
  writeFileSync(join(shims, 'npm'), `#!/bin/bash\nwhile [ $# -gt 0 ]; do [ "$1" = --prefix ] && { ln -s '${join(REPO, 'node_modules')}' "$2/node_modules"; exit 0; }; shift; done\nexit 1\n`);
  // systemctl: runs the real daemon from /opt/kiosk/current under the root; stop is SIGTERM, as systemd's.
  writeFileSync(
    join(shims, 'systemctl'),
    `#!/bin/bash
PIDF='${root}/.install/daemon.pid'
alive() { [ -f "$PIDF" ] && kill -0 "$(cat "$PIDF")" 2>/dev/null; }
stop() {
  if alive; then p="$(cat "$PIDF")"; kill -TERM "$p"; while kill -0 "$p" 2>/dev/null; do sleep 0.05; done; fi
  rm -f "$PIDF"
}
start() {
  setsid '${process.execPath}' '${root}/opt/kiosk/current/dist/src/cli/kiosk.js' run --config '${root}/etc/kiosk/config.json' </dev/null >>'${root}/.install/daemon.log' 2>&1 &
  echo $! >"$PIDF"
}
[ "$1" = is-active ] && shift
case "$1" in
  --quiet) alive ;;
  restart) stop; start ;;
  start) alive || start ;;
  stop) stop ;;
esac
exit $?
`,
  );
  chmodSync(join(shims, 'npm'), 0o755);
  chmodSync(join(shims, 'systemctl'), 0o755);
  return root;
}

export function install(src: string, root: string | undefined, ...args: string[]) {
  const r = spawnSync('bash', [join(src, 'device/install.sh'), ...(root ? ['--root', root] : []), ...args], { encoding: 'utf8', timeout: 60000 });
  return { status: r.status, out: r.stdout, err: r.stderr, all: `${r.stdout}\n${r.stderr}` };
}

/** The same, without blocking the event loop: the sandbox in this process must answer the daemon meanwhile. */
export function installAsync(src: string, root: string, ...args: string[]): Promise<ReturnType<typeof install>> {
  return new Promise((resolve) => {
    const child = spawn('bash', [join(src, 'device/install.sh'), '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (status) => resolve({ status, out, err, all: `${out}\n${err}` }));
  });
}

export const calls = (root: string) => (existsSync(join(root, '.install/calls')) ? readFileSync(join(root, '.install/calls'), 'utf8') : '');
export const mode = (p: string) => (statSync(p).mode & 0o777).toString(8).padStart(4, '0');
export const link = (root: string, name: string) => readlinkSync(join(root, 'opt/kiosk', name)).replace('releases/', '');
export const releases = (root: string) => readdirSync(join(root, 'opt/kiosk/releases')).filter((n) => !n.startsWith('.')).sort();
export const kioskCmd = (root: string, ...args: string[]) =>
  spawnSync(process.execPath, [join(root, 'opt/kiosk/current/dist/src/cli/kiosk.js'), ...args, '--config', join(root, 'etc/kiosk/config.json')], { encoding: 'utf8', timeout: 20000 });
export const systemctl = (root: string, ...args: string[]) => spawnSync(join(root, '.install/shims/systemctl'), args, { encoding: 'utf8', timeout: 20000 });

/** `fn` over the fake machine's journal, opened read-only (safe beside the running daemon). */
export function readJournal<T>(root: string, fn: (db: Database.Database) => T): T {
  const db = new Database(join(root, 'var/lib/kiosk/journal.sqlite'), { readonly: true });
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** Removes every temp folder made by temp(). */
export function removeTemps(): void {
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}
