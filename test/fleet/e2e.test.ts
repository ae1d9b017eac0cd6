// The fleet end to end against a real Mosquitto (MQTT 5): the daemon (`kiosk run`, a child process) with
// its scanner on a real pty (a simulated GM65 module on the other end), paying through the sandbox over HTTP,
// publishing to the broker; a watcher with a persistent session sees everything. Kill -9, a broker outage,
// hostile commands and the remote scanner-setup included.
import { releaseInfo } from '../../src/release.js';
import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openJournal } from '../../src/journal/journal.js';
import { testCode } from '../../src/sandbox/codes.js';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { run as fleetCli } from '../../src/cli/fleet.js';
import { captureIo } from '../../src/cli/tech/format.js';
import { DaemonFixture, spawnDaemon, type DaemonProcess } from '../kiosk/daemon-helpers.js';
import { PtyPair } from '../hardware/pty.js';
import { GmSim } from '../../src/hardware/sim/gm-sim.js';
import { GM_MAPS } from '../../src/hardware/modules/gm.js';
import { freePort, Mosquitto } from './mosquitto.js';
import { Watcher } from './helpers.js';
import { until } from '../wait.js';

describe('fleet end to end: daemon over a pty, sandbox, real Mosquitto (MQTT 5)', function () {
  this.timeout(40_000);
  const fx = new DaemonFixture();
  const pty = new PtyPair();
  let broker: Mosquitto;
  let watcher: Watcher;
  let daemon: DaemonProcess;
  const sim = new GmSim({ model: 'GM65' });
  let detach: () => void = () => {};
  const codes: string[] = [];
  const paidOrders: string[] = [];
  let keyFile: string;

  const ordersEvents = () => watcher.events().filter((e) => e.type === 'order');
  const outboxDepth = (): number => {
    const j = openJournal(fx.journalPath, { readonly: true });
    try {
      return (j.db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n;
    } finally {
      j.close();
    }
  };
  const outboxEmpty = (): Promise<unknown> => until('acknowledged events removed from the journal', () => (outboxDepth() === 0 ? true : undefined), { deadlineMs: 3000, everyMs: 10 });
  /** Scans a code (the kiosk is ready), waits for the customer's result (and for ready again: display.resultMs). */
  const pay = async (code: string, pattern: 'success' | 'failure', thenReady: boolean): Promise<string> => {
    codes.push(code);
    sim.present(code);
    const line = await daemon.indicator(pattern);
    paidOrders.push(String(line.orderNo));
    if (thenReady) await daemon.indicator('ready');
    return String(line.orderNo);
  };
  const start = async (): Promise<void> => {
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
  };

  before(async () => {
    // Not skipped when missing: a proof that silently does not run proves nothing.
    assert.ok(await Mosquitto.available(), 'mosquitto is not installed: apt-get install mosquitto (.ci/run does)');
    await fx.start();
    await pty.start();
    detach = pty.attach(sim);
    const kp = generateKeyPairSync('ed25519');
    keyFile = join(fx.dir, 'operator.key.pem');
    writeFileSync(keyFile, kp.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(fx.dir, 'operator.pub.pem'), kp.publicKey.export({ type: 'spki', format: 'pem' }));
    broker = new Mosquitto(fx.dir, await freePort());
    await broker.start();
    // A persistent session: what the kiosk publishes while the watcher reconnects after a broker restart is
    // queued for it.
    watcher = await Watcher.start(broker.url, 'kiosk/TEST01/#', { protocolVersion: 5, clean: false, clientId: 'e2e-watcher', reconnectPeriod: 100, properties: { sessionExpiryInterval: 600 } });
    fx.writeConfig({
      // Continuous mode: the module reads what is held up at once (the kiosk sets it up at start).
      scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR', module: 'gm', model: 'GM65', reopenMinMs: 50, reopenMaxMs: 200 },
      fleet: { url: broker.url, reconnectMs: 500, operatorKeys: 'operator.pub.pem', statusIntervalMs: 60_000 },
    });
    await start();
  });

  after(async () => {
    detach();
    await daemon?.stop('SIGKILL');
    await watcher?.close();
    await broker?.stop();
    await pty.dispose();
    await fx.dispose();
  });

  it('retained status says online; a mix of codes paid over the pty arrives as events in order, without codes', async () => {
    const online = await watcher.waitFor((m) => m.topic === 'kiosk/TEST01/status' && m.json.online === true, 'status online');
    assert.equal(online.json.link, 'online');
    assert.deepEqual(online.json.scanner, { connected: true, device: pty.device });
    // The release it runs, and the one before (a checkout: its id, no previous).
    assert.deepEqual(online.json.release, { id: releaseInfo().id, previous: null });
    // Paid, then declined (the kill -9 below restarts the kiosk: no need to wait out the last result display).
    await pay(testCode('paid', 'wechat'), 'success', true);
    await pay(testCode('insufficient-balance', 'unionpay'), 'failure', false);
    await watcher.waitFor(() => ordersEvents().length >= 2, '2 order events');
    const evs = ordersEvents();
    assert.deepEqual(
      evs.map((e) => [(e.data as { orderNo: string }).orderNo, (e.data as { state: string }).state, (e.data as { wallet: string }).wallet]),
      [
        [paidOrders[0], 'delivered', 'wechat'],
        [paidOrders[1], 'failed', 'unionpay'],
      ],
    );
    const seqs = evs.map((e) => e.seq as number);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b));
    assert.ok((evs[0]!.data as { secondsToVerdict: number }).secondsToVerdict >= 0);
    await outboxEmpty();
    // Today's takings reach the retained status.
    await watcher.waitFor((m) => m.topic === 'kiosk/TEST01/status' && (m.json.today as { count?: number })?.count === 1, 'status with 1 paid today');
  });

  it('kill -9 → the broker publishes the Last Will (offline); restarted → online again', async () => {
    const since = watcher.messages.length;
    await daemon.stop('SIGKILL');
    const will = await watcher.waitFor((m) => m.topic === 'kiosk/TEST01/status' && m.json.online === false, 'last will', 5000, since);
    assert.equal(will.json.reason, 'lost');
    const after = watcher.messages.length;
    await start();
    await watcher.waitFor((m) => m.topic === 'kiosk/TEST01/status' && m.json.online === true, 'online again', 5000, after);
  });

  it('broker stopped: the payment does not wait, its event is kept (even across a kill -9) and flushed in order when the broker returns', async () => {
    await broker.stop();
    await pay(testCode('paid', 'alipay'), 'success', false);
    // Final, in the journal's outbox, not sent.
    for (let i = 0; i < 100 && outboxDepth() < 1; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(outboxDepth(), 1);
    // The kiosk dies while the broker is away (the event is in the journal, not in memory), and starts again,
    // ready for customers, with the broker still away.
    await daemon.stop('SIGKILL');
    await start();
    await broker.start();
    await watcher.waitFor(() => ordersEvents().length >= 3, 'the kept event', 10_000);
    const evs = ordersEvents();
    assert.deepEqual(
      evs.map((e) => (e.data as { orderNo: string }).orderNo),
      paidOrders,
    );
    assert.equal(new Set(watcher.events().map((e) => e.id)).size, watcher.events().length, 'no event twice (same id)');
    await outboxEmpty();
  });

  it('a signed command is answered (kiosk fleet cmd, MQTT 5 response topic); a replayed or badly signed one is refused', async () => {
    const io = captureIo();
    const code = await fleetCli(['cmd', 'TEST01', 'report', '--broker', broker.url, '--key', keyFile, '--timeout', '10'], io);
    assert.equal(code, 0, io.stderr() + io.stdout());
    assert.match(io.stdout(), /TEST01 report: ok/);
    assert.match(io.stdout(), /"delivered"/);
    // Raw messages: the same signed command twice, and one with a forged signature.
    const { privateKey } = generateKeyPairSync('ed25519');
    const replies = await Watcher.start(broker.url, 'ops/replies', { protocolVersion: 5 });
    try {
      const env = JSON.stringify(signCommand(newCommand('TEST01', 'status'), createPrivateKey(readFileSync(keyFile))));
      const props = (c: string) => ({ qos: 1 as const, properties: { responseTopic: 'ops/replies', correlationData: Buffer.from(c) } });
      replies.client.publish('kiosk/TEST01/cmd/status', env, props('first'));
      const first = await replies.waitFor((m) => m.json.name === 'status', 'first answer');
      assert.equal(first.json.ok, true, first.text);
      replies.client.publish('kiosk/TEST01/cmd/status', env, props('replay'));
      replies.client.publish('kiosk/TEST01/cmd/reconcile', JSON.stringify(signCommand(newCommand('TEST01', 'reconcile'), privateKey)), props('forged'));
      // The replay is signed: refused on its response topic. The forged one is not: its refusal goes to the
      // kiosk's own reply topic, never where the sender said.
      const replayed = await replies.waitFor((m) => m.correlationData?.toString() === 'replay', 'the replay refusal');
      assert.match(String(replayed.json.error), /replayed/);
      const forged = await watcher.waitFor((m) => m.correlationData?.toString() === 'forged' && !m.topic.includes('/cmd/'), 'the forged refusal');
      assert.equal(forged.topic, 'kiosk/TEST01/reply');
      assert.match(String(forged.json.error), /bad signature/);
      assert.ok(!replies.messages.some((m) => m.correlationData?.toString() === 'forged'), 'nothing to the topic the forger named');
      await daemon.waitFor((l) => l.event === 'fleet-command-refused', 'refusal logged');
    } finally {
      await replies.close();
    }
  });

  it('scanner-setup: a swapped module (factory settings, TAB tail) is diagnosed and set up remotely; busy and replayed commands are refused', async () => {
    // Someone swaps the module for one with factory settings: manual mode, TAB tail. The kiosk cannot tell
    // (same port), and no code is read: the silent kiosk an operator must fix from afar.
    sim.factoryReset({ 0x0060: 0x40 });
    const saves = sim.counters.saves;
    const tail = (): string => GM_MAPS.GM65.tail!.decode([sim.zone(0x0060)]);
    // Dry run through the operator's CLI: as is → to be, nothing written.
    const io = captureIo();
    // Exit 1: the module does not match the profile (as `kiosk scanner setup --dry-run` on site).
    assert.equal(await fleetCli(['cmd', 'TEST01', 'scanner-setup', '--args', '{"dryRun":true}', '--broker', broker.url, '--key', keyFile, '--timeout', '10'], io), 1, io.stderr() + io.stdout());
    assert.match(io.stdout(), /^TEST01 scanner-setup: ok \(dry run: nothing written\)\ngm GM65 \(firmware 0x87\)\n/);
    assert.match(io.stdout(), /tail\s+TAB\s+CR\s+differs/);
    assert.match(io.stdout(), /differs: tail is TAB, the kiosk needs CR/);
    assert.match(io.stdout(), /module: ready, flash saves 1, \d+ ms/);
    assert.equal(tail(), 'TAB');
    assert.equal(sim.counters.saves, saves);

    const replies = await Watcher.start(broker.url, 'ops/setup', { protocolVersion: 5 });
    try {
      const key = createPrivateKey(readFileSync(keyFile));
      const props = (c: string) => ({ qos: 1 as const, properties: { responseTopic: 'ops/setup', correlationData: Buffer.from(c) } });
      const env = JSON.stringify(signCommand(newCommand('TEST01', 'scanner-setup'), key));
      replies.client.publish('kiosk/TEST01/cmd/scanner-setup', env, props('apply-1'));
      const applied = await replies.waitFor((m) => m.correlationData?.toString() === 'apply-1', 'the setup answer', 10_000);
      assert.equal(applied.json.ok, true, applied.text);
      const r = applied.json.result as { identity: { model: string }; written: string[]; saved: boolean; matches: boolean; settings: { setting: string; result: string }[] };
      assert.equal(r.identity.model, 'GM65');
      assert.ok(['mode', 'tail'].every((k) => r.written.includes(k)), JSON.stringify(r.written));
      assert.ok(r.settings.some((x) => x.setting === 'tail' && x.result === 'written'));
      assert.deepEqual([r.saved, r.matches], [true, true]);
      // At the module: the bytes arrived, saved to flash once.
      assert.deepEqual([tail(), sim.mode, sim.counters.saves - saves], ['CR', 'continuous', 1]);
      assert.equal(GM_MAPS.GM65.tail!.decode([sim.flashByte(0x0060)]), 'CR');
      await daemon.waitFor((l) => l.event === 'released', 'kiosk released after the setup');
      // The remote selftest sees the module as set up (never the relay, no lamps).
      replies.client.publish('kiosk/TEST01/cmd/selftest', JSON.stringify(signCommand(newCommand('TEST01', 'selftest'), key)), props('selftest'));
      const selftest = await replies.waitFor((m) => m.correlationData?.toString() === 'selftest', 'the selftest answer');
      const checks = (selftest.json.result as { ok: boolean; checks: { name: string; ok: boolean; detail: string }[] }).checks;
      assert.deepEqual(checks.find((c) => c.name === 'scanner'), { name: 'scanner', ok: true, detail: 'connected; module gm GM65: ready' });
      assert.equal((selftest.json.result as { ok: boolean }).ok, true, selftest.text);

      // The same signed command again: refused, nothing sent to the module.
      const commands = sim.counters.commands;
      replies.client.publish('kiosk/TEST01/cmd/scanner-setup', env, props('apply-replayed'));
      const replayed = await replies.waitFor((m) => m.correlationData?.toString() === 'apply-replayed', 'the replay refusal');
      assert.match(String(replayed.json.error), /^refused: replayed/);
      assert.equal(sim.counters.commands, commands);

      // A customer paying (the platform says "paying" for two queries): refused, nothing sent to the module; the
      // payment, read through the module as now set up, goes through.
      const slow = testCode('pending-then-paid', 'alipay', undefined, { queries: 2 });
      codes.push(slow);
      sim.present(slow);
      await daemon.indicator('processing');
      replies.client.publish('kiosk/TEST01/cmd/scanner-setup', JSON.stringify(signCommand(newCommand('TEST01', 'scanner-setup'), key)), props('busy'));
      const busy = await replies.waitFor((m) => m.correlationData?.toString() === 'busy', 'the busy refusal');
      assert.match(String(busy.json.error), /^busy: a customer is (paying|reading a payment's result); nothing was sent to the scanner/);
      assert.equal(sim.counters.commands, commands, 'nothing sent to the module while a customer pays');
      paidOrders.push(String((await daemon.indicator('success')).orderNo));
    } finally {
      await replies.close();
    }
  });

  it("the remote doctor runs `kiosk doctor` on the daemon's own config file (handed in by `kiosk run`)", async () => {
    const io = captureIo();
    const code = await fleetCli(['cmd', 'TEST01', 'doctor', '--broker', broker.url, '--key', keyFile, '--timeout', '20'], io);
    assert.equal(code, 0, io.stderr() + io.stdout());
    assert.match(io.stdout(), /^TEST01 doctor: ok$/m);
    const result = JSON.parse(io.stdout().slice(io.stdout().indexOf('\n') + 1)) as { exit: number; checks: { name: string; ok: boolean }[] };
    assert.equal(typeof result.exit, 'number');
    const names = result.checks.map((c) => c.name);
    for (const n of ['config', 'journal', 'gateway', 'fleet broker']) assert.ok(names.includes(n), names.join(', '));
    // In a worker thread (remoteDoctor): better-sqlite3 opens and checks the daemon's journal there too.
    assert.equal(result.checks.find((c) => c.name === 'journal')?.ok, true, JSON.stringify(result.checks.find((c) => c.name === 'journal')));
    assert.equal(result.checks.find((c) => c.name === 'config')?.ok, true, 'it read the same config file');
  });

  it('no payment code, nor an 8-digit piece of one, in anything published', () => {
    assert.ok(watcher.messages.length > 10);
    for (const m of watcher.messages) {
      for (const c of codes) for (let i = 0; i + 8 <= c.length; i++) assert.ok(!m.text.includes(c.slice(i, i + 8)), `${m.topic}: ${m.text.slice(0, 200)}`);
    }
  });
});
