// The remote `scanner-setup` command against an in-process broker (aedes, MQTT 3.1.1): the daemon's handler
// (src/kiosk/scanner-setup.ts) with a real Interaction and a simulated GM / Newland module behind the scanner's
// module session, signed commands over MQTT. The daemon over a real pty with MQTT 5 is in e2e.test.ts.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';
import { parseFleet } from '../../src/config/fleet.js';
import { FleetClient } from '../../src/fleet/client.js';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { createLogger, silentLogger } from '../../src/log.js';
import { Interaction } from '../../src/kiosk/interaction.js';
import { parseSetupArgs, remoteScannerSetup, type RemoteSetupParts } from '../../src/kiosk/scanner-setup.js';
import { scannerCheck } from '../../src/kiosk/fleet.js';
import { SimScanner } from '../../src/hardware/sim/sim-scanner.js';
import { GmSim } from '../../src/hardware/sim/gm-sim.js';
import { NewlandSim } from '../../src/hardware/sim/tag-sim.js';
import type { ModuleSim } from '../../src/hardware/sim/module-sim.js';
import { GM_MAPS } from '../../src/hardware/modules/gm.js';
import { testCode } from '../../src/sandbox/codes.js';
import { lineSink } from '../cli/flow.js';
import { FakeApprove, FakeEngine, FakeIndicator } from '../kiosk/fakes.js';
import { startBroker, Watcher, type Broker, type Received } from './helpers.js';
import { until } from '../wait.js';

const timing = { entryTimeoutMs: 10_000, signalMs: 50, resultMs: 50, approvePulseMs: 10, customerWindowMs: 5_000, windowEndingMs: 1_000, scrollMs: 3_000 };

const NEWLAND_TAGS = ['SCNMOD', 'ORTSET', 'GRBENA', 'RRDDUR', 'TSUSET'];
const FAMILIES = [
  // Wrong at the start: GM65 in manual mode with a TAB tail; Newland continuous without a tail.
  {
    module: 'gm' as const,
    model: 'GM65',
    make: () => new GmSim({ model: 'GM65', zone: { 0x0060: 0x40 } }),
    tail: (s: ModuleSim) => GM_MAPS.GM65.tail!.decode([(s as GmSim).zone(0x0060)]),
    /** Every setting the module holds (a trigger is a command, not a setting: not in here). */
    settings: (s: ModuleSim) => Array.from({ length: 0x200 }, (_, a) => (s as GmSim).zone(a)).join(','),
  },
  {
    module: 'newland' as const,
    model: undefined,
    make: () => new NewlandSim(),
    tail: (s: ModuleSim) => ((s as NewlandSim).value('TSUSET') === '0D' ? 'CR' : String((s as NewlandSim).value('TSUSET'))),
    settings: (s: ModuleSim) => NEWLAND_TAGS.map((t) => (s as NewlandSim).value(t)).join(','),
  },
];

for (const fam of FAMILIES)
  describe(`remote scanner-setup over aedes: the daemon's handler with a simulated ${fam.module} module`, function () {
    this.timeout(15_000);
    let dir: string;
    let broker: Broker;
    let journal: Journal;
    let watcher: Watcher;
    let operator: KeyObject;
    let operatorPub: KeyObject;
    let client: FleetClient;
    let sim: ModuleSim;
    let scanner: SimScanner;
    let kiosk: Interaction;
    let engine: FakeEngine;
    const logLines: string[] = [];
    /** Read windows opened while the kiosk was held (must stay 0). */
    let windowsWhileHeld: number;

    const start = async (over: Partial<RemoteSetupParts> = {}, trigger: 'command' | 'continuous' = 'command'): Promise<void> => {
      const since = watcher.messages.length;
      sim = fam.make();
      sim.on('window', (open: boolean) => {
        if (open && kiosk?.held) windowsWhileHeld++;
      });
      const log = createLogger({ level: 'debug', destination: lineSink(logLines) });
      scanner = new SimScanner({ module: fam.module, model: fam.model, setup: 'off', trigger, readWindowMs: 500, terminator: 'CR', baudRate: 9600, sim, answerTimeoutMs: 200, rearmMarginMs: 50, log });
      engine = new FakeEngine();
      kiosk = new Interaction({ pricing: { mode: 'fixed', amountFen: 100, goodsId: 'G1', goodsInfo: 'x' }, engine, indicator: new FakeIndicator(), approve: new FakeApprove(), timing, log });
      // As the daemon wires them (src/kiosk/daemon.ts wire()).
      scanner.on('code', (c: string) => kiosk.code(c));
      kiosk.on('state', (s: { name: string }) => scanner.arm(s.name === 'ready'));
      await scanner.open();
      scanner.arm(kiosk.state.name === 'ready');
      const handler = remoteScannerSetup({
        scanner: { driver: 'sim', module: fam.module, path: '' },
        device: scanner,
        interaction: kiosk,
        customerInProgress: () => false,
        log,
        ...over,
      });
      const r = parseFleet({ url: broker.url, protocolVersion: 4, reconnectMs: 500 });
      client = new FleetClient({ fleet: r.fleet!, deviceId: 'K1', outbox: new Outbox(journal), host: { status: () => ({}), metrics: () => ({}), commands: { 'scanner-setup': handler } }, log, files: { operatorKeys: [operatorPub] } });
      await watcher.waitFor((m) => m.topic === 'kiosk/K1/status' && m.json.online === true, 'kiosk online', 5000, since);
    };
    const send = (args: Record<string, unknown> = {}): { body: ReturnType<typeof newCommand>; answer: Promise<Received> } => {
      const body = newCommand('K1', 'scanner-setup', args, Date.now(), 'ops/K1');
      watcher.client.publish('kiosk/K1/cmd/scanner-setup', JSON.stringify(signCommand(body, operator)), { qos: 1 });
      return { body, answer: watcher.waitFor((m) => m.topic === 'ops/K1' && m.json.nonce === body.nonce, `answer to ${JSON.stringify(args)}`, 10_000) };
    };
    const result = (m: Received) =>
      m.json.result as {
        module: string;
        mode: string;
        identity: { model: string; family: string };
        settings: { setting: string; is: string | null; want: string; result: string }[];
        written: string[];
        saved: boolean;
        matches: boolean;
        status: { state: string; profileMatch?: boolean };
        ms: number;
      };
    /** A customer holds a code up; the kiosk must read it and send it to the engine. */
    const pays = async (): Promise<void> => {
      const before = engine.calls.length;
      sim.present(testCode('paid', 'wechat'));
      await until('the code to reach the payment engine', () => (engine.calls.length > before ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
      assert.equal(engine.calls.length, before + 1, 'the code reached the payment engine once');
      await engine.approve();
      // The result shows for timing.resultMs; then the kiosk is ready (and idle enough for a setup) again.
      await new Promise<void>((resolve) => {
        const on = (st: { name: string }): void => {
          if (st.name !== 'ready') return;
          kiosk.off('state', on);
          resolve();
        };
        kiosk.on('state', on);
      });
    };

    // One broker and watcher for the describe (each test has its own kiosk, module and fleet client).
    before(async () => {
      const kp = generateKeyPairSync('ed25519');
      operator = kp.privateKey;
      operatorPub = kp.publicKey;
      broker = await startBroker();
      watcher = await Watcher.start(broker.url, '#');
    });
    after(async () => {
      await watcher.close();
      await broker.close();
    });
    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), 'fleet-setup-'));
      journal = openJournal(join(dir, 'journal.db'));
      logLines.length = 0;
      windowsWhileHeld = 0;
    });
    afterEach(async () => {
      await client?.stop(100);
      kiosk?.stop();
      await scanner?.close();
      journal.close();
      rmSync(dir, { recursive: true, force: true });
    });

    it('dryRun: identity and each setting as is → to be; nothing written', async () => {
      await start();
      const before = fam.settings(sim);
      const { answer } = send({ dryRun: true });
      const m = await answer;
      assert.equal(m.json.ok, true, m.text);
      const r = result(m);
      assert.equal(r.mode, 'dry-run');
      assert.equal(r.module, fam.module);
      assert.equal(r.identity.family, fam.module);
      assert.ok(r.identity.model);
      const mode = r.settings.find((s) => s.setting === 'mode');
      assert.deepEqual({ want: mode?.want, result: mode?.result }, { want: 'command', result: 'differs' });
      assert.notEqual(mode?.is, 'command');
      assert.equal(r.matches, false);
      assert.deepEqual(r.written, []);
      assert.equal(fam.settings(sim), before, 'no setting written');
      assert.equal(sim.counters.saves, 0);
      assert.notEqual(sim.mode, 'command');
      assert.equal(kiosk.held, false, 'released');
    });

    it('apply: the settings reach the module, saved once; the answer lists each setting; no read window while held; payments work after', async () => {
      await start();
      const { answer } = send({});
      const m = await answer;
      assert.equal(m.json.ok, true, m.text);
      const r = result(m);
      assert.equal(r.mode, 'apply');
      assert.ok(r.written.includes('mode'), JSON.stringify(r.written));
      assert.ok(r.settings.some((s) => s.setting === 'mode' && s.result === 'written' && s.want === 'command'), JSON.stringify(r.settings));
      assert.ok(r.settings.every((s) => ['ok', 'written', 'refused'].includes(s.result)), JSON.stringify(r.settings));
      assert.equal(r.saved, true);
      assert.equal(r.matches, true);
      assert.equal(r.status.state, 'ready');
      assert.equal(r.status.profileMatch, true);
      assert.ok(r.ms >= 0 && r.ms < 5000, String(r.ms));
      // At the module's boundary.
      assert.equal(sim.mode, 'command');
      assert.equal(fam.tail(sim), 'CR');
      const saves = sim.counters.saves;
      assert.ok(saves >= 1, 'saved to flash');
      assert.equal(windowsWhileHeld, 0, 'no read window while the module took commands');
      assert.ok(logLines.some((l) => l.includes('"event":"held"')) && logLines.some((l) => l.includes('"event":"released"')));
      await pays();
      // The same again: nothing left to write, flash not touched.
      const again = result(await send({}).answer);
      assert.deepEqual(again.written, []);
      assert.equal(again.saved, false);
      assert.equal(sim.counters.saves, saves, 'flash not written again');
    });

    it('a busy kiosk refuses, nothing sent to the module; so does a kiosk whose engine has a customer', async () => {
      await start();
      kiosk.code(testCode('paid', 'wechat')); // a customer's payment in flight
      const before = fam.settings(sim);
      const m = await send({}).answer;
      assert.equal(m.json.ok, false);
      assert.match(String(m.json.error), /^busy: a customer is paying; nothing was sent to the scanner/);
      assert.equal(fam.settings(sim), before);
      assert.ok(!logLines.some((l) => l.includes('"event":"held"')), 'never held, no setup started');
      await engine.approve();
      // The engine's own view counts too (a payment the interaction has already handed over).
      const handler = remoteScannerSetup({ scanner: { driver: 'sim', module: fam.module, path: '' }, device: scanner, interaction: { hold: () => ({ release() {} }) }, customerInProgress: () => true, log: silentLogger });
      await assert.rejects(handler({}), /busy: a customer is paying/);
    });

    it('arguments are checked strictly', async () => {
      await start();
      const bad = await Promise.all([send({ dryRun: 'yes' }).answer, send({ dryrun: true }).answer]);
      assert.match(String(bad[0].json.error), /args\.dryRun must be true or false, got "yes"/);
      assert.equal(String(bad[1].json.error), 'unknown argument "dryrun": scanner-setup takes only dryRun');
      // The control socket's path (kiosk scanner setup) has no fleet in front: the command's own parse refuses it.
      assert.throws(() => parseSetupArgs({ dryrun: true }), /^Error: unknown argument "dryrun": scanner-setup takes only dryRun$/);
      assert.ok(!logLines.some((l) => l.includes('"event":"held"')), 'no setup started');
    });

    it('one at a time and bounded: a module that stops answering fails within the bound; the kiosk is released and reads again', async () => {
      await start({ timeoutMs: 400 });
      assert.equal(result(await send({}).answer).matches, true);
      sim.mute = true;
      const t0 = performance.now();
      const first = send({});
      // The second arrives while the first waits for the silent module (the kiosk is held).
      await new Promise<void>((resolve) => {
        const on = (): void => {
          if (!kiosk.held) return;
          kiosk.off('pattern', on);
          resolve();
        };
        kiosk.on('pattern', on);
      });
      const second = await send({}).answer;
      assert.match(String(second.json.error), /busy: (a scanner setup is already running|the kiosk is already held)/);
      const failed = await first.answer;
      const took = performance.now() - t0;
      assert.equal(failed.json.ok, false);
      assert.match(String(failed.json.error), /^scanner setup failed: no (gm|newland) module answered on sim at 9600 baud/);
      assert.ok(took < 1500, `bounded: ${took} ms`);
      assert.equal(kiosk.held, false, 'released after the failure');
      assert.equal(scanner.moduleStatus?.state, 'error');
      sim.mute = false;
      // Triggers resume (the module itself was set up before): the next customer pays.
      await pays();
    });

    it("corrupt answers: the setup fails, and the leftover bytes are not put before the next customer's code", async () => {
      await start({ timeoutMs: 600 }, 'continuous');
      assert.equal(result(await send({}).answer).matches, true);
      // The module's answers arrive garbled (bytes, never a frame); continuous mode: no trigger answer follows that
      // would reset the parser by chance.
      sim.corrupt = true;
      const failed = await send({}).answer;
      assert.equal(failed.json.ok, false);
      assert.match(String(failed.json.error), /^scanner setup failed: /);
      assert.equal(kiosk.held, false, 'released after the failure');
      assert.equal(scanner.parser.buffered, 0, 'nothing left in the line buffer');
      sim.corrupt = false;
      // The next customer's code is read as it is, not refused as noise.
      const bad: unknown[] = [];
      scanner.on('bad', (b: unknown) => bad.push(b));
      await pays();
      assert.deepEqual(bad, []);
    });
  });

describe('remote scanner-setup: scanners without a command protocol', () => {
  const parts = (scanner: RemoteSetupParts['scanner']): RemoteSetupParts => ({
    scanner,
    device: new SimScanner({}),
    interaction: { hold: () => assert.fail('never held') },
    customerInProgress: () => false,
    log: silentLogger,
  });
  it('a USB keyboard (HID) scanner or a plain module answers "not supported for this scanner (…)"', async () => {
    await assert.rejects(remoteScannerSetup(parts({ driver: 'hid', module: 'plain', path: '/dev/input/x' }))({}), /^Error: not supported for this scanner \(scanner.driver "hid": a USB keyboard scanner takes no commands\)$/);
    await assert.rejects(remoteScannerSetup(parts({ driver: 'serial', module: 'plain', path: '/dev/ttyUSB0' }))({}), /^Error: not supported for this scanner \(scanner.module "plain": no command protocol configured/);
    await assert.rejects(remoteScannerSetup(parts({ driver: 'sim', module: 'gm', path: '' }))({}), /^Error: not supported for this scanner \(scanner.driver "sim" has no gm module behind it\)$/);
  });
});

describe("remote selftest's scanner line", () => {
  it('an open port with a module that does not match the profile is not ok; set up remotely, it is', async () => {
    const sim = new GmSim({ model: 'GM65', zone: { 0x0060: 0x40 } });
    const scanner = new SimScanner({ module: 'gm', model: 'GM65', setup: 'verify', trigger: 'command', terminator: 'CR', baudRate: 9600, sim, answerTimeoutMs: 200 });
    try {
      await scanner.open();
      assert.equal(scanner.connected, true, 'the port is open');
      const before = scannerCheck(scanner, 'command');
      assert.equal(before.ok, false);
      assert.match(before.detail, /^connected; module gm GM65: mismatch \(scanner module GM65 does not match the kiosk's profile: .*tail is TAB, the kiosk needs CR/);
      await scanner.setupModule('apply', 2000);
      assert.deepEqual(scannerCheck(scanner, 'command'), { name: 'scanner', ok: true, detail: 'connected; module gm GM65: ready' });
    } finally {
      await scanner.close();
    }
    const plain = new SimScanner({});
    assert.deepEqual(scannerCheck(plain, 'continuous'), { name: 'scanner', ok: false, detail: 'not connected (unplugged or no permission: kiosk doctor)' });
    await plain.open();
    assert.deepEqual(scannerCheck(plain, 'continuous'), { name: 'scanner', ok: true, detail: 'connected' });
    await plain.close();
  });
});

describe('module session: setup on demand pauses the trigger', () => {
  it('no read window is started while the setup runs, even when a line arrives or the kiosk re-arms; triggers resume after', async () => {
    const sim = new GmSim({ model: 'GM65', zone: { 0x0000: 0x55 } }); // command-trigger mode already
    const scanner = new SimScanner({ module: 'gm', model: 'GM65', setup: 'off', trigger: 'command', readWindowMs: 500, terminator: 'CR', baudRate: 9600, sim, answerTimeoutMs: 200, rearmMarginMs: 50 });
    let during = 0;
    let running = false;
    sim.on('window', (open: boolean) => {
      if (open && running) during++;
    });
    try {
      await scanner.open();
      scanner.arm(true);
      // Armed: a window was started and its trigger answered (nothing in flight now).
      await new Promise((r) => scanner.session!.once('triggered', r));
      await new Promise((r) => setImmediate(r));
      running = true;
      const setup = scanner.setupModule('dry-run', 2000);
      // What would trigger again: the module's line (a scan), and the kiosk leaving and re-entering ready.
      scanner.session!.lineSeen();
      scanner.arm(false);
      scanner.arm(true);
      const r = await setup;
      running = false;
      assert.equal(r.mode, 'dry-run');
      assert.equal(during, 0, 'no read window started during the setup');
      await new Promise((resolve) => sim.once('window', resolve)); // resumed
    } finally {
      await scanner.close();
    }
  });
});
