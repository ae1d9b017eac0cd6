// kiosk scanner detect|show|setup|read against a simulated GM module on a real pty (native serialport binding).
import assert from 'node:assert/strict';
import { acquireLock } from '../../src/kiosk/lock.js';
import { startControlServer } from '../../src/kiosk/control.js';
import { run as status } from '../../src/cli/status.js';
import { run as doctor } from '../../src/cli/doctor.js';
import type { ModuleStatus } from '../../src/hardware/modules/session.js';
import { run as scanner } from '../../src/cli/scanner.js';
import { GmSim } from '../../src/hardware/sim/gm-sim.js';
import { PtyPair } from '../hardware/pty.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';
import { WECHAT } from '../hardware/codes.js';

describe('kiosk scanner (pty, simulated GM module)', function () {
  this.timeout(20_000);
  let pty: PtyPair;
  let k: TempKiosk;
  let sim: GmSim;
  let detach: () => void;

  beforeEach(async () => {
    pty = new PtyPair();
    await pty.start();
    sim = new GmSim({ zone: { 0x0060: 0x40 } }); // manual mode, tail TAB
    detach = pty.attach(sim);
    k = tempKiosk({ extra: (raw) => (raw.scanner = { driver: 'serial', path: pty.device, module: 'gm', model: 'GM65' }) });
  });
  afterEach(async () => {
    detach();
    await pty.dispose();
    k.cleanup();
  });

  const cli = async (...argv: string[]) => {
    const io = k.io();
    const code = await scanner(argv, io);
    return { code, out: io.stdout(), err: io.stderr() };
  };

  it('detect --json: module, baud and settings, read-only', async () => {
    const r = await cli('detect', '--json');
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out) as { module: string; baudRate: number; model: string; settings: Record<string, string> };
    assert.equal(j.module, 'gm');
    assert.equal(j.baudRate, 9600);
    assert.equal(j.model, 'GM65');
    assert.equal(j.settings.tail, 'TAB');
    assert.equal(j.settings.mode, 'manual');
    assert.equal(sim.counters.writes, 0, 'detection never writes');
  });

  it('setup --dry-run lists each setting as is → to be and writes nothing; setup writes and saves once; show then matches', async () => {
    const dry = await cli('setup', '--dry-run');
    assert.equal(dry.code, 1);
    assert.match(dry.out, /tail\s+TAB\s+CR\s+differs/);
    assert.match(dry.out, /mode\s+manual\s+continuous\s+differs/);
    assert.equal(sim.counters.writes, 0);
    const real = await cli('setup');
    assert.equal(real.code, 0, real.out + real.err);
    assert.match(real.out, /saved to flash/);
    assert.equal(sim.counters.saves, 1);
    const show = await cli('show');
    assert.equal(show.code, 0, show.out);
    assert.match(show.out, /tail\s+ok/);
    assert.equal(sim.counters.saves, 1);
  });

  it('read: one scan, masked', async () => {
    await cli('setup');
    const pending = cli('read', '--timeout', '5');
    setTimeout(() => sim.present(WECHAT), 300);
    const r = await pending;
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /read a payment code/);
    assert.ok(!r.out.includes(WECHAT), 'the code is masked');
  });

  it('a module that answers nothing is "plain"', async () => {
    detach();
    sim = new GmSim({ mute: true });
    detach = pty.attach(sim);
    const r = await cli('detect', '--json');
    assert.equal(r.code, 0);
    assert.equal((JSON.parse(r.out) as { module: string }).module, 'plain');
  });

  it('detect on a missing device or a plain file: what is wrong in words, no errno text; exit 1', async () => {
    let r = await cli('detect', '--path', `${k.dir}/no-such-tty`);
    assert.equal(r.code, 1);
    assert.match(r.err, /no-such-tty: no such device: is the scanner plugged in\?/);
    assert.doesNotMatch(r.err, /Error:|No such file or directory|cannot open/);
    r = await cli('detect', '--path', k.configFile);
    assert.equal(r.code, 1);
    assert.match(r.err, /config\.json: not a serial device/);
  });

  it('refuses to open the port under a running daemon, and says so; setup asks the daemon instead', async () => {
    const lock = acquireLock(`${k.dir}/data/kiosk.lock`);
    let server: Awaited<ReturnType<typeof startControlServer>> | undefined;
    try {
      const r = await cli('trigger');
      assert.equal(r.code, 3);
      assert.match(r.err, /the kiosk daemon \(pid \d+\) owns .*stop it first/);
      const silent = await cli('setup');
      assert.equal(silent.code, 1);
      assert.match(silent.err, /the kiosk daemon \(pid \d+\) owns the scanner but did not answer on .*kiosk\.sock/);
      assert.equal(sim.counters.commands, 0, 'the port is never opened under the daemon');
      // The daemon answers (the handler is the fleet's scanner-setup: test/fleet/scanner-setup.test.ts, and the
      // real daemon in test/kiosk/daemon.test.ts): busy, then a dry run's report.
      const asked: unknown[] = [];
      let answer: () => Promise<unknown> = async () => {
        throw new Error('busy: a customer is paying; nothing was sent to the scanner (try again when the kiosk is idle)');
      };
      server = await startControlServer(`${k.dir}/data/kiosk.sock`, {
        status: () => ({ pid: process.pid }),
        reconcile: () => ({ started: 0, remaining: 0 }),
        scannerSetup: async (args) => (asked.push(args), answer()),
      });
      const busy = await cli('setup');
      assert.equal(busy.code, 3);
      assert.match(busy.err, /daemon refused scanner-setup: busy: a customer is paying/);
      answer = async () => ({
        mode: 'dry-run',
        identity: { family: 'gm', model: 'GM65', known: true, firmware: '0x87' },
        settings: [
          { setting: 'mode', is: 'continuous', want: 'continuous', result: 'ok' },
          { setting: 'tail', is: 'TAB', want: 'CR', result: 'differs' },
        ],
        written: [],
        saved: false,
        matches: false,
        problems: ['tail is TAB, the kiosk needs CR (the module ends each code with TAB but scanner.terminator is CR: codes would be lost)'],
        status: {},
        ms: 5,
      });
      const dry = await cli('setup', '--dry-run');
      assert.equal(dry.code, 1);
      assert.match(dry.out, /set up by the running daemon \(dry run: nothing written\)/);
      assert.match(dry.out, /tail\s+TAB\s+CR\s+differs/);
      assert.match(dry.out, /differs: tail is TAB, the kiosk needs CR \(the module ends each code with TAB/);
      assert.deepEqual(asked, [{ dryRun: false }, { dryRun: true }]);
      assert.equal(sim.counters.commands, 0);
    } finally {
      await server?.close();
      lock.release();
    }
  });

  it('show, status and doctor ask a running daemon and say a tail mismatch in plain words', async () => {
    const lock = acquireLock(`${k.dir}/data/kiosk.lock`);
    const module: ModuleStatus = {
      module: 'gm',
      state: 'mismatch',
      identity: { family: 'gm', model: 'GM65', known: true, firmware: '0x87' },
      profileMatch: false,
      differences: ['tail is TAB, the kiosk needs CR (the module ends each code with TAB but scanner.terminator is CR: codes would be lost)'],
      setup: { mode: 'verify', written: [], saved: false, at: '2026-12-01T10:00:00.000Z' },
      saves: 2,
      trigger: 'continuous',
      armed: false,
      triggers: 0,
      error: 'scanner module GM65 does not match the kiosk\'s profile: tail is TAB, the kiosk needs CR',
    };
    const server = await startControlServer(`${k.dir}/data/kiosk.sock`, {
      status: () => ({ pid: process.pid, scanner: { connected: true, device: pty.device, module }, link: { state: 'online' } }),
      reconcile: () => ({ started: 0, remaining: 0 }),
    });
    try {
      const show = await cli('show');
      assert.equal(show.code, 1);
      assert.match(show.out, /gm GM65 \(firmware 0x87\): does NOT match the profile: tail is TAB/);
      let io = k.io();
      await status(['--json', '--no-gateway'], io);
      const st = JSON.parse(io.stdout()) as { scanner: { connected: boolean; detail: string } };
      assert.equal(st.scanner.connected, false, 'a module that does not match is not a working scanner');
      assert.match(st.scanner.detail, /tail is TAB, the kiosk needs CR/);
      io = k.io();
      await doctor(['--no-gateway'], io);
      assert.match(io.stdout(), /✗ scanner module.*ends each code with TAB but scanner.terminator is CR/);
      assert.equal(sim.counters.commands, 0, 'the port was never opened under the daemon');
    } finally {
      await server.close();
      lock.release();
    }
  });
});
