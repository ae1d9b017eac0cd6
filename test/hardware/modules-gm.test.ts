// Grow GM modules: CRC and frames against published commands; the answer framer on a shared UART; setup, save
// and trigger through serialport's mock binding with a simulated module behind it.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SerialScanner, type SerialScannerOptions } from '../../src/hardware/pi/serial-scanner.js';
import { crc16Xmodem } from '../../src/hardware/modules/crc.js';
import { GmFramer, gmAnswer, gmRead, gmSave, gmWrite } from '../../src/hardware/modules/gm.js';
import { MemoryStateStore } from '../../src/hardware/modules/state.js';
import type { ModuleStatus } from '../../src/hardware/modules/session.js';
import { GmSim } from '../../src/hardware/sim/gm-sim.js';
import type { BadScan, ScannerFault } from '../../src/hardware/scanner.js';
import { MockBinding, simBinding } from './module-binding.js';
import { WECHAT } from './codes.js';

const hex = (b: Buffer) => b.toString('hex').replace(/(..)/g, '$1 ').trim().toUpperCase();

describe('hardware/modules gm: frames', () => {
  it('builds the three commands published with their CRCs', () => {
    assert.equal(hex(gmSave()), '7E 00 09 01 00 00 00 DE C8');
    assert.equal(hex(gmRead(0x002a, 2)), '7E 00 07 01 00 2A 02 D8 0F');
    assert.equal(hex(gmWrite(0x002a, [0x39, 0x01])), '7E 00 08 02 00 2A 39 01 A7 EA');
    // The documented success answer.
    assert.equal(hex(gmAnswer(0, [0])), '02 00 00 01 00 33 31');
    assert.equal(crc16Xmodem(Buffer.from('123456789')), 0x31c3); // the CRC-16/XMODEM check value
  });

  it('takes an answer only while a command waits, and passes scan data around it', () => {
    const f = new GmFramer();
    const ok = gmAnswer(0, [0x54]);
    // No command waiting: even a perfect frame is data (the parser drops it as binary noise).
    assert.deepEqual(f.push(ok).map((o) => o.kind), ['data']);
    f.expect(gmRead(0, 1));
    const out = f.push(Buffer.concat([Buffer.from('12345\r'), Buffer.from([0xff, 0x02, 0x13]), ok.subarray(0, 3)]));
    assert.deepEqual(out.filter((o) => o.kind === 'answer'), []);
    const rest = f.push(ok.subarray(3));
    const answers = rest.filter((o) => o.kind === 'answer');
    assert.equal(answers.length, 1);
    assert.equal(hex((answers[0] as { frame: Buffer }).frame), hex(ok));
  });

  it('never takes a frame with a bad CRC for an answer', () => {
    const f = new GmFramer();
    f.expect(gmRead(0, 1));
    const bad = gmAnswer(0, [0x54]);
    bad[bad.length - 1]! ^= 0xff;
    const out = [...f.push(bad), ...f.flush()];
    assert.equal(out.filter((o) => o.kind === 'answer').length, 0);
  });
});

interface Rig {
  scanner: SerialScanner;
  codes: string[];
  bad: BadScan[];
  faults: ScannerFault[];
  status: ModuleStatus[];
}

async function start(sim: GmSim, opts: Partial<SerialScannerOptions> = {}, state = new MemoryStateStore()): Promise<Rig> {
  const binding = simBinding('/dev/gm', sim);
  const scanner = new SerialScanner({ path: '/dev/gm', binding, module: 'gm', model: 'GM65', answerTimeoutMs: 80, moduleState: state, ...opts });
  const rig: Rig = { scanner, codes: [], bad: [], faults: [], status: [] };
  scanner.on('code', (c: string) => rig.codes.push(c));
  scanner.on('bad', (b: BadScan) => rig.bad.push(b));
  scanner.on('fault', (f: ScannerFault) => rig.faults.push(f));
  scanner.on('module', (s: ModuleStatus) => rig.status.push(s));
  await scanner.open();
  return rig;
}

const TAB_TAIL = { 0x0060: 0x40 }; // GM65 layout: tail TAB

describe('hardware/modules gm: setup through the mock binding', function () {
  this.timeout(5000);
  afterEach(() => MockBinding.reset());

  it('finds a module in manual mode with the wrong tail, sets it up, saves once; a second start writes nothing', async () => {
    const sim = new GmSim({ zone: TAB_TAIL });
    const state = new MemoryStateStore();
    const a = await start(sim, { trigger: 'command' }, state);
    const st = a.status[0]!;
    assert.equal(st.state, 'ready', st.error);
    assert.equal(st.identity?.model, 'GM65');
    assert.deepEqual([...(st.setup?.written ?? [])].sort(), ['beep', 'mode', 'reReadDelayMs', 'tail'].sort());
    assert.equal(st.setup?.saved, true);
    assert.equal(sim.counters.saves, 1);
    assert.equal(sim.mode, 'command');
    assert.equal(sim.flashByte(0x0060), 0x00, 'tail CR saved');
    assert.equal(state.load().saves, 1);
    assert.equal(a.faults.length, 0);
    await a.scanner.close();
    MockBinding.reset();

    sim.powerCycle();
    const writes = sim.counters.writes;
    const b = await start(sim, { trigger: 'command' }, state);
    assert.equal(b.status[0]!.state, 'ready');
    assert.deepEqual(b.status[0]!.setup?.written, []);
    assert.equal(sim.counters.writes, writes, 'nothing written the second time');
    assert.equal(sim.counters.saves, 1, 'flash written once');
    assert.equal(state.load().saves, 1);
    await b.scanner.close();
  });

  it('verify never writes and names each difference as a fault', async () => {
    const sim = new GmSim({ zone: TAB_TAIL });
    const r = await start(sim, { setup: 'verify' });
    assert.equal(sim.counters.writes, 0);
    assert.equal(r.faults.length, 1);
    assert.match(r.faults[0]!.reason, /tail is TAB, the kiosk needs CR/);
    assert.match(r.faults[0]!.reason, /mode is manual, the kiosk needs continuous/);
    await r.scanner.close();
  });

  it('a module refused at connect (verify) and then set up on demand (remote scanner-setup) is announced at once', async () => {
    const sim = new GmSim({ zone: TAB_TAIL });
    // A long retry backoff: only the setup on demand can bring it back within this test.
    const r = await start(sim, { setup: 'verify', reopenMinMs: 60_000, reopenMaxMs: 60_000 });
    assert.equal(r.faults.length, 1);
    const connected = new Promise((resolve) => r.scanner.once('connected', resolve));
    const report = await r.scanner.setupModule('apply', 2000);
    assert.equal(report.matches, true);
    assert.ok(report.written.includes('tail'));
    assert.equal(sim.counters.saves, 1);
    await connected;
    assert.equal(r.scanner.moduleStatus?.state, 'ready');
    await r.scanner.close();
    await assert.rejects(r.scanner.setupModule('apply', 2000), /the scanner is not connected \(\/dev\/gm\)/);
  });

  it('an unknown model is identified and never written', async () => {
    const sim = new GmSim({ zone: TAB_TAIL });
    const r = await start(sim, { model: undefined });
    assert.equal(sim.counters.writes, 0);
    assert.equal(r.status[0]!.identity?.model, 'unknown');
    assert.match(r.status[0]!.setup?.skipped ?? '', /no register map/);
    assert.equal(r.faults.length, 0);
    await r.scanner.close();
  });

  it('a module that answers only at another baud, or not at all, is a clear fault in command mode', async () => {
    const other = new GmSim({ zone: { 0x002a: 0x1a, 0x002b: 0x00 } }); // 115200
    const r = await start(other, { trigger: 'command' });
    assert.equal(r.status[0]!.state, 'no-answer');
    assert.match(r.faults[0]!.reason, /no gm module answered on \/dev\/gm at 9600 baud/);
    await r.scanner.close();
    MockBinding.reset();
    const mute = new GmSim({ mute: true });
    const m = await start(mute, { trigger: 'continuous' });
    assert.equal(m.status[0]!.state, 'no-answer');
    assert.equal(m.faults.length, 0, 'continuous mode still reads a module that takes no commands');
    await m.scanner.close();
  });

  it('a module that does not answer yet (still booting) is tried again while the port stays open', async () => {
    const sim = new GmSim({ zone: TAB_TAIL, mute: true });
    const r = await start(sim, { trigger: 'command', reopenMinMs: 100 });
    assert.equal(r.faults.length, 1);
    assert.equal(r.scanner.connected, true, 'the port stays open');
    sim.mute = false; // the module has booted
    await once(r.scanner, 'connected');
    assert.equal(r.scanner.moduleStatus?.state, 'ready');
    assert.equal(sim.counters.saves, 1);
    await r.scanner.close();
  });

  it('garbage between frames: setup still completes and noise never becomes a scan', async () => {
    const sim = new GmSim({ zone: TAB_TAIL, garbage: true });
    const r = await start(sim);
    assert.equal(r.status[0]!.state, 'ready', r.status[0]!.error);
    assert.equal(sim.counters.saves, 1);
    assert.deepEqual(r.codes, []);
    const got = once(r.scanner, 'code');
    sim.present(WECHAT);
    assert.equal((await got)[0], WECHAT);
    await r.scanner.close();
  });
});

describe('hardware/modules gm: command trigger', function () {
  this.timeout(5000);
  afterEach(() => MockBinding.reset());

  it('reads only while armed, re-arms after the read window, never while disarmed', async () => {
    const sim = new GmSim({ zone: TAB_TAIL });
    const r = await start(sim, { trigger: 'command', readWindowMs: 300, rearmMarginMs: 20 });
    assert.equal(r.status[0]!.state, 'ready', r.status[0]!.error);
    sim.present(WECHAT);
    await new Promise((res) => setTimeout(res, 50));
    assert.deepEqual(r.codes, [], 'not armed: the code in front of the module is not read');
    assert.equal(sim.counters.triggers, 0);

    const got = once(r.scanner, 'code');
    r.scanner.once('code', () => r.scanner.arm(false)); // as the daemon: processing disarms inside the handler
    const t0 = performance.now();
    r.scanner.arm(true);
    assert.equal((await got)[0], WECHAT);
    const latency = performance.now() - t0;
    assert.ok(latency < 200, `armed read took ${latency} ms`);

    // Armed with nothing presented: the window ends, the session triggers again.
    r.scanner.arm(true);
    await once(sim, 'window');
    const before = sim.counters.triggers;
    await new Promise((res) => setTimeout(res, 450));
    assert.ok(sim.counters.triggers > before, 're-armed after the read window');
    r.scanner.arm(false);
    const after = sim.counters.triggers;
    await new Promise((res) => setTimeout(res, 450));
    assert.equal(sim.counters.triggers, after, 'no trigger while disarmed');
    await r.scanner.close();
  });
});
