// Keypad: BCM → sysfs numbering from fake sysfs trees, debounce of bouncing contacts, matrix scanning.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gpioChipBase } from '../../src/hardware/gpio.js';
import { GpioKeypad } from '../../src/hardware/pi/gpio-keypad.js';
import { SimKeypad } from '../../src/hardware/sim/sim-keypad.js';
import { FakeClock } from '../fake-clock.js';
import { FakeBank } from './fake-gpio.js';

function fakeSysfs(chips: Record<string, { label: string; base: number }>): string {
  const root = mkdtempSync(join(tmpdir(), 'kiosk-sysfs-'));
  for (const [name, chip] of Object.entries(chips)) {
    const dir = join(root, 'class', 'gpio', name);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'label'), `${chip.label}\n`);
    writeFileSync(join(dir, 'base'), `${chip.base}\n`);
  }
  mkdirSync(join(root, 'class', 'gpio'), { recursive: true });
  return root;
}

describe('hardware/gpio chip base', () => {
  const roots: string[] = [];
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));
  const cases: [string, Record<string, { label: string; base: number }>, number][] = [
    ['old kernel (Pi 3/4, base 0)', { gpiochip0: { label: 'pinctrl-bcm2835', base: 0 }, gpiochip504: { label: 'raspberrypi-exp-gpio', base: 504 } }, 0],
    ['Bookworm Pi 4 (base 512)', { gpiochip512: { label: 'pinctrl-bcm2711', base: 512 }, gpiochip570: { label: 'raspberrypi-exp-gpio', base: 570 } }, 512],
    ['Pi 5 (RP1, base 571)', { gpiochip512: { label: 'gpio-brcmstb@107d508500', base: 512 }, gpiochip571: { label: 'pinctrl-rp1', base: 571 } }, 571],
  ];
  for (const [name, chips, base] of cases) {
    it(name, () => {
      const root = fakeSysfs(chips);
      roots.push(root);
      assert.equal(gpioChipBase({ sysfsRoot: root }), base);
    });
  }
  it('an explicit override wins, and a tree without a Pi controller is a clear error', () => {
    const root = fakeSysfs({ gpiochip0: { label: 'some-other-chip', base: 0 } });
    roots.push(root);
    assert.equal(gpioChipBase({ sysfsRoot: root, gpioChipBase: 100 }), 100);
    assert.throws(() => gpioChipBase({ sysfsRoot: root }), (e: Error & { code: string }) => e.code === 'GPIO_NO_CHIP' && /gpiochip0=some-other-chip/.test(e.message));
    assert.throws(() => gpioChipBase({ sysfsRoot: join(root, 'missing') }), (e: Error & { code: string }) => e.code === 'GPIO_NO_SYSFS');
  });
});

describe('hardware/keypad (gpio, fake bank)', () => {
  it('direct: a bouncing contact gives one key per press, after debounceMs', async () => {
    const clock = new FakeClock();
    const bank = new FakeBank();
    const kp = new GpioKeypad({ layout: 'direct', pins: { '5': 4, '#': 17 }, debounceMs: 20, gpioChipBase: 512, gpioClass: bank.Gpio, timers: clock });
    const keys: string[] = [];
    kp.on('key', (k: string) => keys.push(k));
    await kp.open();
    assert.ok(bank.pins.has(516) && bank.pins.has(529), 'BCM 4 and 17 opened as sysfs 516 and 529');
    // press: the contact bounces 5 times, 2 ms apart, then stays closed
    for (let i = 0; i < 5; i++) {
      bank.force(516, 0);
      clock.tick(2);
      bank.force(516, 1);
      clock.tick(2);
    }
    bank.force(516, 0);
    clock.tick(19);
    assert.deepEqual(keys, [], 'not before the contact is stable for debounceMs');
    clock.tick(1);
    assert.deepEqual(keys, ['5']);
    // release with bounce, then a second press
    bank.force(516, 1);
    clock.tick(3);
    bank.force(516, 0);
    clock.tick(3);
    bank.force(516, 1);
    clock.tick(30);
    bank.force(529, 0);
    clock.tick(30);
    assert.deepEqual(keys, ['5', '#']);
    // a glitch shorter than debounceMs is no key
    bank.force(529, 1);
    clock.tick(30);
    bank.force(529, 0);
    clock.tick(5);
    bank.force(529, 1);
    clock.tick(30);
    assert.deepEqual(keys, ['5', '#']);
    await kp.close();
    assert.deepEqual(bank.unexported.sort(), [516, 529]);
    assert.equal(clock.pending, 0);
  });

  it('matrix: idle until an edge, scans rows to find the key, debounces, stops scanning after release', async () => {
    const clock = new FakeClock();
    const bank = new FakeBank();
    const rows = [5, 6, 13, 19];
    const cols = [12, 16, 20];
    const kp = new GpioKeypad({ rows, cols, keys: '123456789*0#', debounceMs: 20, scanMs: 5, gpioChipBase: 0, gpioClass: bank.Gpio, timers: clock });
    const keys: string[] = [];
    kp.on('key', (k: string) => keys.push(k));
    await kp.open();
    assert.equal(clock.pending, 0, 'no scan loop while nobody types');
    assert.ok(rows.every((r) => bank.level(r) === 0), 'all rows driven active (low) at rest');

    const press = (row: number, col: number, down: boolean) => bank.connect(rows[row]!, cols[col]!, down);
    // '0' is row 3, col 1; the contact bounces first
    press(3, 1, true);
    clock.tick(1);
    press(3, 1, false);
    clock.tick(2);
    press(3, 1, true);
    assert.equal(clock.pending, 1, 'scanning');
    clock.tick(50);
    assert.deepEqual(keys, ['0']);
    clock.tick(200);
    assert.deepEqual(keys, ['0'], 'held key: one event');
    press(3, 1, false);
    clock.tick(50);
    assert.equal(clock.pending, 0, 'back to waiting for edges');
    assert.ok(rows.every((r) => bank.level(r) === 0));

    for (const [r, c] of [[0, 0], [1, 2], [3, 2]] as const) {
      press(r, c, true);
      clock.tick(40);
      press(r, c, false);
      clock.tick(40);
    }
    assert.deepEqual(keys, ['0', '1', '6', '#']);
    await kp.close();
    assert.equal(bank.pins.size, 0, 'every pin unexported');
  });

  it('refuses a key layout that does not match rows × cols', () => {
    assert.throws(() => new GpioKeypad({ rows: [1, 2], cols: [3, 4], keys: '123' }), /3 labels but rows × cols is 2 × 2 = 4/);
  });

  it('sim keypad emits pressed keys and refuses other labels', () => {
    const kp = new SimKeypad();
    const keys: string[] = [];
    kp.on('key', (k: string) => keys.push(k));
    kp.press('7');
    kp.press('#');
    assert.throws(() => kp.press('A'), /not a keypad key/);
    assert.deepEqual(keys, ['7', '#']);
  });
});
