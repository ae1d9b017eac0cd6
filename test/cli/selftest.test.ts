// kiosk selftest with the sim drivers: lamps, buzzer, approve only with --approve, a masked scan.
import assert from 'node:assert/strict';
import { acquireLock } from '../../src/kiosk/lock.js';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run as selftest } from '../../src/cli/selftest.js';
import { captureIo, type Io } from '../../src/cli/tech/format.js';
import { createHardware, type Hardware } from '../../src/hardware/index.js';
import { SimApprove } from '../../src/hardware/sim/sim-approve.js';
import { SimIndicator } from '../../src/hardware/sim/sim-indicator.js';
import { SimScanner } from '../../src/hardware/sim/sim-scanner.js';
import { SimVendSensor } from '../../src/hardware/sim/sim-vend-sensor.js';
import { testCode } from '../../src/sandbox/index.js';
import { tempKiosk, type TempKiosk } from './fixtures.js';
import { FakeI2cBus } from '../hardware/hd44780.js';

const KIOSK = fileURLToPath(new URL('../../src/cli/kiosk.js', import.meta.url));

describe('kiosk selftest', () => {
  let k: TempKiosk;
  before(() => {
    k = tempKiosk({
      extra: (raw) => {
        raw.indicator = { driver: 'sim' };
        raw.approve = { driver: 'sim', pulseMs: 20 };
      },
    });
  });
  after(() => k.cleanup());

  /** An Io that scans `line` on the sim scanner as soon as the prompt appears (the technician's part). */
  function scanningIo(line: string | null): { io: Io & { stdout(): string }; opened: Promise<Hardware>; hardware: (c: any) => Promise<Hardware> } {
    const base = captureIo(k.env);
    let hw!: Hardware;
    let resolveOpened!: (h: Hardware) => void;
    const opened = new Promise<Hardware>((r) => (resolveOpened = r));
    const io = {
      ...base,
      out(t: string) {
        base.out(t);
        if (line !== null && t.startsWith('scan any code')) (hw.scanner as SimScanner).push(line);
      },
    };
    return {
      io,
      opened,
      hardware: async (config) => {
        hw = await createHardware(config);
        resolveOpened(hw);
        return hw;
      },
    };
  }

  it('shows every lamp and the buzzer, skips approve without --approve, shows the scan masked; exit 0', async () => {
    const code = testCode('paid', 'wechat');
    const t = scanningIo(code);
    const patterns: string[] = [];
    void t.opened.then((hw) => hw.indicator.on('pattern', (p: { pattern: string }) => patterns.push(p.pattern)));
    const exit = await selftest(['--hold', '0'], t.io, { hardware: t.hardware });
    const out = t.io.stdout();
    assert.equal(exit, 0, out);
    assert.match(out, /✓ green lamp on\n✓ amber lamp on\n✓ red lamp on, one long beep\n✓ buzzer: two short beeps/);
    assert.match(out, /- approve output not pulsed/);
    assert.match(out, new RegExp(`✓ scanner read wechat…${code.slice(-4)} \\(18 digits\\): a wechat payment code; nothing was paid`));
    assert.ok(!out.includes(code.slice(0, 8)) && !out.includes(code), 'never the code itself');
    const hw = await t.opened;
    assert.equal((hw.approve as SimApprove).pulses.length, 0);
    assert.ok(hw.indicator instanceof SimIndicator);
    assert.deepEqual(patterns.slice(0, 4), ['ready', 'offline', 'failure', 'success']);
  });

  it('shows a test screen on the LCD (every column, ¥) and says where it is', async () => {
    const lcdKiosk = tempKiosk({ extra: (raw) => ((raw.indicator = { driver: 'sim' }), (raw.display = { driver: 'lcd', address: '0x3f' })) });
    try {
      const bus = new FakeI2cBus(0x3f);
      const glass: string[][] = [];
      const io = captureIo(lcdKiosk.env);
      const exit = await selftest(['--hold', '0', '--no-scan'], io, {
        hardware: async (config) => {
          const hw = await createHardware(config, { openI2c: async () => bus });
          hw.display.on('screen', () => glass.push(bus.lcd.text()));
          return hw;
        },
      });
      assert.equal(exit, 0, io.stdout());
      assert.deepEqual(glass[0], ['SELFTEST ¥1.00 0', '20123456789ABCDE']);
      assert.match(io.stdout(), /✓ display at I2C 0x3f on \/dev\/i2c-1 shows 16×2:\n    \|SELFTEST ¥1.00 0\|/);
      assert.equal(bus.closed, true);
    } finally {
      lcdKiosk.cleanup();
    }
  });

  it('--sensor waits for the vend sensor to see a drop', async () => {
    const sensorKiosk = tempKiosk({ extra: (raw) => ((raw.indicator = { driver: 'sim' }), (raw.approve = { driver: 'sim', pulseMs: 20, confirm: {} })) });
    try {
      const base = captureIo(sensorKiosk.env);
      let hw!: Hardware;
      const io = { ...base, out: (t: string) => (base.out(t), t.startsWith('drop something') ? (hw.sensor as SimVendSensor).set(true) : undefined) };
      const exit = await selftest(['--hold', '0', '--sensor', '--no-scan'], io, { hardware: async (c) => (hw = await createHardware(c)) });
      assert.equal(exit, 0, base.stdout());
      assert.match(base.stdout(), /✓ vend sensor saw a drop/);
    } finally {
      sensorKiosk.cleanup();
    }
  });

  it('pulses the approve output with --approve', async () => {
    const t = scanningIo(null);
    assert.equal(await selftest(['--hold', '0', '--approve', '--no-scan'], t.io, { hardware: t.hardware }), 0);
    const hw = await t.opened;
    assert.equal((hw.approve as SimApprove).pulses.length, 1);
    assert.match(t.io.stdout(), /✓ approve output pulsed for 20 ms/);
  });

  it('a non-code scan still proves the scanner; no scan within the timeout fails with exit 1', async () => {
    const t = scanningIo('hello');
    assert.equal(await selftest(['--hold', '0'], t.io, { hardware: t.hardware }), 0);
    assert.match(t.io.stdout(), /✓ scanner read something that is not a code/);
    const silent = scanningIo(null);
    assert.equal(await selftest(['--hold', '0', '--scan-timeout', '0'], silent.io, { hardware: silent.hardware }), 1);
    assert.match(silent.io.stdout(), /✗ no scan within 0 s/);
  });

  it('as a process with the scanner missing (a stopped kiosk dev rig): every requested step runs to a verdict, exit 1, warnings in words', function () {
    this.timeout(20000);
    // Nothing holds the event loop but the drivers' unref'd timers: the command must still finish every step.
    const rig = tempKiosk({ extra: (raw) => ((raw.indicator = { driver: 'log' }), (raw.approve = { driver: 'sim', pulseMs: 50 }), (raw.scanner = { driver: 'serial', path: join(k.dir, 'no-scanner') })) });
    try {
      const r = spawnSync(process.execPath, [KIOSK, 'selftest', '--config', rig.configFile, '--approve', '--sensor', '--hold', '20', '--scan-timeout', '1'], { encoding: 'utf8' });
      const all = r.stdout + r.stderr;
      assert.equal(r.status, 1, all);
      assert.match(r.stdout, /✓ approve output pulsed for 50 ms/);
      assert.match(r.stdout, /✗ vend sensor: none configured/);
      assert.match(r.stdout, /✗ no scan within 1 s \(scanner not connected: kiosk doctor\)/);
      assert.match(r.stdout, /selftest: 2 step\(s\) failed/);
      assert.match(r.stdout, /^! scanner lost \(\S+no-scanner\): .*no-scanner/m);
      assert.doesNotMatch(all, /\{"level"/, 'no raw JSON log line');
    } finally {
      rig.cleanup();
    }
  });

  it('refuses while the daemon runs (exit 3) without opening any device', async () => {
    const lock = acquireLock(join(k.dir, 'data/kiosk.lock'));
    try {
      const io = captureIo(k.env);
      let opened = false;
      const exit = await selftest(['--hold', '0'], io, {
        hardware: async () => {
          opened = true;
          throw new Error('must not open');
        },
      });
      assert.equal(exit, 3);
      assert.match(io.stderr(), /daemon \(pid \d+\) is running and holds the lamps/);
      assert.equal(opened, false);
    } finally {
      lock.release();
    }
  });
});
