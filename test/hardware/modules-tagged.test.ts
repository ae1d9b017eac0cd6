// Newland and Honeywell modules (ASCII menu protocols) through serialport's mock binding with a simulated module:
// a module in the wrong mode with the wrong tail is set up and saved once, a second start writes nothing, reads
// happen only while armed, unknown commands (ENQ) and noise never become answers or scans.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SerialScanner, type SerialScannerOptions } from '../../src/hardware/pi/serial-scanner.js';
import { MemoryStateStore } from '../../src/hardware/modules/state.js';
import type { ModuleStatus } from '../../src/hardware/modules/session.js';
import { HONEYWELL } from '../../src/hardware/modules/honeywell.js';
import { NEWLAND } from '../../src/hardware/modules/newland.js';
import { TagFramer, ACK } from '../../src/hardware/modules/tagged.js';
import { HoneywellSim, NewlandSim } from '../../src/hardware/sim/tag-sim.js';
import type { ModuleSim } from '../../src/hardware/sim/module-sim.js';
import type { ScannerFault } from '../../src/hardware/scanner.js';
import { MockBinding, simBinding } from './module-binding.js';
import { WECHAT, ALIPAY } from './codes.js';

interface Case {
  family: 'newland' | 'honeywell';
  make(opts?: { garbage?: boolean; model?: string }): ModuleSim & { value(tag: string): string | undefined; savedValue(tag: string): string | undefined; powerCycle(): void };
  modeTag: string;
  tailTag: string;
  commandMode: string;
  crTail: string;
}

const CASES: Case[] = [
  { family: 'newland', make: (o) => new NewlandSim(o), modeTag: 'SCNMOD', tailTag: 'TSUSET', commandMode: '0', crTail: '0D' },
  { family: 'honeywell', make: (o) => new HoneywellSim(o), modeTag: 'TRGMOD', tailTag: 'SUFBK2', commandMode: '0', crTail: '990D' },
];

async function start(sim: ModuleSim, family: Case['family'], opts: Partial<SerialScannerOptions> = {}, state = new MemoryStateStore()) {
  const binding = simBinding('/dev/mod', sim);
  const scanner = new SerialScanner({ path: '/dev/mod', binding, module: family, answerTimeoutMs: 80, moduleState: state, ...opts });
  const status: ModuleStatus[] = [];
  const faults: ScannerFault[] = [];
  const codes: string[] = [];
  scanner.on('module', (s: ModuleStatus) => status.push(s));
  scanner.on('fault', (f: ScannerFault) => faults.push(f));
  scanner.on('code', (c: string) => codes.push(c));
  await scanner.open();
  return { scanner, status, faults, codes };
}

describe('hardware/modules tag framer', () => {
  it('honeywell: an answer is the echo of the command waiting; digits around it are scan data', () => {
    const f = new TagFramer(HONEYWELL);
    f.expect(HONEYWELL.command('TRGMOD?', false));
    const out = f.push(Buffer.from(`1234\rTRGMOD0\x06!`, 'latin1'));
    assert.deepEqual(out.map((o) => o.kind), ['data', 'answer']);
    // An answer to another command is never taken.
    f.expect(HONEYWELL.command('BEPBEP?', false));
    const other = [...f.push(Buffer.from(`TRGMOD0\x06!`, 'latin1')), ...f.flush()];
    assert.ok(!other.some((o) => o.kind === 'answer'));
  });
  it('newland: STX SOH … ACK ; ETX, split anywhere', () => {
    const f = new TagFramer(NEWLAND);
    f.expect(NEWLAND.command('SCNMOD*', false));
    const whole = Buffer.from(`\x02\x010000#SCNMOD3\x06;\x03`, 'latin1');
    const outs = [...whole].flatMap((b) => f.push(Buffer.from([b])));
    const answers = outs.filter((o) => o.kind === 'answer');
    assert.equal(answers.length, 1);
    assert.ok((answers[0] as { frame: Buffer }).frame.includes(ACK));
  });
});

for (const c of CASES) {
  describe(`hardware/modules ${c.family}: setup and trigger through the mock binding`, function () {
    this.timeout(5000);
    afterEach(() => MockBinding.reset());

    it('sets up a module in the wrong mode with the wrong tail, saves once; a second start writes nothing', async () => {
      const sim = c.make();
      const state = new MemoryStateStore();
      const a = await start(sim, c.family, { trigger: 'command' }, state);
      const st = a.status[0]!;
      assert.equal(st.state, 'ready', st.error);
      assert.ok(st.setup?.written.includes('mode') && st.setup.written.includes('tail'), JSON.stringify(st.setup));
      assert.equal(sim.value(c.modeTag), c.commandMode);
      assert.equal(sim.savedValue(c.tailTag), c.crTail);
      assert.equal(state.load().saves, 1);
      const saves = sim.counters.saves;
      await a.scanner.close();
      MockBinding.reset();
      sim.powerCycle();
      const writes = sim.counters.writes;
      const b = await start(sim, c.family, { trigger: 'command' }, state);
      assert.deepEqual(b.status[0]!.setup?.written, []);
      assert.equal(sim.counters.writes, writes);
      assert.equal(sim.counters.saves, saves);
      assert.equal(state.load().saves, 1);

      // Only while armed.
      sim.present(WECHAT);
      await new Promise((r) => setTimeout(r, 60));
      assert.deepEqual(b.codes, []);
      const got = once(b.scanner, 'code');
      // As the daemon does: a code moves the kiosk to processing, which disarms inside the code handler.
      b.scanner.once('code', () => b.scanner.arm(false));
      b.scanner.arm(true);
      assert.equal((await got)[0], WECHAT);
      const triggers = sim.counters.triggers;
      sim.present(ALIPAY);
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(b.codes, [WECHAT], 'disarmed: nothing read');
      assert.equal(sim.counters.triggers, triggers);
      await b.scanner.close();
    });

    it('garbage between frames and an unknown model: identified, nothing written, noise never a scan', async () => {
      const sim = c.make({ garbage: true, model: 'X9000' });
      const r = await start(sim, c.family);
      assert.equal(r.status[0]!.identity?.model, 'X9000');
      assert.match(r.status[0]!.setup?.skipped ?? '', /no register map/);
      assert.equal(sim.counters.writes, 0);
      assert.deepEqual(r.codes, []);
      await r.scanner.close();
    });

    it('verify names the differences and writes nothing', async () => {
      const sim = c.make();
      const r = await start(sim, c.family, { setup: 'verify' });
      assert.equal(sim.counters.writes, 0);
      assert.match(r.faults[0]?.reason ?? '', /mode is continuous, the kiosk needs continuous|tail is/);
      await r.scanner.close();
    });
  });
}
