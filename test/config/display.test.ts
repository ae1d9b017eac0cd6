// Config section `display`: defaults, hex addresses, and operator texts checked for what an HD44780 can show.
import assert from 'node:assert/strict';
import { parseDisplay } from '../../src/config/display.js';

const parse = (raw: unknown) => parseDisplay(raw, 'config.json');

describe('config display', () => {
  it('absent: driver none, 16×2 at 0x27 on bus 1, no text overrides', () => {
    assert.deepEqual(parse(undefined), { display: { driver: 'none', cols: 16, rows: 2, address: 0x27, i2cBus: 1, resultMs: 3000, texts: {} }, problems: [] });
  });

  it('an lcd at "0x3F" (hex as printed on the backpack), 20×4, texts overridden', () => {
    const { display, problems } = parse({ driver: 'lcd', cols: 20, rows: 4, address: '0x3F', texts: { 'ready.2': 'Scan QR code to pay' } });
    assert.deepEqual(problems, []);
    assert.equal(display.address, 0x3f);
    assert.equal(display.texts['ready.2'], 'Scan QR code to pay');
  });

  it('each problem names the field and the value: driver, address, unknown key, unknown text, non-ASCII, too long', () => {
    const { problems } = parse({ driver: 'oled', address: '0x99', colour: 'blue', texts: { 'ready.9': 'x', 'paid.1': '谢谢', 'ready.1': 'C:\\pay ~' } });
    const by = Object.fromEntries(problems.map((p) => [p.field, p]));
    assert.match(by['display.driver']!.problem, /none.*lcd.*log.*sim/);
    assert.equal(by['display.driver']!.value, 'oled');
    assert.match(by['display.address']!.problem, /7-bit I2C address/);
    assert.match(by['display']!.problem, /colour/);
    assert.match(by['display.texts.ready.9']!.problem, /unknown text key/);
    assert.match(by['display.texts.paid.1']!.problem, /cannot be shown/);
    assert.equal(by['display.texts.paid.1']!.value, '谢谢');
    assert.match(by['display.texts.ready.1']!.problem, /no \\ or ~/);
    assert.ok(problems.every((p) => p.file === 'config.json'));
    const long = parse({ driver: 'lcd', texts: { 'paid.2': 'Take your product now' } }).problems;
    assert.match(long[0]!.problem, /too long for a 16-column display/);
    assert.equal(long[0]!.field, 'display.texts.paid.2');
    assert.deepEqual(parse({ driver: 'lcd', cols: 20, rows: 4, texts: { 'paid.2': 'Take your product now'.slice(0, 20) } }).problems, []);
  });
});
