// The demo in-process: scripted customers flag a mismatch, and the panel works without a terminal.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/log.js';
import { EXPECTED, runCustomers, startDemo, type Demo } from '../../src/kiosk/demo.js';
import { openJournal } from '../../src/journal/journal.js';
import { runPanel } from '../../src/kiosk/panel.js';

/** The panel without a terminal: lines in, and a wait for the next output matching (after the previous match). */
function panel(demo: Demo): { input: PassThrough; seen: (re: RegExp) => Promise<void>; done: Promise<void>; text: () => string } {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (d) => (text += d));
  const done = runPanel(demo, { input: input as unknown as NodeJS.ReadStream, output: output as unknown as NodeJS.WriteStream });
  let cursor = 0; // each wait looks only at output after the previous match
  const seen = (re: RegExp) =>
    new Promise<void>((resolve) => {
      const check = () => {
        const m = re.exec(text.slice(cursor));
        if (m) {
          cursor += m.index + m[0].length;
          output.off('data', check);
          resolve();
        }
      };
      output.on('data', check);
      check();
    });
  return { input, seen, done, text: () => text };
}

describe('kiosk demo (in process)', function () {
  this.timeout(15_000);
  let dir: string;
  let demo: Demo;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-demo-'));
    demo = await startDemo({ dataDir: dir, fast: true, log: silentLogger });
  });
  after(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a customer whose outcome differs from its test code is marked not ok', async () => {
    const saved = EXPECTED.paid;
    EXPECTED.paid = { result: 'declined', journal: 'failed' };
    try {
      const [row] = await runCustomers(demo, 1);
      assert.equal(row!.outcome, 'approved');
      assert.equal(row!.journal, 'delivered');
      assert.equal(row!.ok, false);
    } finally {
      EXPECTED.paid = saved;
    }
  });

  it('the panel without a terminal: one command per line, events printed as lines, q quits', async () => {
    const { input, seen, done, text } = panel(demo);
    // The previous customer's result display ends first.
    const { interaction } = demo.daemon;
    if (interaction.state.name !== 'ready') await new Promise<void>((r) => interaction.on('state', function ready(s: { name: string }) {
      if (s.name !== 'ready') return;
      interaction.off('state', ready);
      r();
    }));
    input.write('u\n');
    await seen(/payment: unionpay…\d{4} approved DEMO01/);
    await seen(/indicator: ready/); // after the result display
    input.write('3\n'); // pending-forever: not charged, then reversed
    await seen(/payment: \w+…\d{4} not-charged/);
    input.write('n\n');
    await seen(/indicator: bad-code/);
    input.write('q\n');
    await done;
    assert.doesNotMatch(text(), /\b(1[0-5]|2[5-9]|30|62)\d{14,22}\b/, 'no payment code in full');
  });
});

describe('kiosk demo with a simulated GM module (command trigger)', function () {
  this.timeout(30_000);
  let dir: string;
  let demo: Demo;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-demo-gm-'));
    demo = await startDemo({ dataDir: dir, fast: true, log: silentLogger, module: 'gm' });
  });
  after(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the module is set up and saved once, and scripted customers pay through it', async () => {
    const mod = demo.daemon.hardware.scanner.moduleStatus;
    assert.equal(mod?.state, 'ready', mod?.error);
    assert.ok(mod?.setup?.written.includes('tail') && mod.setup.written.includes('mode'));
    assert.equal(mod?.setup?.saved, true);
    const rows = await runCustomers(demo, 4);
    assert.ok(rows.every((r) => r.ok), JSON.stringify(rows));
    assert.ok((demo.daemon.hardware.scanner.moduleStatus?.triggers ?? 0) >= 4);
  });
});

describe('kiosk demo --vend mdb (a simulated vending machine behind an MDB HAT)', function () {
  this.timeout(30_000);
  let dir: string;
  let demo: Demo;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-demo-mdb-'));
    demo = await startDemo({ dataDir: dir, fast: true, log: silentLogger, vend: 'mdb' });
  });
  after(async () => {
    await demo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('scripted customers choose on the machine and pay its price: every outcome as its test code says, only paid ones vended', async () => {
    const rows = await runCustomers(demo, 7);
    assert.ok(rows.every((r) => r.ok), JSON.stringify(rows));
    const vmc = demo.vmc!;
    // Customers choose products 1, 2, 3 in turn: paid (1.50), pending-then-paid (3.00) and answer-lost (3.00) vend.
    assert.deepEqual(vmc.received.filter((l) => l.startsWith('C,VEND')), ['C,VEND,1.50', 'C,VEND,3.00', 'C,VEND,3.00']);
    assert.equal(vmc.received.filter((l) => l === 'C,STOP').length, 4, 'the declined and the unclear one denied');
    assert.deepEqual(vmc.approvalsOutOfTurn, []);
    const j = openJournal(demo.config.journal.path, { readonly: true });
    try {
      assert.deepEqual(rows.map((r) => j.getPublic(r.orderNo)?.productId), ['1', '2', '3', '1', '2', '3', '1']);
    } finally {
      j.close();
    }
  });

  it('the panel: a digit chooses on the machine, a scan pays its price, j jams the next vend (refunded), x cancels', async () => {
    const { input, seen, done, text } = panel(demo);
    await demo.daemon.interaction.settled();
    input.write('2\n');
    await seen(/display: Scan to pay \/ ¥3\.00 for Cola/);
    input.write('w\n');
    await seen(/machine: c,VEND,SUCCESS/);
    await seen(/payment: wechat…\d{4} approved DEMO01/);
    await seen(/display: Choose on the \/ machine first/);
    input.write('j\n');
    await seen(/the next vend jams/);
    input.write('1\n');
    await seen(/display: Scan to pay \/ ¥1\.50 for Water/);
    input.write('a\n');
    await seen(/machine: c,ERR,VEND 3/);
    await seen(/payment: alipay…\d{4} not-charged DEMO01/);
    await seen(/display: Choose on the \/ machine first/);
    input.write('3\n');
    await seen(/display: Scan to pay \/ ¥5\.50 for Chips/);
    input.write('x\n');
    await seen(/display: Choose on the \/ machine first/);
    input.write('q\n');
    await done;
    assert.doesNotMatch(text(), /\b(1[0-5]|2[5-9]|30|62)\d{14,22}\b/, 'no payment code in full');
  });
});
