// The character display: johnny-five's LCD (PCF8574 controller) over our IO plugin's I2C, decoded from the bytes
// on a fake bus into what the glass shows; the log and sim drivers.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { fitLines, lcdCode, NoDisplay } from '../../src/hardware/display.js';
import { LogDisplay } from '../../src/hardware/log-display.js';
import { LcdDisplay } from '../../src/hardware/pi/lcd-display.js';
import { OnoffIO } from '../../src/hardware/pi/onoff-io.js';
import { SimDisplay } from '../../src/hardware/sim/sim-display.js';
import { FakeI2cBus } from './hd44780.js';

async function openLcd(address = 0x27, cols = 16, rows = 2) {
  const bus = new FakeI2cBus(address, cols, rows);
  const d = new LcdDisplay({ cols, rows, address, i2cBus: 1, openI2c: async () => bus });
  await d.open();
  return { d, bus };
}

describe('hardware/display', function () {
  this.timeout(10_000);

  it('lcd: johnny-five initialises the HD44780 in 4-bit mode over the PCF8574, backlight on, blank', async () => {
    const { d, bus } = await openLcd();
    assert.equal(bus.lcd.fourBit, true);
    assert.equal(bus.lcd.twoLines, true);
    assert.equal(bus.lcd.displayOn, true);
    assert.equal(bus.lcd.backlight, true);
    assert.equal(bus.lcd.reads, 0, 'RW stays low: the driver never reads');
    assert.deepEqual(bus.lcd.text(), [' '.repeat(16), ' '.repeat(16)]);
    await d.close();
    assert.equal(bus.lcd.backlight, false, 'backlight off at close');
    assert.equal(bus.closed, true);
  });

  it('lcd: a screen written through I2C reads back from the decoded glass, ¥ as ROM A00 0x5C', async () => {
    const { d, bus } = await openLcd();
    d.show(['Pay ¥3.50', 'Scan your code']);
    assert.deepEqual(bus.lcd.text(), ['Pay ¥3.50       ', 'Scan your code  ']);
    assert.ok(bus.lcd.ddram.includes(0x5c));
    assert.deepEqual(d.lines, bus.lcd.text());
    await d.close();
  });

  it('lcd: only changed characters are rewritten (a countdown costs a few bytes, not a screen)', async () => {
    const { d, bus } = await openLcd();
    d.show(['Confirm on phone', '  45 s left']);
    const before = bus.writes;
    d.show(['Confirm on phone', '  44 s left']);
    assert.deepEqual(bus.lcd.text(), ['Confirm on phone', '  44 s left     ']);
    // setCursor (1 byte = 2 nibbles × 2 port writes) + one character (4 port writes)
    assert.equal(bus.writes - before, 8);
    d.show(['Confirm on phone', '  44 s left']);
    assert.equal(bus.writes - before, 8, 'the same screen again writes nothing');
    await d.close();
  });

  it('lcd: 20×4 at 0x3F uses rows 3 and 4 (DDRAM 0x14/0x54); long lines are cut, not wrapped', async () => {
    const { d, bus } = await openLcd(0x3f, 20, 4);
    d.show(['1 Cola ¥3.50', '2 Water ¥2.00', '3 Juice ¥5.00', '4 Crisps ¥4.50 and much more text']);
    assert.deepEqual(bus.lcd.text(), ['1 Cola ¥3.50        ', '2 Water ¥2.00       ', '3 Juice ¥5.00       ', '4 Crisps ¥4.50 and m']);
    await d.close();
  });

  it('lcd: nothing at the address → open fails naming the address and i2cdetect', async () => {
    const bus = new FakeI2cBus(0x3f);
    const d = new LcdDisplay({ cols: 16, rows: 2, address: 0x27, i2cBus: 1, openI2c: async () => bus });
    await assert.rejects(d.open(), /0x27.*i2cdetect -y 1/);
  });

  it('lcd: a write failing mid-run is a warning, never a throw; the next screen still goes out once it is back', async () => {
    const { d, bus } = await openLcd();
    const warnings: Error[] = [];
    d.on('warning', (e: Error) => warnings.push(e));
    bus.unplugged = true;
    d.show(['Paid', 'Take your product']);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!.message, /Remote I\/O/);
    bus.unplugged = false;
    d.show(['Paid', 'Take it now']);
    assert.equal(bus.lcd.text()[1], 'Take it now     ');
    await d.close();
  });

  it('IO plugin: i2cWrite forms, i2cWriteReg and i2cReadOnce per the johnny-five IO plugin spec', async () => {
    const sent: number[][] = [];
    const io = await new OnoffIO({
      gpio: false,
      i2cBus: 1,
      openI2c: async () => ({
        i2cWriteSync: (_a, n, b) => (sent.push([...b.subarray(0, n)]), n),
        i2cReadSync: (_a, n, b) => (b.fill(7, 0, n), n),
        closeSync: () => {},
      }),
    }).init();
    io.i2cConfig({ delay: 5 });
    io.i2cWrite(0x20, [1, 2, 3]).i2cWrite(0x20, 9).i2cWrite(0x20, 4, [5, 6]).i2cWrite(0x20, 4, 5).i2cWriteReg(0x20, 0x10, 0x11);
    assert.deepEqual(sent, [[1, 2, 3], [9], [4, 5, 6], [4, 5], [0x10, 0x11]]);
    const bytes = await new Promise<number[]>((r) => io.i2cReadOnce(0x20, 0x0a, 2, r));
    assert.deepEqual(bytes, [7, 7]);
    assert.deepEqual(sent.at(-1), [0x0a]);
    io.close();
    assert.throws(() => io.i2cWrite(0x20, 1), /I2C is not open/);
  });

  it('lcdCode: ASCII as is; ¥ is 0x5C; what ROM A00 lacks (\\ ~ non-ASCII) is ?', () => {
    assert.equal(lcdCode('A'), 0x41);
    assert.equal(lcdCode('¥'), 0x5c);
    assert.equal(lcdCode('\\'), 0x3f);
    assert.equal(lcdCode('~'), 0x3f);
    assert.equal(lcdCode('元'), 0x3f);
    assert.deepEqual(fitLines(['abc'], { cols: 4, rows: 2 }), ['abc ', '    ']);
  });

  it('log: one JSON line per change with a display field; sim keeps the lines and emits screen', async () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'info', destination: new Writable({ write: (c, _e, cb) => (lines.push(String(c)), cb()) }) });
    const d = new LogDisplay({ geometry: { cols: 16, rows: 2 }, log });
    d.show(['Hello', 'World']);
    d.show(['Hello', 'World']);
    d.show(['Bye']);
    const objs = lines.join('').trim().split('\n').map((l) => JSON.parse(l) as { display: string[] });
    assert.deepEqual(objs.map((o) => o.display), [['Hello', 'World'], ['Bye', '']]);
    const sim = new SimDisplay();
    const seen: string[][] = [];
    sim.on('screen', (l: string[]) => seen.push(l));
    sim.show(['A']);
    assert.deepEqual(seen, [['A'.padEnd(16), ' '.repeat(16)]]);
    const none = new NoDisplay();
    none.show(['x']);
    assert.equal(none.lines[0], 'x'.padEnd(16));
  });
});
