// What a start loads (docs/performance.md, cold start): `kiosk run` with the sim scanner and no fleet
// section loads no driver package (serialport, onoff, johnny-five, i2c-bus), no mqtt and no pino-pretty;
// with a fleet section it loads mqtt (so the check can see a package that is there); the hardware drivers
// load their defaults without the config schema (zod); `kiosk --help` loads its command table and nothing
// heavier. Every module a process loads is listed by a preload (loaded-modules.ts): deterministic, unlike
// timing. `npm run build` bundles the start path (scripts/bundle.ts): a bundled file loaded stands here for the
// modules in it (dist/src/start/bundle.json), so these checks read the same with or without the bundle.
import assert from 'node:assert/strict';
import { execFile, fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DaemonFixture, KIOSK_JS } from '../kiosk/daemon-helpers.js';

const PRELOAD = fileURLToPath(new URL('./loaded-modules.js', import.meta.url));
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const DIST = fileURLToPath(new URL('../../', import.meta.url));
const BUNDLE_MAP = join(SRC, 'start/bundle.json');
const BUNDLE_MARKER = '// bundled by scripts/bundle.ts';

/** Packages and modules a kiosk with a sim scanner, log outputs and no fleet section has no use for. */
const NOT_WITHOUT_THEIR_DRIVER = [
  /\/node_modules\/mqtt\//,
  /\/node_modules\/(serialport|@serialport\/[^/]+)\//,
  /\/node_modules\/onoff\//,
  /\/node_modules\/johnny-five\//,
  /\/node_modules\/i2c-bus\//,
  /\/node_modules\/pino-pretty\//,
  /\/dist\/src\/fleet\/client\.js$/,
  /\/dist\/src\/kiosk\/fleet\.js$/,
  /\/dist\/src\/hardware\/pi\//,
];

/** Every file the process loaded, as written (a bundle's files as they are). */
function loadedFiles(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean);
}

/** Every module the process loaded; a bundled file (entry or chunk) as the modules in it. */
function loadedList(file: string): string[] {
  const map = existsSync(BUNDLE_MAP) ? (JSON.parse(readFileSync(BUNDLE_MAP, 'utf8')) as Record<string, string[]>) : {};
  return loadedFiles(file).flatMap((u) => {
    const path = u.startsWith('file:') ? fileURLToPath(u) : u;
    const key = Object.keys(map).find((k) => path === join(DIST, k));
    if (!key || !readFileSync(path, 'utf8').startsWith(BUNDLE_MARKER)) return [u];
    return map[key]!.map((m) => pathToFileURL(resolve(DIST, m)).href);
  });
}

describe('start-up: what is loaded', function () {
  this.timeout(60_000);
  let fx: DaemonFixture;
  before(async () => {
    fx = await new DaemonFixture().start();
  });
  after(() => fx.dispose());

  /** `kiosk run` until it says ready (IPC, as pm2 waits for it), then stopped; every module it loaded. */
  function runToReady(configFile: string): Promise<string[]> {
    const list = join(fx.dir, 'loaded.txt');
    return new Promise((resolve, reject) => {
      const p = fork(KIOSK_JS, ['run', '--config', configFile], {
        execArgv: ['--import', PRELOAD],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        env: { ...process.env, LOADED_MODULES_FILE: list },
      });
      let stderr = '';
      let ready = false;
      p.stderr!.on('data', (d) => (stderr += d));
      p.on('message', (m) => {
        if (m !== 'ready') return;
        ready = true;
        p.kill('SIGTERM');
      });
      p.on('error', reject);
      p.on('exit', () => (ready ? resolve(loadedList(list)) : reject(new Error(`kiosk run exited before ready: ${stderr}`))));
    });
  }

  it('kiosk run, sim scanner, no fleet section: no driver package, no mqtt, no pino-pretty', async () => {
    const loaded = await runToReady(fx.writeConfig());
    // The list is complete: ESM (ours) and CommonJS (a package) both appear.
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/kiosk/daemon.js')), 'our ESM modules are listed');
    assert.ok(loaded.some((u) => /\/node_modules\/better-sqlite3\//.test(u)), 'CommonJS packages are listed');
    for (const pattern of NOT_WITHOUT_THEIR_DRIVER) assert.deepEqual(loaded.filter((u) => pattern.test(u)), [], `${pattern} loaded`);
  });

  it('kiosk run loads its start path bundled (npm run build): no zod file, 40 of our files at most (108 unbundled)', async () => {
    const list = join(fx.dir, 'loaded.txt');
    await runToReady(fx.writeConfig());
    const files = loadedFiles(list);
    const run = files.find((u) => u.endsWith('/dist/src/cli/run.js'));
    assert.ok(run && readFileSync(fileURLToPath(run), 'utf8').startsWith(BUNDLE_MARKER), 'dist/src/cli/run.js is the bundle: build with `npm run build` (a bare `npx tsc` leaves it unbundled)');
    assert.deepEqual(files.filter((u) => /\/node_modules\/(zod|node-fetch|lossless-json)\//.test(u)), [], 'the bundled packages are loaded from the bundle');
    const ours = files.filter((u) => /\/dist\/src\//.test(u));
    assert.ok(ours.length <= 40, `kiosk run loads ${ours.length} of our files:\n${ours.join('\n')}`);
  });

  it('kiosk run with a fleet section: mqtt and the fleet client are loaded', async () => {
    // No broker listens there: the client keeps retrying in the background, the kiosk is ready regardless.
    const loaded = await runToReady(fx.writeConfig({ fleet: { url: 'mqtt://127.0.0.1:9', reconnectMs: 60_000 } }));
    assert.ok(loaded.some((u) => /\/node_modules\/mqtt\//.test(u)), 'mqtt loaded');
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/fleet/client.js')), 'fleet client loaded');
  });

  it('kiosk --help loads the command table only: no package, no config schema, no SQLite', async () => {
    const list = join(fx.dir, 'help.txt');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--import', PRELOAD, KIOSK_JS, '--help'], { env: { ...process.env, LOADED_MODULES_FILE: list } }, (err, _out, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(),
      ),
    );
    const loaded = loadedList(list);
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/cli/commands.js')), 'the command table was loaded');
    assert.deepEqual(loaded.filter((u) => /\/node_modules\/|\/dist\/src\/(config|journal|kiosk|payment|hardware)\//.test(u)), []);
  });

  it('the hardware drivers (sim) take their defaults without the config schema: no zod', async () => {
    const list = join(fx.dir, 'drivers.txt');
    const hardware = pathToFileURL(join(SRC, 'hardware/index.js')).href;
    const defaults = pathToFileURL(join(SRC, 'config/defaults.js')).href;
    const script = `
      const { createHardware } = await import(${JSON.stringify(hardware)});
      const { DEFAULTS: D } = await import(${JSON.stringify(defaults)});
      const hw = await createHardware({
        scanner: { ...D.scanner, driver: 'sim' }, keypad: { ...D.keypad, driver: 'sim' },
        indicator: { ...D.indicator, driver: 'sim' }, approve: { ...D.approve, driver: 'sim', confirm: { pin: 24, activeLow: true, debounceMs: 5, confirmWithinMs: 3000, retry: false, brokenAfter: 3, stuckAfterMs: 5000, simMiss: [] } },
        display: { ...D.display, driver: 'sim' },
      });
      await hw.close();`;
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--import', PRELOAD, '--input-type=module', '-e', script], { env: { ...process.env, LOADED_MODULES_FILE: list } }, (err, _out, stderr) =>
        err ? reject(new Error(stderr || err.message)) : resolve(),
      ),
    );
    const loaded = loadedList(list);
    assert.ok(loaded.some((u) => u.endsWith('/dist/src/hardware/sim/sim-scanner.js')), 'the sim drivers were loaded');
    assert.deepEqual(loaded.filter((u) => /\/node_modules\/zod\/|\/dist\/src\/config\/(schema|types|index)\.js$/.test(u)), []);
    for (const pattern of NOT_WITHOUT_THEIR_DRIVER) assert.deepEqual(loaded.filter((u) => pattern.test(u)), [], `${pattern} loaded`);
  });
});
