// `npm run build`, after tsc: the start path of `kiosk run` and `kiosk status` (a technician's first command)
// bundled into a few files, because Node 20 loads ES modules one file at a time (zod alone is 99 files) and
// has no compile cache (docs/performance.md, cold start). tsc's output is the input, so the bundle runs the
// code tsc compiled, and the entries are written where tsc wrote them: dist/src/cli/run.js and status.js,
// which kiosk.js imports as before (and install.sh, the release and the systemd unit need nothing new). The
// chunks (what the two share, and each module loaded on demand: drivers, fleet, doctor) go to dist/src/start/,
// inside dist/src, which is what a release holds. Packages stay outside (native modules, CommonJS with
// workers, drivers loaded only when configured) except the ones on every start, listed in BUNDLED, and so do
// the modules kiosk.js itself imports (one instance of each, so its instanceof checks hold).
// dist/src/start/bundle.json maps each file written to the modules in it (test/start/imports.test.ts reads it).
// Afterwards dist/.tsbuildinfo is removed, so the next `npx tsc` (incremental) emits every file again,
// the two entries included: no stale bundle can outlive a change to the sources.
import { build, type Plugin } from 'esbuild';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../', import.meta.url)); // dist/scripts/ → dist/
const SRC = path.join(DIST, 'src');
const CHUNKS = path.join(SRC, 'start');
export const BUNDLE_MARKER = '// bundled by scripts/bundle.ts';
export const ENTRIES = ['run', 'status'] as const;

/**
 * Packages copied into the bundle (loaded on every start); every other package is imported as before. pino and its
 * dependencies are CommonJS: bundled, they are one file instead of 30 resolved and read one by one. Its transports
 * (a worker found beside thread-stream's file) would not work from the bundle; the kiosk writes to a destination
 * and never starts one (`createLogger`, src/log.ts).
 */
export const BUNDLED = ['zod', 'lossless-json', 'node-fetch', 'fetch-blob', 'formdata-polyfill', 'data-uri-to-buffer', 'node-domexception',
  'pino', '@pinojs/redact', 'atomic-sleep', 'on-exit-leak-free', 'pino-abstract-transport', 'pino-std-serializers', 'process-warning', 'quick-format-unescaped', 'real-require', 'safe-stable-stringify', 'sonic-boom', 'thread-stream', 'split2'];

const packageName = (spec: string): string => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');

const packagesOutside: Plugin = {
  name: 'packages-outside',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) => (BUNDLED.includes(packageName(args.path)) ? undefined : { path: args.path, external: true }));
  },
};

/** kiosk.js's own static imports (args.js with its UsageError and HelpRequest, the command table), transitively. */
async function dispatcherModules(): Promise<Set<string>> {
  const seen = new Set<string>();
  const visit = async (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?['"](\.{1,2}\/[^'"]+)['"]/g)) await visit(path.resolve(path.dirname(file), m[1]!));
  };
  await visit(path.join(SRC, 'cli', 'kiosk.js'));
  return seen;
}

// kiosk.js stays unbundled and catches the commands' errors by class (`instanceof UsageError`): the modules it
// imports itself must be the same instances in the bundle, so they stay outside it, imported from where tsc
// wrote them (the path from dist/src/start/ is right from dist/src/cli/ too).
const sharedWithDispatcher = (shared: Set<string>): Plugin => ({
  name: 'shared-with-kiosk-js',
  setup(b) {
    b.onResolve({ filter: /^\.{1,2}\// }, (args) => {
      const file = path.resolve(args.resolveDir, args.path);
      return shared.has(file) ? { path: path.relative(CHUNKS, file).split(path.sep).join('/'), external: true } : undefined;
    });
  },
});

// A module that finds a file beside itself (a worker, package.json) reads import.meta.url: in a chunk that
// would be the chunk's URL. Every output sits one folder below dist/src (cli/ or start/), so the module's own
// URL is its path from there, resolved against the chunk's.
const ownUrl: Plugin = {
  name: 'own-import-meta-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!args.path.startsWith(SRC + path.sep) || !text.includes('import.meta.url')) return undefined;
      const own = path.relative(CHUNKS, args.path).split(path.sep).join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(own)}, import.meta.url).href`), loader: 'js', resolveDir: path.dirname(args.path) };
    });
  },
};

export async function bundle(): Promise<void> {
  await rm(CHUNKS, { recursive: true, force: true });
  const shared = await dispatcherModules();
  const result = await build({
    entryPoints: Object.fromEntries(ENTRIES.map((e) => [`src/cli/${e}`, path.join(SRC, 'cli', `${e}.js`)])),
    outdir: DIST,
    chunkNames: 'src/start/[name]-[hash]',
    allowOverwrite: true,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    metafile: true,
    logLevel: 'warning',
    plugins: [packagesOutside, sharedWithDispatcher(shared), ownUrl],
    // The bundled packages' few CommonJS files (fetch-blob's) call require().
    banner: { js: `${BUNDLE_MARKER}\nimport { createRequire as __bundleRequire } from 'node:module';\nconst require = __bundleRequire(import.meta.url);` },
  });
  const map: Record<string, string[]> = {};
  for (const [out, o] of Object.entries(result.metafile.outputs)) {
    if (!out.endsWith('.js')) continue;
    const rel = path.relative(DIST, path.resolve(out)).split(path.sep).join('/');
    if (!/^src\/(cli|start)\/[^/]+\.js$/.test(rel)) throw new Error(`bundle: ${rel} is not one folder below dist/src (import.meta.url would be wrong)`);
    map[rel] = Object.keys(o.inputs).map((i) => path.relative(DIST, path.resolve(i)).split(path.sep).join('/'));
  }
  await writeFile(path.join(CHUNKS, 'bundle.json'), JSON.stringify(map, null, 1) + '\n');
  await rm(path.join(DIST, '.tsbuildinfo'), { force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await bundle();
}
