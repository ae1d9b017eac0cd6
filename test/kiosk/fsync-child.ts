// Run under strace by fsync.test.ts: the real daemon in this process (sim scanner, `none` relay), three paid
// scans with the idle WAL purge between them; markers on stderr bracket each scan → vend pulse.
import { writeSync } from 'node:fs';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import { createLogger } from '../../src/log.js';

const [configFile, codesJson, idleMsText] = process.argv.slice(2);
const codes = JSON.parse(codesJson!) as string[];
const idleMs = Number(idleMsText);
const purgeMs = 100;

const daemon = await Daemon.start(loadConfig(configFile!), { log: createLogger({ level: 'warn' }), walPurgeIdleMs: purgeMs, timing: { resultMs: 10 } });
const results: string[] = [];
for (let i = 0; i < codes.length; i++) {
  // Idle long enough for the WAL purge (the daemon truncates the WAL after walPurgeIdleMs without work).
  await new Promise((r) => setTimeout(r, idleMs));
  const done = new Promise<string>((resolve) => daemon.interaction.once('payment', (p: { result: { kind: string } }) => resolve(p.result.kind)));
  daemon.interaction.once('approve', () => writeSync(2, `PULSE ${i}\n`));
  writeSync(2, `SCAN ${i}\n`);
  daemon.hardware.scanner.emit('code', codes[i]!);
  results.push(await done);
}
await daemon.stop();
writeSync(1, JSON.stringify(results) + '\n');
process.exit(0);
