// Run inside the emulated root by `npm run test:pi`, after the build: each native module loads in Debian's Node for
// that CPU and answers one call (the subset's tests use SQLite, koffi and the serial binding deeply; nothing there
// loads epoll or i2c-bus, which only a Pi's GPIO and I2C reach). One line per module; exit 1 if any failed.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const checks: Record<string, () => string> = {
  'better-sqlite3': () => {
    const Database = require('better-sqlite3') as new (f: string) => { prepare(s: string): { get(): unknown }; close(): void };
    const db = new Database(':memory:');
    const v = (db.prepare('select sqlite_version() as v').get() as { v: string }).v;
    db.close();
    return `SQLite ${v}`;
  },
  koffi: () => {
    const koffi = require('koffi') as { load(n: string): { func(s: string): () => number } };
    return `getpid() = ${koffi.load('libc.so.6').func('int getpid()')()}`;
  },
  '@serialport/bindings-cpp': () => {
    const b = require('@serialport/bindings-cpp') as { autoDetect(): { name?: string } };
    return `binding ${typeof b.autoDetect()}`;
  },
  epoll: () => `Epoll ${typeof (require('epoll') as { Epoll: unknown }).Epoll}`,
  'i2c-bus': () => `openSync ${typeof (require('i2c-bus') as { openSync: unknown }).openSync}`,
};

let failed = 0;
for (const [name, check] of Object.entries(checks)) {
  try {
    process.stdout.write(`${name}: ok (${check()})\n`);
  } catch (err) {
    failed++;
    process.stdout.write(`${name}: FAILED ${(err as Error).message}\n`);
  }
}
process.exit(failed ? 1 : 0);
