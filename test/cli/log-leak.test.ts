// "No payment code in the logs, ever": a whole realistic run — the daemon with scripted customers
// (kiosk demo --auto), the engine against the sandbox with refunds and reversals, and the technician's
// commands over the result — with EVERY log line and command output captured, then searched for every
// payment code used: the full code or any 8+ digit piece of it is a failure. The fleet channel (every
// MQTT message the demo kiosk publishes: status, events, metrics, command answers) is searched too.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createLogger } from '../../src/log.js';
import { runCustomers, startDemo } from '../../src/kiosk/demo.js';
import { captureIo } from '../../src/cli/tech/format.js';
import { run as status } from '../../src/cli/status.js';
import { run as report } from '../../src/cli/report.js';
import { run as exportCmd } from '../../src/cli/export.js';
import { run as settle } from '../../src/cli/settle.js';
import { run as logs, maskLine } from '../../src/cli/logs.js';
import { settlementCsv } from '../../src/sandbox/index.js';
import { lineSink, startFlow } from './flow.js';
import { generateKeyPairSync } from 'node:crypto';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { startBroker, Watcher } from '../fleet/helpers.js';

/** Every 8-digit window of every code, and the codes themselves. */
function needles(codes: readonly string[]): string[] {
  const out = new Set<string>();
  for (const c of codes) {
    out.add(c);
    for (let i = 0; i + 8 <= c.length; i++) out.add(c.slice(i, i + 8));
  }
  return [...out];
}

/** The leaks: [needle, the line it is in]. Any hit fails, wherever it sits in the line. */
function leaks(corpus: readonly string[], codes: readonly string[]): Array<[string, string]> {
  const hits: Array<[string, string]> = [];
  const ns = needles(codes);
  for (const line of corpus) for (const n of ns) if (line.includes(n)) hits.push([n, line.slice(0, 300)]);
  return hits;
}

describe('logs never hold a payment code (whole run)', function () {
  this.timeout(20000);
  const corpus: string[] = [];
  const fleetMessages: string[] = [];
  const codes: string[] = [];
  let dir: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-leak-'));
    // 1. The daemon as `kiosk demo --auto 7` runs it: every sandbox behaviour once, all three wallets, trace level.
    // The fleet channel too: an in-process broker, a watcher keeping every message, signed commands.
    const broker = await startBroker();
    const watcher = await Watcher.start(broker.url, '#');
    const operator = generateKeyPairSync('ed25519');
    writeFileSync(join(dir, 'operator.pub.pem'), operator.publicKey.export({ type: 'spki', format: 'pem' }));
    const demo = await startDemo({
      dataDir: join(dir, 'demo'),
      pricing: 'fixed',
      fast: true,
      log: createLogger({ level: 'trace', destination: lineSink(corpus) }),
      fleet: { url: broker.url, protocolVersion: 4, operatorKeys: join(dir, 'operator.pub.pem') },
    });
    const scan = demo.scan.bind(demo);
    demo.scan = (line: string) => {
      codes.push(line);
      scan(line);
    };
    try {
      const rows = await runCustomers(demo, 7);
      assert.ok(rows.every((r) => r.ok), JSON.stringify(rows));
      await demo.daemon.engine.whenIdle();
      demo.daemon.fleet!.publishMetrics();
      for (const name of ['status', 'report', 'selftest', 'reconcile']) {
        const since = watcher.messages.length;
        watcher.client.publish(`kiosk/DEMO01/cmd/${name}`, JSON.stringify(signCommand(newCommand('DEMO01', name, {}, Date.now(), 'ops/reply'), operator.privateKey)), { qos: 1 });
        await watcher.waitFor((m) => m.topic === 'ops/reply' && m.json.name === name, `reply to ${name}`, 10_000, since);
      }
      await watcher.waitFor(() => watcher.events().filter((e) => e.type === 'order').length >= 7, 'the order events', 10_000);
      await watcher.waitFor((m) => m.topic.endsWith('/metrics'), 'metrics');
    } finally {
      await demo.close();
      await watcher.close();
      await broker.close();
    }
    fleetMessages.push(...watcher.messages.map((m) => `${m.topic} ${m.text}`));
    corpus.push(...fleetMessages);

    // 2. The engine with a failed delivery (reversal of a paid order), over HTTP, gateway and sandbox logging.
    const flow = await startFlow({ log: createLogger({ level: 'trace', destination: lineSink(corpus) }), sandboxLog: createLogger({ level: 'trace', destination: lineSink(corpus) }) });
    try {
      await flow.pay('paid', { orderType: 'alipay' });
      await flow.pay('paid', { deliverFails: true, orderType: 'unionpay' });
      await flow.pay('answer-lost');
      await flow.pay('pending-forever');
      await flow.engine.whenIdle();
      codes.push(...flow.codes);
      // 3. The technician's commands over the result: their output is log-like text an operator pastes.
      const day = new Date();
      const ymd = `${day.getFullYear()}${String(day.getMonth() + 1).padStart(2, '0')}${String(day.getDate()).padStart(2, '0')}`;
      const dash = `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6)}`;
      const csv = join(flow.kiosk.dir, `Y471790403_${ymd}.csv`);
      writeFileSync(csv, settlementCsv(flow.sandbox.ledger(), ymd));
      for (const [cmd, argv] of [
        [status, ['--json']],
        [status, []],
        [report, ['--day', dash]],
        [exportCmd, ['--from', dash, '--to', dash, '--csv']],
        [settle, [csv, '--all']],
      ] as const) {
        const io = flow.kiosk.io();
        await (cmd as (a: readonly string[], io: ReturnType<typeof captureIo>) => Promise<number>)(argv, io);
        corpus.push(...io.stdout().split('\n'), ...io.stderr().split('\n'));
      }
    } finally {
      await flow.close();
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('captured a real run: many log lines, every behaviour, codes of all three wallets', () => {
    assert.ok(corpus.length > 100, `${corpus.length} lines`);
    assert.ok(codes.length >= 11);
    for (const prefix of ['13', '28', '62']) assert.ok(codes.some((c) => c.startsWith(prefix)), prefix);
    assert.ok(corpus.some((l) => l.includes('"orderNo"')), 'log lines name their orders');
  });

  it('captured the fleet channel: status, every order event, metrics and command answers', () => {
    assert.ok(fleetMessages.some((m) => m.startsWith('kiosk/DEMO01/status ')));
    assert.ok(fleetMessages.filter((m) => m.startsWith('kiosk/DEMO01/events ') && m.includes('"type":"order"')).length >= 7);
    assert.ok(fleetMessages.some((m) => m.startsWith('kiosk/DEMO01/metrics ')));
    assert.ok(fleetMessages.filter((m) => m.startsWith('ops/reply ') && m.includes('"ok":true')).length >= 4);
  });

  it('finds no payment code, nor any 8-digit piece of one, in any line', () => {
    const hits = leaks(corpus, codes);
    assert.deepEqual(hits, [], `payment code material in the logs:\n${hits.slice(0, 5).map(([n, l]) => `${n} in ${l}`).join('\n')}`);
  });

  it('the search itself catches a leak (control), and kiosk logs masks one that slipped into a log file', async () => {
    const code = codes[0]!;
    const leaked = [
      JSON.stringify({ level: 30, time: '2026-11-26T10:00:00.000Z', msg: `scanned ${code}`, authCode: code, nested: { code } }),
      `plain text line with ${code} in it`,
    ];
    assert.equal(leaks(leaked, [code]).length > 0, true, 'the detector finds a planted code');
    const io = captureIo();
    assert.equal(await logs(['--file', '-'], io, { stdin: Readable.from(leaked.map((l) => l + '\n')) }), 0);
    assert.deepEqual(leaks(io.stdout().split('\n'), [code]), []);
    assert.match(io.stdout(), new RegExp(`scanned \\w+…${code.slice(-4)}`));
    assert.match(maskLine(leaked[1]!).text, new RegExp(`with \\w+…${code.slice(-4)} in it`));
    // The whole run's log through kiosk logs --json: still clean, still every line.
    const all = captureIo();
    await logs(['--file', '-', '--json'], all, { stdin: Readable.from(corpus.map((l) => l + '\n')) });
    assert.deepEqual(leaks(all.stdout().split('\n'), codes), []);
  });
});
