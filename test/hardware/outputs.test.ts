import { readFileSync } from 'node:fs';
// Indicator patterns (mock Firmata, fake-GPIO IO plugin, sim, log) and the approve pulse, with fake clocks.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { PATTERNS, PATTERN_NAMES } from '../../src/hardware/indicator.js';
import { LogIndicator } from '../../src/hardware/log-indicator.js';
import { J5Indicator } from '../../src/hardware/pi/j5-indicator.js';
import { GpioApprove } from '../../src/hardware/pi/gpio-approve.js';
import { SimApprove } from '../../src/hardware/sim/sim-approve.js';
import { SimIndicator } from '../../src/hardware/sim/sim-indicator.js';
import { createHardware } from '../../src/hardware/index.js';
import { FakeClock } from './fake-clock.js';
import { FakeBank } from './fake-gpio.js';

const require = createRequire(import.meta.url);
const { Firmata: MockFirmata } = require('mock-firmata') as { Firmata: new () => MockBoard };
interface MockBoard {
  digitalWrite(pin: number, v: number): void;
  analogWrite(pin: number, v: number): void;
  emit(e: string): void;
}

/** Records the level written to each pin of an IO (digital, or PWM as on/off). */
function spyPins(io: MockBoard): Map<number, number[]> {
  const seen = new Map<number, number[]>();
  const rec = (pin: number, v: number) => seen.set(pin, [...(seen.get(pin) ?? []), v ? 1 : 0]);
  const dw = io.digitalWrite.bind(io);
  const aw = io.analogWrite.bind(io);
  io.digitalWrite = (p, v) => (rec(p, v), dw(p, v));
  io.analogWrite = (p, v) => (rec(p, v), aw(p, v));
  return seen;
}
const last = (m: Map<number, number[]>, pin: number) => m.get(pin)?.at(-1) ?? 0;

describe('hardware/indicator', function () {
  this.timeout(5000);

  it('docs/hardware.md documents exactly these patterns, with each one\'s meaning', () => {
    const readme = readFileSync(new URL('../../../docs/hardware.md', import.meta.url), 'utf8');
    const rows = [...readme.matchAll(/^\| `([a-z-]+)` \| (?:[^|]*\|){4} ([^|]+) \|$/gm)].filter((m) => (PATTERN_NAMES as readonly string[]).includes(m[1]!) || /^(?:on|off|blink)/.test(m[0].split('|')[2]!.trim()));
    assert.deepEqual(rows.map((m) => m[1]).sort(), [...PATTERN_NAMES].sort());
    for (const m of rows) assert.equal(m[2]!.trim(), PATTERNS[m[1] as keyof typeof PATTERNS].meaning, m[1]);
  });

  it('every pattern has a lamp state for each lamp (the documented table)', () => {
    assert.deepEqual(Object.keys(PATTERNS).sort(), [...PATTERN_NAMES].sort());
    for (const p of PATTERN_NAMES) assert.deepEqual(Object.keys(PATTERNS[p].lamps).sort(), ['amber', 'green', 'red'], p);
  });

  it('johnny-five on mock Firmata: lamps per pattern, beeps timed by the fake clock, all off at close', async () => {
    const io = new MockFirmata();
    const seen = spyPins(io);
    const clock = new FakeClock();
    const pins = { green: 2, red: 4, amber: 7, buzzer: 8 };
    const ind = new J5Indicator({ pins, buzzer: 'active', ioInstance: io, timers: clock });
    const opening = ind.open();
    io.emit('connect');
    io.emit('ready');
    await opening;

    ind.show('ready');
    assert.deepEqual([last(seen, 2), last(seen, 4), last(seen, 7)], [1, 0, 0]);
    ind.show('failure');
    assert.deepEqual([last(seen, 2), last(seen, 4), last(seen, 7)], [0, 1, 0]);
    assert.equal(last(seen, 8), 1, 'failure beep on');
    clock.tick(699);
    assert.equal(last(seen, 8), 1);
    clock.tick(1);
    assert.equal(last(seen, 8), 0, 'one long beep of 700 ms');

    seen.set(8, []);
    ind.show('success');
    clock.tick(1000);
    assert.deepEqual(seen.get(8), [1, 0, 1, 0], 'two beeps');
    assert.equal(last(seen, 2), 1);

    ind.show('processing'); // amber blinks (johnny-five's own timer): it is running, the others are off
    assert.ok((ind.leds!.amber as unknown as { isRunning: boolean }).isRunning);
    assert.deepEqual([last(seen, 2), last(seen, 4)], [0, 0]);
    ind.show('bad-code');
    ind.show('offline'); // a new pattern cuts the old beeps short
    assert.equal(last(seen, 8), 0);
    assert.ok(!(ind.leds!.amber as unknown as { isRunning: boolean }).isRunning, 'steady amber: blink stopped');
    assert.equal(last(seen, 7), 1);
    await ind.close();
    assert.deepEqual([2, 4, 7, 8].map((p) => last(seen, p)), [0, 0, 0, 0]);
    assert.equal(clock.pending, 0);
  });

  it('johnny-five on the onoff IO plugin (fake GPIO): BCM pins driven through sysfs numbers', async () => {
    const bank = new FakeBank();
    const clock = new FakeClock();
    const ind = new J5Indicator({ io: 'gpio', pins: { green: 17, red: 27, amber: 22, buzzer: 18 }, gpioChipBase: 512, gpioClass: bank.Gpio, timers: clock });
    await ind.open();
    const level = (bcm: number) => bank.level(512 + bcm);
    ind.show('clock-fault');
    assert.deepEqual([level(17), level(27), level(18)], [0, 1, 1]);
    clock.tick(300);
    assert.equal(level(18), 0);
    ind.show('ready');
    assert.deepEqual([level(17), level(27), level(22)], [1, 0, 0]);
    await ind.close();
    assert.equal(bank.pins.size, 0, 'all lines unexported');
  });

  it('sim indicator reports lamp and buzzer states for the demo panel', () => {
    const clock = new FakeClock();
    const ind = new SimIndicator({ timers: clock });
    const buzz: boolean[] = [];
    ind.on('buzzer', (on: boolean) => buzz.push(on));
    ind.show('fault');
    assert.deepEqual(ind.lamps, { green: { mode: 'off' }, red: { mode: 'blink', periodMs: 1000 }, amber: { mode: 'off' } });
    clock.tick(1000);
    assert.deepEqual(buzz, [true, false]);
    assert.equal(ind.pattern, 'fault');
  });

  it('log indicator writes one JSON line per pattern with indicator and orderNo', () => {
    const lines: string[] = [];
    const dest = new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) });
    const ind = new LogIndicator({ log: createLogger({ destination: dest }) });
    ind.show('processing', { orderNo: 'K0001' });
    ind.show('idle');
    const objs = lines.join('').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(objs.map((o) => [o.indicator, o.orderNo]), [['processing', 'K0001'], ['idle', undefined]]);
  });
});

describe('hardware/approve', () => {
  it('gpio: active for pulseMs, resolves when the pulse ends; pulses never overlap', async () => {
    const bank = new FakeBank();
    const clock = new FakeClock();
    const ap = new GpioApprove({ pin: 23, pulseMs: 500, activeLow: true, gpioChipBase: 0, gpioClass: bank.Gpio, timers: clock });
    await ap.open();
    assert.equal(bank.level(23), 1, 'inactive (high) from the start when activeLow');
    let done = 0;
    const first = ap.pulse().then(() => done++);
    const second = ap.pulse(200).then(() => done++);
    await Promise.resolve();
    assert.equal(bank.level(23), 0, 'active');
    clock.tick(499);
    await Promise.resolve();
    assert.equal(done, 0);
    clock.tick(1);
    await first;
    assert.equal(done, 1);
    await new Promise((r) => setImmediate(r));
    assert.equal(bank.level(23), 0, 'second pulse started after the first');
    clock.tick(200);
    await second;
    assert.equal(bank.level(23), 1);
    await ap.close();
    assert.equal(bank.pins.size, 0);
  });

  it('sim: records pulses with their times', async () => {
    const clock = new FakeClock();
    const ap = new SimApprove({ pulseMs: 300, timers: clock });
    const p = ap.pulse();
    clock.tick(300);
    await p;
    assert.deepEqual(ap.pulses, [{ startedAt: 0, ms: 300, endedAt: 300 }]);
  });
});

describe('hardware/createHardware', () => {
  it('builds sim devices from config sub-objects and closes them', async () => {
    const hw = await createHardware({
      scanner: { driver: 'sim', path: '', terminator: 'CR', prefix: '', suffix: '', maxLineLength: 64, reopenMinMs: 500, reopenMaxMs: 30000 },
      keypad: { driver: 'none', layout: 'matrix', rows: [5], cols: [6], keys: '1', debounceMs: 30, activeLow: true },
      indicator: { driver: 'sim', io: 'gpio', firmataPort: '', pins: { green: 17, red: 27, amber: 22, buzzer: 18 }, buzzer: 'active' },
      approve: { driver: 'sim', pin: 23, pulseMs: 10, activeLow: false },
    });
    assert.equal(hw.keypad, null);
    assert.equal(hw.scanner.connected, true);
    const codes: string[] = [];
    hw.scanner.on('code', (c: string) => codes.push(c));
    (hw.scanner as import('../../src/hardware/sim/sim-scanner.js').SimScanner).push('134567890123456789');
    assert.deepEqual(codes, ['134567890123456789']);
    await hw.close();
  });

  it('a GPIO that cannot be opened fails with the device named, after closing what was open', async () => {
    await assert.rejects(
      createHardware(
        {
          scanner: { driver: 'sim' },
          keypad: { driver: 'gpio', rows: [5], cols: [6], keys: '1', sysfsRoot: '/nonexistent' },
          indicator: { driver: 'log', pins: { green: 17, red: 27, amber: 22, buzzer: 18 } },
          approve: { driver: 'none', pin: 23 },
        },
        { gpioClass: new FakeBank().Gpio },
      ),
      (e: Error & { code: string }) => /^keypad: cannot read \/nonexistent\/class\/gpio/.test(e.message) && e.code === 'GPIO_NO_SYSFS',
    );
  });
});
