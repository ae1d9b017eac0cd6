// The demo in-process: scripted customers flag a mismatch, and the panel works without a terminal.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { silentLogger } from '../../src/log.js';
import { EXPECTED, runCustomers, startDemo, type Demo } from '../../src/kiosk/demo.js';
import { runPanel } from '../../src/kiosk/panel.js';

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
    assert.doesNotMatch(text, /\b(1[0-5]|2[5-9]|30|62)\d{14,22}\b/, 'no payment code in full');
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
