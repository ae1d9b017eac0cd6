// Cold start for `npm run test:pi`, run inside the emulated root: bench/cold-start.ts's measurement (fork
// `kiosk run` to its 'ready' message, against `node -e ''` to its exit, one warm-up, then BENCH_STARTS pairs),
// printed as one JSON line: the ratio of the medians and both medians in ms.
import { run } from '../bench/cold-start.js';

const rows = await run();
const ours = rows.find((r) => r.name === 'cold-start: kiosk run to ready');
const base = rows.find((r) => r.name === ours?.baseline);
if (!ours || !base) throw new Error('bench/cold-start gave no ratio row');
process.stdout.write(`${JSON.stringify({ ratio: ours.ratio, kioskMs: ours.median, nodeMs: base.median })}\n`);
