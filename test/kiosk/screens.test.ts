// What a customer reads, for every state they meet: the interaction drives johnny-five's LCD (PCF8574) over our IO
// plugin's I2C onto a fake bus, and the assertions read the glass decoded from those bytes (test/hardware/hd44780.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { LcdDisplay } from '../../src/hardware/pi/lcd-display.js';
import { Interaction, type Pricing } from '../../src/kiosk/interaction.js';
import { FAULTS, renderScreen, type Screen } from '../../src/kiosk/screens.js';
import { DEFAULT_TEXTS, fill, PLACEHOLDER_SAMPLES, TEXT_KEYS, textProblem } from '../../src/kiosk/texts.js';
import { FakeI2cBus } from '../hardware/hd44780.js';
import { FakeApprove, FakeEngine, FakeIndicator, flush } from './fakes.js';
import { FakeClock } from '../fake-clock.js';

const WECHAT = '134567890123456789';
const timing = { entryTimeoutMs: 10_000, signalMs: 1_000, resultMs: 3_000, approvePulseMs: 250, customerWindowMs: 60_000, scrollMs: 2_000 };
const fixed: Pricing = { mode: 'fixed', amountFen: 350 };
const keyed: Pricing = { mode: 'keyed', maxAmountFen: 5000, minAmountFen: 100 };
const menu: Pricing = { mode: 'menu', items: { '1': { amountFen: 350, goodsInfo: 'Cola' }, '2': { amountFen: 200, goodsInfo: '矿泉水' }, '3': 500, '12': 1200 } };

describe('kiosk screens (read off an HD44780 decoded from the I2C bytes)', function () {
  this.timeout(10_000);
  let bus: FakeI2cBus;
  let lcd: LcdDisplay;
  before(async () => {
    bus = new FakeI2cBus(0x27);
    lcd = new LcdDisplay({ cols: 16, rows: 2, address: 0x27, i2cBus: 1, openI2c: async () => bus });
    await lcd.open();
  });
  after(() => lcd.close());

  function setup(pricing: Pricing, texts = {}) {
    const clock = new FakeClock();
    const indicator = new FakeIndicator();
    const engine = new FakeEngine();
    const kiosk = new Interaction({ pricing, engine, indicator, approve: new FakeApprove(), display: lcd, texts, clock, timing });
    const glass = () => bus.lcd.text().map((l) => l.trimEnd());
    return { clock, indicator, engine, kiosk, glass, keys: (s: string) => [...s].forEach((k) => kiosk.key(k)) };
  }

  it('fixed price: the price and "scan", then the amount and a countdown while waiting', () => {
    const t = setup(fixed);
    assert.deepEqual(t.glass(), ['Pay ¥3.50', 'Scan pay code']);
    t.kiosk.code(WECHAT);
    assert.deepEqual(t.glass(), ['Paying ¥3.50', 'Please wait 60s']);
    t.clock.tick(1_000);
    assert.deepEqual(t.glass(), ['Paying ¥3.50', 'Please wait 59s']);
  });

  it('"confirm on your phone" with the countdown while the platform says paying; the last 10 s blink faster', () => {
    const t = setup(fixed);
    t.kiosk.code(WECHAT);
    assert.equal(t.indicator.last, 'processing');
    t.engine.last.hooks.progress!('waiting');
    t.clock.tick(3_000);
    t.engine.last.hooks.progress!('paying');
    assert.deepEqual(t.glass(), ['Confirm on phone', '57 s left']);
    assert.equal(t.indicator.last, 'confirm-on-phone');
    t.engine.last.hooks.progress!('waiting'); // a query that did not work does not undo "paying"
    t.clock.tick(46_999);
    assert.deepEqual(t.glass(), ['Confirm on phone', '11 s left']);
    assert.equal(t.indicator.last, 'confirm-on-phone');
    t.clock.tick(1);
    assert.deepEqual(t.glass(), ['Confirm on phone', '10 s left']);
    assert.equal(t.indicator.last, 'window-ending');
    t.clock.tick(9_000);
    assert.deepEqual(t.glass(), ['Confirm on phone', '1 s left']);
  });

  it('a send that provably never left is being retried: "No network" with the countdown', () => {
    const t = setup(fixed);
    t.kiosk.code(WECHAT);
    t.engine.last.hooks.progress!('offline');
    assert.deepEqual(t.glass(), ['No network', 'Retrying 60s']);
  });

  it('paid: take your product; then the next customer', async () => {
    const t = setup(fixed);
    t.kiosk.code(WECHAT);
    await t.engine.approve('K1');
    await flush();
    assert.deepEqual(t.glass(), ['Paid, thank you', 'Take your item']);
    t.clock.tick(3_000);
    assert.deepEqual(t.glass(), ['Pay ¥3.50', 'Scan pay code']);
  });

  for (const [code, reason] of [
    ['15', 'Low balance'],
    ['20', 'Code expired'],
    ['001100WN', 'Code used before'],
    ['23', 'Code not valid'],
    ['33', 'Over your limit'],
    ['06', 'Payment refused'],
  ] as const) {
    it(`declined ${code}: "Not paid" with the short reason "${reason}"`, async () => {
      const t = setup(fixed);
      t.kiosk.code(WECHAT);
      t.engine.last.resolve({ kind: 'declined', orderNo: 'K1', code, reason: 'from the platform' });
      await flush();
      assert.deepEqual(t.glass(), ['Not paid', reason]);
    });
  }

  for (const [name, result, glass] of [
    ['not charged (no verdict in time)', { kind: 'not-charged', orderNo: 'K1', reason: 'reversing' }, ['Not charged', 'Any money back']],
    ['offline (never sent)', { kind: 'refused', reason: 'offline', detail: 'x', orderNo: 'K1' }, ['Offline', 'Cannot pay now']],
    ['clock not trusted: out of service F02', { kind: 'refused', reason: 'clock', detail: 'x' }, ['Out of service', 'Fault F02']],
    ['bad code', { kind: 'refused', reason: 'bad-code', detail: 'x' }, ['Not a pay code', 'Show pay code']],
    ['busy', { kind: 'refused', reason: 'busy', detail: 'x' }, ['Not now', 'Please wait']],
  ] as const) {
    it(`${name}: ${glass.join(' / ')}`, async () => {
      const t = setup(fixed);
      t.kiosk.code(WECHAT);
      t.engine.last.resolve(result);
      await flush();
      assert.deepEqual(t.glass(), glass);
    });
  }

  it('paid but the vend sensor saw no product: "Vend failed / Refunding you"; a broken sensor: F04 and no payment taken', async () => {
    const t = setup(fixed);
    t.kiosk.code(WECHAT);
    t.engine.last.resolve({ kind: 'not-charged', orderNo: 'K1', reason: 'no drop', vend: 'failed' });
    await flush();
    assert.deepEqual(t.glass(), ['Vend failed', 'Refunding you']);
    t.clock.tick(3_000);
    t.kiosk.vendFault('vend sensor stuck active');
    assert.deepEqual(t.glass(), ['Out of service', 'Fault F04']);
    const calls = t.engine.calls.length;
    t.kiosk.code(WECHAT);
    assert.equal(t.engine.calls.length, calls, 'not sent while the sensor is broken');
    t.kiosk.vendFault(null);
    t.clock.tick(1_000); // the refused scan's signal
    assert.deepEqual(t.glass(), ['Pay ¥3.50', 'Scan pay code']);
  });

  it('an engine error: out of service F03, neither paid nor declined', async () => {
    const t = setup(fixed);
    t.kiosk.code(WECHAT);
    t.engine.last.reject(new Error('boom'));
    await flush();
    assert.deepEqual(t.glass(), ['Out of service', 'Fault F03']);
  });

  it('scanner unplugged: out of service F01; link offline: offline; both clear when back', () => {
    const t = setup(fixed);
    t.kiosk.scannerConnected(false);
    assert.deepEqual(t.glass(), ['Out of service', 'Fault F01']);
    t.kiosk.scannerConnected(true);
    t.kiosk.linkOnline(false);
    assert.deepEqual(t.glass(), ['Offline', 'Cannot pay now']);
    t.kiosk.linkOnline(true);
    assert.deepEqual(t.glass(), ['Pay ¥3.50', 'Scan pay code']);
  });

  it('keyed: the amount as typed (¥3.50), the limit when over it, a scan before choosing', () => {
    const t = setup(keyed);
    assert.deepEqual(t.glass(), ['Type amount', 'then press #']);
    t.kiosk.code(WECHAT);
    assert.deepEqual(t.glass(), ['Not now', 'Choose first']);
    t.clock.tick(1_000);
    t.keys('3');
    assert.deepEqual(t.glass(), ['Amount, # = OK', '¥0.03']);
    t.keys('50');
    assert.deepEqual(t.glass(), ['Amount, # = OK', '¥3.50']);
    t.keys('0');
    assert.deepEqual(t.glass(), ['Amount, # = OK', '¥35.00']);
    t.keys('0');
    assert.deepEqual(t.glass(), ['Not now', 'Max ¥50.00']);
    t.clock.tick(1_000);
    assert.deepEqual(t.glass(), ['Amount, # = OK', '¥35.00']);
    t.keys('#');
    assert.deepEqual(t.glass(), ['Pay ¥35.00', 'Scan pay code']);
  });

  it('menu: items and prices page by themselves when longer than the display; a label the LCD cannot show is left out', () => {
    const t = setup(menu);
    const pages = [t.glass()];
    for (let i = 0; i < 4; i++) {
      t.clock.tick(2_000);
      pages.push(t.glass());
    }
    assert.deepEqual(pages, [
      ['Choose item, #', '1 Cola ¥3.50'],
      ['Choose item, #', '2 ¥2.00'],
      ['Choose item, #', '3 ¥5.00'],
      ['Choose item, #', '12 ¥12.00'],
      ['Choose item, #', '1 Cola ¥3.50'],
    ]);
    t.keys('1');
    assert.deepEqual(t.glass(), ['Item 1', '¥3.50 # = OK']);
    t.keys('9');
    assert.deepEqual(t.glass(), ['Item 19', 'no such item']);
  });

  it('operator texts from config replace the defaults', () => {
    const t = setup(fixed, { 'ready.2': 'Scan QR to pay' });
    assert.deepEqual(t.glass(), ['Pay ¥3.50', 'Scan QR to pay']);
  });

  it('stopping: "Closed"', () => {
    const t = setup(fixed);
    t.kiosk.stop();
    t.kiosk.showClosed();
    assert.deepEqual(t.glass(), ['Closed', '']);
  });
});

describe('kiosk screens: the texts table and the docs', () => {
  it('every default text is printable ASCII (or ¥) and fits a 16-column display at its widest', () => {
    for (const k of TEXT_KEYS) {
      assert.equal(textProblem(DEFAULT_TEXTS[k]), undefined, k);
      assert.ok([...fill(DEFAULT_TEXTS[k], PLACEHOLDER_SAMPLES)].length <= 16, `${k}: ${DEFAULT_TEXTS[k]}`);
    }
  });

  it('docs/display.md shows every screen as rendered here, every text key and every fault number', () => {
    const doc = readFileSync(new URL('../../../docs/display.md', import.meta.url), 'utf8');
    for (const k of TEXT_KEYS) assert.ok(doc.includes(`| \`${k}\` | \`${DEFAULT_TEXTS[k]}\` |`), `docs/display.md lacks text ${k}`);
    for (const [f, meaning] of Object.entries(FAULTS)) assert.ok(doc.includes(`| ${f} | ${meaning} |`), `docs/display.md lacks fault ${f}`);
    for (const [title, screen] of DOC_SCREENS) {
      const box = boxed(renderScreen(screen, DEFAULT_TEXTS, { cols: 16, rows: 2 }));
      assert.ok(doc.includes(`${title}\n\`\`\`\n${box}\n\`\`\``), `docs/display.md lacks or differs for "${title}":\n${box}`);
    }
  });
});

/** The screens docs/display.md shows, under these headings. */
export const DOC_SCREENS: [string, Screen][] = [
  ['Price (fixed) / amount chosen', { name: 'ready', amountFen: 350 }],
  ['Menu (pages every 2.5 s when longer than the display)', { name: 'menu', items: [{ item: '1', amountFen: 350, label: 'Cola' }, { item: '2', amountFen: 200 }], page: 0 }],
  ['Keyed, nothing typed', { name: 'keyed' }],
  ['Keyed, typing 3 5 0', { name: 'typing', amountFen: 350 }],
  ['Menu, typing an item', { name: 'item', item: '1', amountFen: 350 }],
  ['Vending machine (mdb), nothing selected', { name: 'vmc' }],
  ['Vending machine (mdb), product selected', { name: 'vend', amountFen: 150, item: 'Cola' }],
  ['Waiting for the platform', { name: 'processing', amountFen: 350, secondsLeft: 52 }],
  ['The platform says the customer is paying', { name: 'paying', secondsLeft: 41 }],
  ['Retrying a send that never left', { name: 'retrying', secondsLeft: 37 }],
  ['Paid', { name: 'paid' }],
  ['Declined: insufficient balance (15)', { name: 'declined', code: '15' }],
  ['Declined: code expired (20)', { name: 'declined', code: '20' }],
  ['Declined: code already used (001100WN)', { name: 'declined', code: '001100WN' }],
  ['Not charged (no verdict in time: reversed)', { name: 'not-charged' }],
  ['The vend sensor saw no product (refunded)', { name: 'vend-failed' }],
  ['Not a payment code', { name: 'bad-code' }],
  ['Scan before choosing', { name: 'not-now', hint: 'choose' }],
  ['Offline', { name: 'offline' }],
  ['Out of service (scanner missing)', { name: 'fault', fault: 'F01' }],
  ['Out of service (vend sensor broken)', { name: 'fault', fault: 'F04' }],
  ['Out of service (MDB HAT not connected)', { name: 'fault', fault: 'F06' }],
  ['Closed (daemon stopping)', { name: 'closed' }],
];

export function boxed(lines: readonly string[]): string {
  const w = 16;
  return [`+${'-'.repeat(w)}+`, ...lines.concat(['', '']).slice(0, 2).map((l) => `|${l.padEnd(w)}|`), `+${'-'.repeat(w)}+`].join('\n');
}
