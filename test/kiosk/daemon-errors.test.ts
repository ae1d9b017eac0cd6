// A thrown error anywhere in the interaction path (a lamp driver, a listener) must not escape into the
// scanner driver's data handler: there it would be an uncaught exception and kill the daemon.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import { openJournal } from '../../src/journal/journal.js';
import type { PaymentRecord } from '../../src/kiosk/interaction.js';
import { createLogger } from '../../src/log.js';
import { DaemonFixture, LogCapture, type LogLine } from './daemon-helpers.js';
import { until } from '../wait.js';

const CODE = '134567890123456789';

describe('kiosk daemon: errors in the interaction path', function () {
  let fx: DaemonFixture;
  let daemon: Daemon | undefined;
  let lines: LogLine[];
  beforeEach(async () => {
    fx = await new DaemonFixture().start();
    const capture = new LogCapture();
    lines = capture.lines;
    const config = loadConfig(fx.writeConfig({ daemon: { graceMs: 1000, controlSocket: join(fx.dir, 'k.sock'), lockFile: join(fx.dir, 'k.lock') } }));
    daemon = await Daemon.start(config, { log: capture.log, walPurgeIdleMs: 20 });
  });
  afterEach(async () => {
    await daemon?.stop();
    await fx.dispose();
  });

  const paid = (d: Daemon) => new Promise<PaymentRecord>((resolve) => d.interaction.once('payment', resolve));

  it('a lamp driver that throws is logged; the scan is still paid and delivered', async () => {
    const d = daemon!;
    d.hardware.indicator.show = () => {
      throw new Error('lamp driver died');
    };
    const payment = paid(d);
    assert.doesNotThrow(() => d.hardware.scanner.emit('code', CODE));
    const record = await payment;
    assert.equal(record.result.kind, 'approved');
    assert.ok(lines.some((l) => l.event === 'indicator-error'), 'the failing lamp is logged');
  });

  it('a throwing code handler is logged, not thrown into the scanner driver; the next scan pays', async () => {
    const d = daemon!;
    const code = d.interaction.code.bind(d.interaction);
    d.interaction.code = () => {
      throw new Error('boom');
    };
    assert.doesNotThrow(() => d.hardware.scanner.emit('code', CODE));
    assert.ok(lines.some((l) => l.event === 'handler-error' && l.source === 'scanner code'), JSON.stringify(lines.slice(-3)));
    d.interaction.code = code;
    const payment = paid(d);
    d.hardware.scanner.emit('code', CODE);
    assert.equal((await payment).result.kind, 'approved');
  });

  it('once idle, the journal WAL is truncated: the erased payment code is in neither file', async () => {
    const d = daemon!;
    const payment = paid(d);
    d.hardware.scanner.emit('code', CODE);
    assert.equal((await payment).result.kind, 'approved');
    const file = daemon!.config.journal.path;
    const holds = (): boolean => [file, `${file}-wal`].some((f) => existsSync(f) && readFileSync(f).includes(CODE));
    // Bounded wait for the idle timer (20 ms here); the WAL held the code right after the payment.
    await until('the payment code gone from the journal and its WAL', () => (holds() ? undefined : true), { deadlineMs: 3000, everyMs: 20 });
  });
});

describe('kiosk daemon: the WAL purge while background work never ends', function () {
  this.timeout(20_000);
  let fx: DaemonFixture;
  let daemon: Daemon | undefined;
  afterEach(async () => {
    await daemon?.stop();
    await fx.dispose();
  });

  it('an order stuck in the background (the engine never idle) does not keep an erased payment code in the WAL', async () => {
    fx = await new DaemonFixture().start();
    // An unfinished order whose reversal the platform keeps failing: recovery drives it for as long as the daemon runs.
    const seeded = openJournal(fx.journalPath);
    const o = seeded.createOrder({ deviceId: 'TEST01', date: '20261201', orderTime: '20261201100000', txnAmt: '100', orderType: 'unionpay', authCode: '6212345678901234567', authMask: 'm', goodsId: 'G1', goodsInfo: 'g', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: 1, at: new Date().toISOString() });
    seeded.transition(o.orderNo, [{ from: 'created', to: 'unknown', event: { kind: 'answer', cause: 'seeded' } }], new Date().toISOString());
    seeded.close();
    fx.sandbox.setFaults(['closeOrder', 'cancelOrder', 'queryOrder'].map((path) => ({ kind: 'http-500' as const, path, count: Infinity })));
    const config = loadConfig(fx.writeConfig({ daemon: { graceMs: 1000, controlSocket: join(fx.dir, 'k.sock'), lockFile: join(fx.dir, 'k.lock') } }));
    daemon = await Daemon.start(config, { log: createLogger({ level: 'silent' }), walPurgeIdleMs: 20 });
    const d = daemon;
    const payment = new Promise<PaymentRecord>((resolve) => d.interaction.once('payment', resolve));
    d.hardware.scanner.emit('code', CODE);
    assert.equal((await payment).result.kind, 'approved');
    const file = config.journal.path;
    const holds = (): boolean => [file, `${file}-wal`].some((f) => existsSync(f) && readFileSync(f).includes(CODE));
    await until('the erased payment code gone from the journal and its WAL', () => (holds() ? undefined : true), { deadlineMs: 3000, everyMs: 20 });
    assert.ok(d.engine.pending > 0, 'precondition: background work still going on');
  });
});
