// Preloaded (`node --import …/loaded-modules.js`) into a process whose start-up is checked: every module it
// loads goes to $LOADED_MODULES_FILE, one a line: ESM through a load hook (loaded-hooks.ts), CommonJS (the
// packages: mqtt, serialport, better-sqlite3…) from require's cache when the process exits.
import { appendFileSync, writeFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.LOADED_MODULES_FILE;
if (!file) throw new Error('LOADED_MODULES_FILE is not set');
writeFileSync(file, '');
register('./loaded-hooks.js', import.meta.url, { data: { file } });
const cache = createRequire(import.meta.url).cache;
process.on('exit', () => appendFileSync(file, Object.keys(cache).join('\n') + '\n'));
