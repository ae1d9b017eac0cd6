// `kiosk fleet watch` and `kiosk fleet cmd` over three demo kiosks (the real daemon wiring, sim hardware,
// sandboxes) reporting to one in-process broker. FLEET_WATCH_PRINT=1 prints the table (docs/fleet.md shows it).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCustomers, startDemo, type Demo } from '../../src/kiosk/demo.js';
import { recordFleetEvent } from '../../src/kiosk/fleet.js';
import { openJournal } from '../../src/journal/journal.js';
import { createLogger } from '../../src/log.js';
import { run as fleetCli, watchTable } from '../../src/cli/fleet.js';
import { run as doctor } from '../../src/cli/doctor.js';
import { captureIo } from '../../src/cli/tech/format.js';
import { COMMAND_NAMES, TOPICS } from '../../src/fleet/protocol.js';
import { startBroker, Watcher, type Broker } from './helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/fleet.md', import.meta.url));

describe('kiosk fleet watch / cmd / keygen (three demo kiosks, in-process broker)', function () {
  this.timeout(30_000);
  let dir: string;
  let broker: Broker;
  const demos: Demo[] = [];
  let keyDir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-watch-'));
    broker = await startBroker();
    keyDir = join(dir, 'ops');
    const io = captureIo();
    assert.equal(await fleetCli(['keygen', '--out', keyDir], io), 0, io.stderr());
    for (const [i, id] of ['K-0001', 'K-0002', 'K-0003'].entries()) {
      const demo = await startDemo({
        dataDir: join(dir, id),
        fast: true,
        deviceId: id,
        log: createLogger({ level: 'silent' }),
        fleet: { url: broker.url, protocolVersion: 4, operatorKeys: join(keyDir, 'operator.pub.pem') },
      });
      demos.push(demo);
      await runCustomers(demo, [3, 1, 2][i]!);
      await demo.daemon.engine.whenIdle();
    }
    // K-0003 vanishes without a word (the broker's Last Will), K-0002 stops cleanly.
    (demos[2]!.daemon.fleet as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await demos[1]!.close();
  });
  after(async () => {
    for (const d of [demos[0], demos[2]]) await d?.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keygen: a private key 0600 and a public key; never overwrites', async () => {
    assert.equal(statSync(join(keyDir, 'operator.key.pem')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(keyDir, 'operator.pub.pem'), 'utf8'), /BEGIN PUBLIC KEY/);
    const io = captureIo();
    assert.equal(await fleetCli(['keygen', '--out', keyDir], io), 3);
    assert.match(io.stderr(), /exists; not overwritten/);
  });

  it('keygen --out on a file that is not a folder: exit 2 in words, no stack trace', async () => {
    const io = captureIo();
    assert.equal(await fleetCli(['keygen', '--out', '/dev/null'], io), 2);
    assert.match(io.stderr(), /--out \/dev\/null: not a folder/);
    assert.doesNotMatch(io.stderr(), /EEXIST|at mkdirSync/);
  });

  it('watch --once: one row per kiosk from the retained status: online, link, attention, today, last payment', async () => {
    // The retained status follows a payment within a second (debounced): wait for it, not for a time.
    const w = await Watcher.start(broker.url, 'kiosk/K-0001/status');
    await w.waitFor((m) => (m.json.today as { count?: number } | undefined)?.count === 2, 'K-0001 status after its payments');
    await w.close();
    const io = captureIo();
    assert.equal(await fleetCli(['watch', '--broker', broker.url, '--protocol', '4', '--once', '0.5'], io), 0, io.stderr());
    const out = io.stdout();
    if (process.env.FLEET_WATCH_PRINT) process.stdout.write(out);
    const rows = out.split('\n').filter((l) => /^K-000/.test(l));
    assert.equal(rows.length, 3, out);
    assert.match(rows[0]!, /^K-0001\s+yes\s+online\s+ok\s+0\s+2\s+7\.00\s/);
    assert.match(rows[1]!, /^K-0002\s+NO \(stopped/);
    assert.match(rows[2]!, /^K-0003\s+NO \(lost/);
  });

  it('cmd: signs, sends and prints the answer (MQTT 3.1.1: the reply topic travels in the signed command)', async () => {
    const io = captureIo();
    const code = await fleetCli(['cmd', 'K-0001', 'report', '--broker', broker.url, '--protocol', '4', '--key', join(keyDir, 'operator.key.pem'), '--timeout', '5'], io);
    assert.equal(code, 0, io.stderr());
    assert.match(io.stdout(), /K-0001 report: ok/);
    assert.match(io.stdout(), /"amountFen": 700/);
    const off = captureIo();
    assert.equal(await fleetCli(['cmd', 'K-0002', 'status', '--broker', broker.url, '--protocol', '4', '--key', join(keyDir, 'operator.key.pem'), '--timeout', '0.5'], off), 1);
    assert.match(off.stderr(), /no answer from K-0002/);
  });

  it('what a broker relays cannot reach the operator terminal as escape sequences', () => {
    const hostile = { v: 1, device: 'X', online: false, reason: '\u001b]0;pwned\u0007', at: new Date(0).toISOString(), link: '\u001b[2Jgone', today: { day: 'x', count: 1, amountFen: 1.5 } };
    const out = watchTable([{ device: 'K-\u001b[31m9', status: hostile }], Date.now());
    assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f]/.test(out), JSON.stringify(out));
    assert.match(out, /K-\?\[31m9/);
  });

  it('bad input gets a clear answer, exit 2', async () => {
    const pub = join(dir, 'pub.pem');
    writeFileSync(pub, readFileSync(join(keyDir, 'operator.pub.pem')), { mode: 0o600 });
    const loose = join(dir, 'loose.pem');
    writeFileSync(loose, readFileSync(join(keyDir, 'operator.key.pem')), { mode: 0o644 });
    const cases: Array<[string[], RegExp]> = [
      [['watch'], /missing --broker/],
      [['watch', '--broker', 'http://x'], /mqtt:\/\/HOST/],
      [['cmd', 'K-0001'], /give DEVICE NAME/],
      [['cmd', 'K-0001', 'pay', '--broker', broker.url, '--key', join(keyDir, 'operator.key.pem')], /unknown command "pay"/],
      // --key is required (the table says so: usage and docs/cli.md show it without brackets).
      [['cmd', 'K-0001', 'status', '--broker', broker.url], /missing --key\n.*--broker URL --key OPERATOR\.key\.pem/],
      [['cmd', 'K-0001', 'status', '--broker', broker.url, '--key', loose], /readable by group or others/],
      [['cmd', 'K-0001', 'status', '--broker', broker.url, '--key', pub], /not a PEM private key/],
      [['frobnicate'], /unknown subcommand/],
    ];
    for (const [argv, why] of cases) {
      const io = captureIo();
      assert.equal(await fleetCli(argv, io), 2, argv.join(' '));
      assert.match(io.stderr(), why);
    }
  });

  it('kiosk doctor checks the fleet broker: connected, or what is wrong', async () => {
    const config = JSON.parse(readFileSync(demos[0]!.configFile, 'utf8')) as { fleet: Record<string, unknown> };
    const io = captureIo();
    await doctor(['--json', '--no-gateway', '--config', demos[0]!.configFile], io);
    const ok = (JSON.parse(io.stdout()) as { checks: Array<{ name: string; ok: boolean; detail: string }> }).checks.find((c) => c.name === 'fleet broker')!;
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.detail, /connected in \d+ ms \(MQTT 3\.1\.1\), 1 operator key/);
    const dead = join(dir, 'dead.json');
    writeFileSync(dead, JSON.stringify({ ...config, fleet: { ...config.fleet, url: 'mqtt://127.0.0.1:1' } }));
    // Relative paths in the copied config resolve against its folder: point them back at the demo's.
    const copy = JSON.parse(readFileSync(dead, 'utf8')) as Record<string, Record<string, string>>;
    copy.merchant!.privateKey = join(dirname(demos[0]!.configFile), copy.merchant!.privateKey!);
    copy.gateway!.platformCert = join(dirname(demos[0]!.configFile), copy.gateway!.platformCert!);
    copy.journal!.path = join(dirname(demos[0]!.configFile), copy.journal!.path!);
    writeFileSync(dead, JSON.stringify(copy));
    const io2 = captureIo();
    await doctor(['--json', '--no-gateway', '--config', dead], io2);
    const bad = (JSON.parse(io2.stdout()) as { checks: Array<{ name: string; ok: boolean; detail: string }> }).checks.find((c) => c.name === 'fleet broker')!;
    assert.equal(bad.ok, false);
    assert.match(bad.detail, /ECONNREFUSED/);
  });

  it('daemon events reach the fleet: scanner fault and back, a reconciliation summary (daemon.fleetEvent)', async () => {
    const w = await Watcher.start(broker.url, 'kiosk/K-0001/events');
    try {
      const scanner = demos[0]!.daemon.hardware.scanner;
      scanner.emit('fault', { reason: 'EIO (test)', path: 'sim' });
      scanner.emit('fault', { reason: 'EIO again', path: 'sim' }); // one event per change, not per retry
      scanner.emit('connected', { path: 'sim' });
      demos[0]!.daemon.fleetEvent('reconciliation', { day: '2026-11-30', matched: 41, mismatched: 0 });
      await w.waitFor(() => w.events().some((e) => e.type === 'reconciliation'), 'reconciliation event');
      // From another process (a second connection to the journal); off without a fleet section.
      const other = openJournal(demos[0]!.daemon.config.journal.path);
      try {
        assert.equal(recordFleetEvent({}, other, 'reconciliation', { day: 'never' }), false);
        assert.equal(recordFleetEvent(demos[0]!.daemon.config, other, 'reconciliation', { day: '2026-11-29' }), true);
      } finally {
        other.close();
      }
      demos[0]!.daemon.fleet!.kick(); // what the daemon's 5 s poll does
      await w.waitFor(() => w.events().filter((e) => e.type === 'reconciliation').length === 2, 'second reconciliation event');
      assert.deepEqual(
        w.events().map((e) => [e.type, (e.data as { state?: string; day?: string }).state ?? (e.data as { day?: string }).day]),
        [
          ['fault', 'fault'],
          ['fault', 'connected'],
          ['reconciliation', '2026-11-30'],
          ['reconciliation', '2026-11-29'],
        ],
      );
    } finally {
      await w.close();
    }
  });

  it('docs/fleet.md names every topic and command the code has', () => {
    const doc = readFileSync(DOC, 'utf8');
    for (const leaf of Object.values(TOPICS)) assert.ok(doc.includes(`<prefix>/<deviceId>/${leaf}`), leaf);
    for (const name of COMMAND_NAMES) assert.ok(doc.includes(`\`${name}\``), name);
  });
});
