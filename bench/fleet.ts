// The payment path with fleet telemetry on vs off, in one run, interleaved: two engines on two journals
// against the same sandbox; "on" captures order events into the outbox (inside the transitions'
// transactions) and a FleetClient publishes them with QoS 1 to a real Mosquitto (aedes in this process
// when Mosquitto is not installed: noted, and the broker's own work then counts against "on").
// Budget: on ≤ 1.05 × off (medians).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal, type Journal } from '../src/journal/journal.js';
import { Outbox } from '../src/journal/outbox.js';
import { PaymentEngine } from '../src/payment/engine.js';
import { startSandbox, testCode } from '../src/sandbox/index.js';
import { parseFleet } from '../src/config/fleet.js';
import { FleetClient } from '../src/fleet/client.js';
import { silentLogger } from '../src/log.js';
import { median, msSince, p99, runStandalone, sandboxGateway, type BenchRow } from './lib.js';

const SAMPLES = Number(process.env.BENCH_FLEET_PAYMENTS ?? 200);
const WARMUP = 20;
const merchant = { acqSpId: 'Y471790403', acqMerId: '41509208' };

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** Mosquitto on a free loopback port with its own config, or aedes in-process if it is not installed. */
export async function startBroker(dir: string): Promise<{ url: string; kind: string; close(): Promise<void> }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nuser root\nlog_dest none\n`);
  const proc: ChildProcess = spawn(existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto', ['-c', conf], { stdio: 'ignore' });
  const failed = new Promise<boolean>((r) => proc.once('error', () => r(true)));
  for (let i = 0; i < 300; i++) {
    const ok = await Promise.race([
      new Promise<boolean>((r) => {
        const c = createConnection({ port, host: '127.0.0.1' });
        c.once('connect', () => (c.destroy(), r(true)));
        c.once('error', () => r(false));
      }),
      failed.then(() => false),
    ]);
    if (ok) return { url: `mqtt://127.0.0.1:${port}`, kind: 'mosquitto', close: async () => void proc.kill('SIGTERM') };
    if (proc.exitCode !== null || (await Promise.race([failed, Promise.resolve(false)]))) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  proc.kill('SIGKILL');
  const { Aedes } = await import('aedes');
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `mqtt://127.0.0.1:${(server.address() as { port: number }).port}`,
    kind: 'aedes (in-process)',
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
}

export async function run(): Promise<BenchRow[]> {
  const sandbox = await startSandbox();
  const dir = mkdtempSync(join(tmpdir(), 'bench-fleet-'));
  const broker = await startBroker(dir);
  const journals: Journal[] = [];
  const gateway = sandboxGateway(sandbox, merchant);
  const engineFor = (name: string): PaymentEngine => {
    const journal = openJournal(join(dir, `${name}.db`));
    journals.push(journal);
    return new PaymentEngine({ journal, gateway, merchant, deviceId: name, goods: { goodsId: 'G1', goodsInfo: 'bench' }, clockCheck: () => null });
  };
  const off = engineFor('OFF');
  const on = engineFor('ON');
  const outbox = new Outbox(journals[1]!);
  outbox.captureOrderEvents();
  const fleet = new FleetClient({ fleet: parseFleet({ url: broker.url }).fleet!, deviceId: 'ON', outbox, host: { status: () => ({}), metrics: () => ({}), commands: {} }, log: silentLogger, files: { operatorKeys: [] } });
  on.on('transition', () => fleet.kick());
  for (let i = 0; i < 200 && !fleet.connected; i++) await new Promise((r) => setTimeout(r, 10));
  await off.start();
  await on.start();
  const t: Record<'off' | 'on', number[]> = { off: [], on: [] };
  let nonce = Date.now() % 1_000_000_000;
  try {
    if (!fleet.connected) throw new Error(`no connection to ${broker.kind} at ${broker.url}`);
    for (let i = 0; i < SAMPLES + WARMUP; i++) {
      // Alternate which goes first, so neither always pays right after the other's publishing.
      for (const which of i % 2 ? (['on', 'off'] as const) : (['off', 'on'] as const)) {
        const engine = which === 'on' ? on : off;
        const start = process.hrtime.bigint();
        const r = await engine.pay({ authCode: testCode('paid', 'wechat', nonce++), amountFen: 100 }, { deliver: async () => undefined });
        const ms = msSince(start);
        if (r.kind !== 'approved') throw new Error(`bench payment not approved: ${JSON.stringify(r)}`);
        if (i >= WARMUP) t[which].push(ms);
      }
    }
    // Everything published and acknowledged (the outbox drains): telemetry kept up with the payments.
    for (let i = 0; i < 500 && outbox.depth().count > 0; i++) await new Promise((r) => setTimeout(r, 10));
  } finally {
    const left = outbox.depth().count;
    await fleet.stop(500);
    await off.stop(0);
    await on.stop(0);
    gateway.close();
    for (const j of journals) j.close();
    await broker.close();
    await sandbox.close();
    rmSync(dir, { recursive: true, force: true });
    if (left > 0) throw new Error(`${left} events still in the outbox after the run`);
  }
  const ratio = median(t.on) / median(t.off);
  return [
    { name: 'fleet: payment, telemetry off', unit: 'ms', median: median(t.off), p99: p99(t.off) },
    {
      name: 'fleet: payment, telemetry on (outbox + MQTT QoS 1)',
      unit: 'ms',
      median: median(t.on),
      p99: p99(t.on),
      baseline: 'fleet: payment, telemetry off',
      ratio,
      budget: '<= 1.05x',
      ok: ratio <= 1.05,
      note: `broker: ${broker.kind}; ${SAMPLES} payments each, interleaved; ${fleet.counters.published} events published`,
    },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await runStandalone(run);
