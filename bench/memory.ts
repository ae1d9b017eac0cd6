// Memory: RSS of the daemon process at ready and after N (default 10,000) payments through the sandbox.
// The daemon (Daemon.start, as `kiosk run`) runs alone in a child with --expose-gc and a sim scanner fed
// over IPC; the sandbox and this driver live in the parent, so the RSS is the kiosk's alone. Each
// reading follows a full GC in the child. Payments are paid test codes (the common path); the customer
// window and result display are shortened in memory (BENCH_FAST) so 10,000 customers take a minute or two.
// Then the same daemon with a fleet section on (a broker on 127.0.0.1, Mosquitto or aedes in this process):
// RSS once it is ready and its status is on the broker, after a full GC (budget 76 MB).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testCode } from '../src/sandbox/index.js';
import { BenchFixture, ChildDaemon, type Mem } from './fixture.js';
import { startBroker } from './fleet.js';
import { connect } from 'mqtt';
import { topic, TOPICS } from '../src/fleet/protocol.js';
import { FLEET_DEFAULTS } from '../src/config/defaults.js';
import { PRODUCTION_FLAGS, runStandalone, type BenchRow } from './lib.js';

const PAYMENTS = Number(process.env.BENCH_MEM_PAYMENTS ?? 10_000);
const READY_BUDGET_MB = 70;
const FLEET_READY_BUDGET_MB = 76;
const GROWTH_BUDGET = 0.1;

export async function run(): Promise<BenchRow[]> {
  const fx = await new BenchFixture().start();
  // BENCH_NODE_FLAGS overrides them ("" for node's defaults); see docs/performance.md.
  const nodeFlags = process.env.BENCH_NODE_FLAGS !== undefined ? process.env.BENCH_NODE_FLAGS.split(' ').filter(Boolean) : [...PRODUCTION_FLAGS];
  const d = new ChildDaemon(fx.writeConfig(), {}, 'ignore', nodeFlags);
  try {
    await d.ready;
    const atReady = await d.memory();
    const started = Date.now();
    const nonce = Date.now() % 1_000_000;
    const warm = Math.min(1000, Math.floor(PAYMENTS / 10));
    let afterWarm: Mem = atReady;
    for (let i = 0; i < PAYMENTS; i++) {
      const r = await d.customer(testCode('paid', (['wechat', 'alipay', 'unionpay'] as const)[i % 3], nonce + i));
      if (r.kind !== 'approved') throw new Error(`payment ${i}: ${r.kind}`);
      if (i + 1 === warm) afterWarm = await d.memory();
    }
    const secs = (Date.now() - started) / 1000;
    const end = await d.memory();
    const mb = (b: number) => b / 1048576;
    const heap = (m: Mem) => `heap ${mb(m.heapUsed).toFixed(1)} used of ${mb(m.heapTotal).toFixed(1)} MB`;
    const flags = nodeFlags.length ? ` (node ${nodeFlags.join(' ')})` : ' (node defaults)';
    await d.stop();
    const fleet = await fleetAtReady(nodeFlags, flags);
    return [
      { name: `memory: RSS at ready${flags}`, unit: 'MB', median: mb(atReady.rss), budget: `<= ${READY_BUDGET_MB} MB`, ok: mb(atReady.rss) <= READY_BUDGET_MB, note: `after a full GC; ${heap(atReady)}` },
      {
        name: `memory: RSS after ${PAYMENTS} payments`,
        unit: 'MB',
        median: mb(end.rss),
        baseline: `memory: RSS at ready${flags}`,
        ratio: end.rss / atReady.rss,
        budget: `<= ${(1 + GROWTH_BUDGET).toFixed(2)}x`,
        ok: end.rss / atReady.rss - 1 <= GROWTH_BUDGET,
        note: `after a full GC; ${heap(end)}; ${(PAYMENTS / secs).toFixed(0)} payments/s`,
      },
      {
        name: `memory: RSS after ${PAYMENTS} vs after ${warm} payments`,
        unit: 'MB',
        median: mb(end.rss),
        baseline: `RSS after ${warm} payments`,
        ratio: end.rss / afterWarm.rss,
        note: `leak check once warm: after ${warm} payments RSS ${mb(afterWarm.rss).toFixed(1)} MB, ${heap(afterWarm)}`,
      },
      fleet,
    ];
  } finally {
    await d.stop();
    await fx.dispose();
  }
}

/** RSS at ready with the fleet section on, once its status is on a broker on loopback. */
async function fleetAtReady(nodeFlags: string[], flags: string): Promise<BenchRow> {
  const fx = await new BenchFixture().start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-memory-fleet-'));
  const broker = await startBroker(dir);
  // The kiosk's retained status on the broker: it is connected and has published.
  const watcher = connect(broker.url, { reconnectPeriod: 100 });
  const online = new Promise<void>((resolve) =>
    watcher.on('message', (_t, payload) => (JSON.parse(payload.toString()) as { online?: boolean }).online && resolve()),
  );
  await watcher.subscribeAsync(topic(FLEET_DEFAULTS.prefix, 'BENCH01', TOPICS.status), { qos: 1 });
  const d = new ChildDaemon(fx.writeConfig({ fleet: { url: broker.url } }), {}, 'ignore', nodeFlags);
  try {
    await d.ready;
    await online;
    const m = await d.memory();
    const mb = m.rss / 1048576;
    return {
      name: `memory: RSS at ready, fleet section on${flags}`,
      unit: 'MB',
      median: mb,
      budget: `<= ${FLEET_READY_BUDGET_MB} MB`,
      ok: mb <= FLEET_READY_BUDGET_MB,
      note: `after a full GC; heap ${(m.heapUsed / 1048576).toFixed(1)} used of ${(m.heapTotal / 1048576).toFixed(1)} MB; broker: ${broker.kind}`,
    };
  } finally {
    await d.stop();
    await watcher.endAsync();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
    await fx.dispose();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const rows = await run();
  await runStandalone(async () => rows);
  for (const r of rows) if (r.note) process.stdout.write(`${r.name}: ${r.note}\n`);
}
