// The daemon end to end: `node dist/src/cli/kiosk.js run` as a child process, the scanner on a real
// pseudo-terminal (socat) opened with the real serialport binding, the sandbox gateway over HTTP in
// this process, the `log` indicator read from the child's stdout.
import assert from 'node:assert/strict';
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFileSync } from 'node:fs';
import { openJournal } from '../../src/journal/journal.js';
import { testCode } from '../../src/sandbox/codes.js';
import { seededRandom } from '../../src/sandbox/faults.js';
import { classifyAuthCode } from '../../src/umpay/authcode.js';
import { join } from 'node:path';
import { controlRequest } from '../../src/cli/tech/control.js';
import type { DaemonStatus, ReconcileSummary } from '../../src/kiosk/control.js';
import { PtyPair } from '../hardware/pty.js';
import { GmSim } from '../../src/hardware/sim/gm-sim.js';
import { HoneywellSim, NewlandSim } from '../../src/hardware/sim/tag-sim.js';
import type { ModuleSim } from '../../src/hardware/sim/module-sim.js';
import { DaemonFixture, spawnDaemon, type DaemonProcess } from './daemon-helpers.js';
import { run as scannerCli } from '../../src/cli/scanner.js';
import { captureIo } from '../../src/cli/tech/format.js';
import { wireText } from '../../src/umpay/canonical.js';

function write(stream: WriteStream, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (stream.write(data)) return resolve();
    const done = (err?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      if (err) reject(err);
      else resolve();
    };
    stream.on('drain', done);
    stream.on('error', done);
  });
}

function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/** One line that must never become a payment: noise, overlong, partial or valid-looking-but-wrong. No CR/LF inside. */
function fuzzLine(r: () => number): string {
  const digits = (n: number) => Array.from({ length: n }, () => String(Math.floor(r() * 10))).join('');
  for (;;) {
    let line: string;
    const kind = Math.floor(r() * 5);
    if (kind === 0) line = Array.from({ length: 1 + Math.floor(r() * 40) }, () => String.fromCharCode(Math.floor(r() * 256))).join('');
    else if (kind === 1) line = digits(65 + Math.floor(r() * 200)); // overlong
    else if (kind === 2) line = '13' + digits(Math.floor(r() * 15)); // partial WeChat code
    else if (kind === 3) line = ['99', '00', '20', '63'][Math.floor(r() * 4)]! + digits(16); // valid length, unknown prefix
    else line = '1345' + digits(6) + 'A' + digits(7); // a letter inside
    line = line.replace(/[\r\n]/g, '');
    if (line.length > 0 && !classifyAuthCode(line).ok) return line;
  }
}

describe('kiosk daemon end to end (real pty, sandbox over HTTP)', function () {
  this.timeout(30_000);
  const fx = new DaemonFixture();
  const pty = new PtyPair();
  let daemon: DaemonProcess;
  let feeder: WriteStream;
  const openFeeder = () => {
    feeder = createWriteStream(pty.feeder, { flags: 'w' });
    feeder.on('error', () => {}); // the pty vanishes on unplug
  };

  before(async () => {
    await fx.start();
    await pty.start();
    fx.writeConfig({ scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR', reopenMinMs: 50, reopenMaxMs: 200 } });
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
    openFeeder();
  });

  after(async () => {
    feeder?.destroy();
    await daemon?.stop('SIGKILL');
    await pty.dispose();
    await fx.dispose();
  });

  it('shows ready, then pays a code written to the pty once and marks it delivered', async () => {
    assert.ok(daemon.lines.some((l) => l.indicator === 'ready'), 'ready shown before the ready line');
    const screens = () => daemon.lines.filter((l) => Array.isArray(l.display)).map((l) => (l.display as string[]).join(' / '));
    assert.equal(screens().at(-1), 'Pay ¥1.00 / Scan pay code');
    const code = testCode('paid', 'wechat');
    await write(feeder, code + '\r');
    const success = await daemon.indicator('success');
    assert.deepEqual(screens().slice(-2), ['Paying ¥1.00 / Please wait 5s', 'Paid, thank you / Take your item']);
    const orderNo = String(success.orderNo);
    assert.match(orderNo, /^TEST01/);
    const orders = fx.sandbox.ledger().orders.filter((o) => o.orderNo === orderNo);
    assert.equal(orders.length, 1);
    assert.equal(orders[0]!.state, 'paid');
    assert.equal(orders[0]!.charged, 1);
    const journal = openJournal(fx.journalPath, { readonly: true });
    try {
      assert.equal(journal.get(orderNo)?.state, 'delivered');
    } finally {
      journal.close();
    }
    assert.ok(!daemon.lines.some((l) => JSON.stringify(l).includes(code)), 'the payment code never appears in the log');
  });

  it('answers kiosk status and kiosk reconcile on its control socket', async () => {
    const socket = join(fx.dir, 'kiosk.sock');
    const status = await controlRequest<DaemonStatus>(socket, 'status');
    assert.equal(status.pid, daemon.proc.pid);
    assert.deepEqual(status.scanner, { connected: true, device: pty.device });
    assert.equal(status.link?.state, 'online');
    const summary = await controlRequest<ReconcileSummary>(socket, 'reconcile');
    assert.deepEqual(summary, { started: 0, remaining: 0 });
  });

  it('refuses a second daemon on the same journal with a clear message (exit 75)', async () => {
    const second = spawnDaemon(fx.configFile);
    const { code } = await second.exited;
    assert.equal(code, 75);
    assert.match(second.stderr.join('\n'), /another kiosk daemon \(pid \d+\) holds the journal lock .*kiosk\.lock/);
    assert.equal(daemon.proc.exitCode, null, 'the first daemon keeps running');
  });

  it('scanner unplugged (pty gone) → fault; plugged back → ready and paying again', async () => {
    feeder.destroy();
    await pty.stop();
    await daemon.indicator('fault');
    await pty.start();
    await daemon.indicator('ready');
    openFeeder();
    await write(feeder, testCode('paid', 'alipay') + '\r');
    await daemon.indicator('success');
  });

  it('fuzz: random lines into the pty are never sent, the daemon stays up, memory stays bounded', async function () {
    const total = Number(process.env.KIOSK_FUZZ_LINES ?? 100_000);
    // After the previous customer's result display: noise flashes bad-code but leaves the kiosk ready.
    await daemon.indicator('ready');
    const before = fx.sandbox.stats().total;
    const sent: string[] = [];
    const onRequest = (e: { path: string; fields: Record<string, unknown> }) => sent.push(`${e.path} ${wireText(e.fields.authCode ?? '')}`);
    fx.sandbox.on('request', onRequest);
    const r = seededRandom(20261126); // deterministic, so a failing fuzz run can be replayed
    const rss: number[] = [rssKb(daemon.proc.pid!)];
    const chunkLines = 500;
    for (let i = 0; i < total; i += chunkLines) {
      let chunk = '';
      for (let j = 0; j < chunkLines && i + j < total; j++) chunk += fuzzLine(r) + '\r';
      await write(feeder, chunk);
      if (i % 25_000 === 0) rss.push(rssKb(daemon.proc.pid!));
    }
    // A valid code after the noise: when it is paid, every line before it has been read.
    await write(feeder, testCode('paid', 'unionpay') + '\r');
    await daemon.indicator('success', 20_000);
    rss.push(rssKb(daemon.proc.pid!));
    fx.sandbox.off("request", onRequest);
    assert.equal(daemon.proc.exitCode, null, 'daemon still running');
    // Only the final valid code was sent; anything else is the link monitor's liveness probe.
    const micropays = sent.filter((x) => x.startsWith('/pay/micropay'));
    assert.equal(micropays.length, 1, `only the final valid code reached the gateway: ${sent.join(', ')}`);
    assert.match(micropays[0]!, /unionpay…/);
    assert.deepEqual(sent.filter((x) => !x.startsWith('/pay/micropay') && !x.startsWith('/pay/queryOrder')), []);
    assert.ok(fx.sandbox.stats().total - before <= sent.length);
    const peak = Math.max(...rss);
    // Bounded: the parser keeps at most one line; the whole run must not add more than 40 MB of RSS.
    assert.ok(peak - rss[0]! < 40 * 1024, `RSS grew from ${rss[0]} kB to ${peak} kB (${rss.join(', ')})`);
    const badLogs = daemon.lines.filter((l) => l.event === 'scan-bad').length;
    assert.ok(badLogs < 100, `bad scans are logged at most once a second, got ${badLogs} lines`);
  });

  it('SIGTERM during a payment → exit 0 within the grace time; the next start recovers the order (reversed)', async () => {
    await daemon.indicator('ready');
    await write(feeder, testCode('pending-forever', 'wechat') + '\r');
    await daemon.indicator('processing');
    const order = await daemon.waitFor((l) => l.event === 'order', 'order journaled');
    // micropay answered 02: the customer is told to confirm on their phone, with the seconds left.
    await daemon.waitFor((l) => Array.isArray(l.display) && l.display[0] === 'Confirm on phone', 'display: Confirm on phone');
    await daemon.indicator('confirm-on-phone');
    const orderNo = String(order.orderNo);
    const t0 = Date.now();
    const { code, signal } = await daemon.stop('SIGTERM');
    const ms = Date.now() - t0;
    assert.equal(signal, null);
    assert.equal(code, 0);
    assert.ok(ms < 3000, `stopped in ${ms} ms (grace 3000)`);
    assert.ok(daemon.lines.some((l) => l.event === 'stopped'));
    const journal = openJournal(fx.journalPath, { readonly: true });
    try {
      const row = journal.get(orderNo);
      assert.ok(row && !row.final, `the unfinished order stays in the journal for recovery (${row?.state})`);
    } finally {
      journal.close();
    }
    // The lock is free: a new daemon starts, and its recovery finishes the order.
    const next = spawnDaemon(fx.configFile);
    try {
      await next.waitFor((l) => l.event === 'ready', 'ready');
      await next.waitFor((l) => l.orderNo === orderNo && /→ reversed/.test(String(l.msg)), `${orderNo} reversed`, 20_000);
      const ledger = fx.sandbox.ledger().orders.find((o) => o.orderNo === orderNo);
      assert.equal(ledger?.netFen, 0, 'the customer is not out of pocket');
      assert.equal((await next.stop('SIGINT')).code, 0);
    } finally {
      await next.stop('SIGKILL');
    }
  });
});

describe('kiosk daemon end to end: vend confirmation (real pty, simulated drop sensor)', function () {
  this.timeout(30_000);
  const fx = new DaemonFixture();
  const pty = new PtyPair();
  let daemon: DaemonProcess;

  before(async () => {
    await fx.start();
    await pty.start();
    // The simulated sensor sees the first vend and misses the second (a jammed spiral).
    fx.writeConfig({
      scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR', reopenMinMs: 50, reopenMaxMs: 200 },
      approve: { driver: 'sim', pulseMs: 50, confirm: { confirmWithinMs: 400, simMiss: [2] } },
    });
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
  });

  after(async () => {
    await daemon?.stop('SIGKILL');
    await pty.dispose();
    await fx.dispose();
  });

  it('a sensed vend is delivered; a missed vend is refunded with flag vend-failed and the display says so', async () => {
    const feeder = createWriteStream(pty.feeder, { flags: 'w' });
    feeder.on('error', () => {});
    try {
      await write(feeder, testCode('paid', 'unionpay', 7101) + '\r');
      const first = await daemon.indicator('success');
      assert.ok(daemon.lines.some((l) => l.event === 'vend-sensed' && l.orderNo === first.orderNo), 'the sensor saw the first vend');
      await daemon.indicator('ready', 10_000);
      await write(feeder, testCode('paid', 'unionpay', 7102) + '\r');
      const missed = await daemon.waitFor((l) => l.event === 'customer-result', 'customer result', 10_000);
      assert.equal(missed.kind, 'not-charged');
      assert.equal(missed.vend, 'failed');
      await daemon.waitFor((l) => Array.isArray(l.display) && l.display[0] === 'Vend failed', 'display: Vend failed');
      const orderNo = String(missed.orderNo);
      await daemon.waitFor((l) => l.orderNo === orderNo && /→ refunded/.test(String(l.msg)), `${orderNo} refunded`, 20_000);
      const journal = openJournal(fx.journalPath, { readonly: true });
      try {
        assert.equal(journal.get(String(first.orderNo))?.state, 'delivered');
        assert.ok(journal.events(String(first.orderNo)).some((e) => e.cause === 'vend sensed'), 'the drop is journaled');
        const row = journal.get(orderNo)!;
        assert.equal(row.state, 'refunded');
        assert.equal(row.flag, 'vend-failed');
      } finally {
        journal.close();
      }
      assert.equal(fx.sandbox.ledger().orders.find((o) => o.orderNo === orderNo)?.netFen, 0, 'the customer is not out of pocket');
    } finally {
      feeder.destroy();
    }
  });
});

const MODULES: { module: string; model?: string; make(): ModuleSim }[] = [
  // Each starts in the wrong mode with the wrong tail (GM: manual mode, TAB; Newland: continuous, no tail; Honeywell:
  // presentation mode, CRLF): the kiosk must find it, set it up and save it once.
  { module: 'gm', model: 'GM65', make: () => new GmSim({ model: 'GM65', zone: { 0x0060: 0x40 } }) },
  { module: 'newland', make: () => new NewlandSim() },
  { module: 'honeywell', make: () => new HoneywellSim() },
];

for (const m of MODULES) describe(`kiosk daemon end to end with a ${m.module} module in command-trigger mode (real pty)`, function () {
  this.timeout(30_000);
  const fx = new DaemonFixture();
  const pty = new PtyPair();
  const sim = m.make();
  let detach: () => void = () => {};
  let daemon: DaemonProcess;

  before(async () => {
    await fx.start();
    await pty.start();
    detach = pty.attach(sim);
    fx.writeConfig({ scanner: { driver: 'serial', path: pty.device, baudRate: 9600, terminator: 'CR', module: m.module, ...(m.model ? { model: m.model } : {}), trigger: 'command', readWindowMs: 1000, reopenMinMs: 50, reopenMaxMs: 200 } });
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
  });

  after(async () => {
    detach();
    await daemon?.stop('SIGKILL');
    await pty.dispose();
    await fx.dispose();
  });

  it('kiosk scanner setup asks the running daemon (it owns the port): dry run and apply, nothing left to write', async () => {
    const saves = sim.counters.saves;
    for (const flags of [['--dry-run'], []]) {
      const io = captureIo();
      const code = await scannerCli(['setup', '--json', '--config', fx.configFile, ...flags], io);
      assert.equal(code, 0, io.stderr() + io.stdout());
      const r = JSON.parse(io.stdout()) as { source: string; mode: string; matches: boolean; written: string[]; settings: { result: string }[]; identity: { family: string } };
      assert.deepEqual([r.source, r.mode, r.matches, r.written, r.identity.family], ['daemon', flags.length ? 'dry-run' : 'apply', true, [], m.module]);
      assert.ok(r.settings.length > 0 && r.settings.every((x) => x.result === 'ok' || x.result === 'refused'), JSON.stringify(r.settings));
      await daemon.waitFor((l) => l.event === 'released', 'kiosk released after the setup');
    }
    assert.equal(sim.counters.saves, saves, 'nothing to save');
  });

  it('finds the module, sets it up and saves once; triggers only while ready; a payment goes through it', async () => {
    const setup = daemon.lines.find((l) => l.scanner === 'setup');
    assert.ok(setup, 'a setup line');
    assert.ok(['mode', 'tail'].every((k) => (setup.written as string[]).includes(k)), JSON.stringify(setup.written));
    assert.equal(setup.saved, true);
    assert.ok(sim.counters.saves >= 1);
    assert.equal(sim.mode, 'command');
    // Fixed price: the kiosk is ready at rest, so the module has been triggered.
    if (sim.counters.triggers === 0) await new Promise((r) => sim.once('window', r));

    const windows: { open: boolean; at: number }[] = [];
    sim.on('window', (open: boolean) => windows.push({ open, at: Date.now() }));
    sim.present(testCode('paid', 'wechat'));
    const processing = await daemon.indicator('processing');
    void processing;
    const triggersAtProcessing = sim.counters.triggers;
    const tProcessing = Date.now();
    const success = await daemon.indicator('success');
    assert.match(String(success.orderNo), /^TEST01/);
    await daemon.indicator('ready');
    const tReady = Date.now();
    assert.ok(
      !windows.some((w) => w.open && w.at > tProcessing + 50 && w.at < tReady - 50),
      `no read window opened while processing or showing the result: ${JSON.stringify(windows)}`,
    );
    assert.ok(sim.counters.triggers >= triggersAtProcessing);
    // Ready again: the next customer's code is read.
    sim.present(testCode('paid', 'alipay'));
    await daemon.indicator('success');
  });

  it('a second start writes nothing to the module', async () => {
    await daemon.stop('SIGTERM');
    sim.powerCycle();
    const saves = sim.counters.saves;
    const writes = sim.counters.writes - (m.module === 'gm' ? sim.counters.triggers : 0);
    daemon = spawnDaemon(fx.configFile);
    await daemon.waitFor((l) => l.event === 'ready', 'ready');
    const setup = daemon.lines.find((l) => l.scanner === 'setup');
    assert.deepEqual(setup?.written, []);
    assert.equal(sim.counters.saves, saves, 'flash written at the first start only');
    assert.equal(sim.counters.writes - (m.module === 'gm' ? sim.counters.triggers : 0), writes, 'no setting written');
    const status = await controlRequest<DaemonStatus>(join(fx.dir, 'kiosk.sock'), 'status');
    const mod = (status.scanner as { module?: { profileMatch?: boolean; saves?: number; identity?: { model?: string } } }).module;
    assert.equal(mod?.profileMatch, true);
    assert.equal(mod?.saves, 1);
    assert.ok(mod?.identity?.model);
  });
});
