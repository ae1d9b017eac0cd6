// The real daemon (Daemon.start, the same wiring as `kiosk run`) in a child process, for the memory
// benchmark and the soak: the parent measures this process alone (RSS) and can SIGKILL it.
// Differences from `kiosk run`, all in memory: with BENCH_FAST=1 the customer window, query interval and
// result displays are shortened (below what an operator may configure) so thousands of customers fit in
// minutes; results are reported over IPC so the parent need not parse log lines.
// IPC in:  {type:'scan', line} (sim scanner only), {type:'mem'} → {type:'mem', rss, heapUsed, …, parts} after a
//          full GC (two, 200 ms apart); parts: where the RSS is (V8's spaces, /proc/self/smaps_rollup) in bytes.
// IPC out: 'ready' (from Daemon.start), {type:'payment', kind, orderNo, state}, {type:'state', name}.
import { readFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
import { createLogger } from '../src/log.js';
import { loadConfig } from '../src/config/index.js';
import { Daemon } from '../src/kiosk/daemon.js';

const file = process.argv[2];
if (!file || !process.send) {
  process.stderr.write('usage: node --expose-gc dist/bench/daemon-child.js CONFIG (forked, with an IPC channel)\n');
  process.exit(2);
}
const send = (m: unknown) => process.connected && process.send!(m);
const config = loadConfig(file);
const fast = process.env.BENCH_FAST === '1';
if (fast) {
  config.payment.customerWindowMs = Number(process.env.BENCH_WINDOW_MS ?? 400);
  config.payment.queryIntervalMs = Number(process.env.BENCH_QUERY_MS ?? 40);
  // How long a scanned code may still be used by a request that is late: recovery waits this out before it
  // settles an order whose send is unclear (the crash harness uses 250 ms).
  config.payment.codeValidityMs = Number(process.env.BENCH_CODE_VALIDITY_MS ?? 500);
}
const log = createLogger({ level: config.log.level });
const keepAlive = setInterval(() => undefined, 1 << 30);
const daemon = await Daemon.start(config, { log, timing: fast ? { signalMs: 5, resultMs: 1 } : {} });
// With the state at that moment: after a short refusal (a flash) the kiosk stays 'ready' and no state event follows.
daemon.interaction.on('payment', (r: { result: { kind: string; orderNo?: string } }) => send({ type: 'payment', kind: r.result.kind, orderNo: r.result.orderNo, state: daemon.interaction.state.name }));
daemon.interaction.on('state', (s: { name: string }) => send({ type: 'state', name: s.name }));
process.on('message', (m: { type: string; line?: string }) => {
  if (m.type === 'scan') (daemon.hardware.scanner as unknown as { push(l: string): void }).push(m.line!);
  else if (m.type === 'mem') {
    // A full GC, and another once V8's background threads have returned the pages it freed (a reading taken
    // at once still counts them, and varied by 8 MB from run to run).
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    setTimeout(() => {
      gc?.();
      const u = process.memoryUsage();
      send({ type: 'mem', rss: u.rss, heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external, arrayBuffers: u.arrayBuffers, parts: memoryParts() });
    }, 200);
  }
});
/** Where the RSS is: each V8 space's committed size, and the kernel's split of the resident pages. */
function memoryParts(): Record<string, number> {
  const parts: Record<string, number> = {};
  for (const sp of getHeapSpaceStatistics()) parts[`v8 ${sp.space_name}`] = sp.physical_space_size;
  for (const line of readFileSync('/proc/self/smaps_rollup', 'utf8').split('\n')) {
    const m = /^(Rss|Anonymous|Private_Dirty|Shared_Clean|Private_Clean):\s+(\d+) kB/.exec(line);
    if (m) parts[`kernel ${m[1]}`] = Number(m[2]) * 1024;
  }
  return parts;
}

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await daemon.stop('signal');
  clearInterval(keepAlive);
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
process.on('disconnect', () => void stop());
