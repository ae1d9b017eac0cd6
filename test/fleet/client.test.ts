import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal, type NewOrder, type OrderState } from '../../src/journal/journal.js';
import { kindOf } from '../../src/journal/states.js';
import { Outbox } from '../../src/journal/outbox.js';
import { FleetClient, type FleetHost } from '../../src/fleet/client.js';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { createLogger } from '../../src/log.js';
import { lineSink } from '../cli/flow.js';
import { fleetConfig, startBroker, Watcher, type Broker } from './helpers.js';

const CODE = '134567890123456789';

function order(i: number): NewOrder {
  const at = new Date().toISOString();
  return {
    deviceId: 'K1', date: '20260601', orderTime: '20260601100000', txnAmt: String(100 + i), orderType: 'wechat', authCode: `${CODE.slice(0, 14)}${String(i).padStart(4, '0')}`,
    authMask: 'wechat…', goodsId: 'G1', goodsInfo: 'drink', acqSpId: 'Y471790403', acqMerId: '41509208', scannedAt: Date.now(), at,
  };
}

describe('fleet client against an in-process broker (aedes, MQTT 3.1.1)', function () {
  this.timeout(15000);
  let dir: string;
  let broker: Broker;
  let journal: Journal;
  let outbox: Outbox;
  let watcher: Watcher;
  let operator: KeyObject;
  let operatorPub: KeyObject;
  const clients: FleetClient[] = [];
  const logLines: string[] = [];
  const calls: string[] = [];
  const host: FleetHost = {
    status: () => ({ link: 'online', attention: 0, today: { day: '2026-06-01', count: 1, amountFen: 150 } }),
    metrics: () => ({ outcomes: { delivered: 1 } }),
    commands: {
      status: async () => ({ fine: true }),
      reconcile: async (args) => {
        calls.push(`reconcile ${JSON.stringify(args)}`);
        return { started: 0, remaining: 0 };
      },
      report: async (args) => {
        calls.push(`report ${JSON.stringify(args)}`);
        return { rows: [] };
      },
    },
  };

  const start = (over: Partial<ConstructorParameters<typeof FleetClient>[0]> = {}, fleetOver: Record<string, unknown> = {}): FleetClient => {
    const c = new FleetClient({
      fleet: fleetConfig(broker.url, fleetOver),
      deviceId: 'K1',
      outbox,
      host,
      log: createLogger({ level: 'debug', destination: lineSink(logLines) }),
      files: { operatorKeys: [operatorPub] },
      removeDelayMs: 10,
      ...over,
    });
    clients.push(c);
    return c;
  };
  const finishOrder = (i: number, to: 'delivered' | 'failed' = 'failed'): string => {
    const o = journal.createOrder(order(i));
    const path: ReadonlyArray<readonly [OrderState, OrderState]> = to === 'delivered' ? [['created', 'paid'], ['paid', 'delivering'], ['delivering', 'delivered']] : [['created', 'failed']];
    journal.transition(o.orderNo, path.map(([from, next]) => ({ from, to: next, event: { kind: kindOf(from, next), cause: 'test' } })), new Date().toISOString());
    return o.orderNo;
  };
  const waitEmpty = async (): Promise<void> => {
    for (let i = 0; i < 200 && outbox.depth().count > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(outbox.depth().count, 0, 'the outbox empties once the broker acknowledged');
  };

  before(() => {
    const kp = generateKeyPairSync('ed25519');
    operator = kp.privateKey;
    operatorPub = kp.publicKey;
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-'));
    journal = openJournal(join(dir, 'journal.db'));
    outbox = new Outbox(journal);
    outbox.captureOrderEvents();
    broker = await startBroker();
    watcher = await Watcher.start(broker.url, 'kiosk/K1/#');
    logLines.length = 0;
    calls.length = 0;
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop(100);
    await watcher.close();
    await broker.close();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('retained status online on connect; the Last Will says offline when the connection is lost', async () => {
    const c = start();
    const online = await watcher.waitFor((m) => m.topic === 'kiosk/K1/status' && m.json.online === true, 'status online');
    assert.equal(online.json.v, 1);
    assert.equal(online.json.link, 'online');
    assert.deepEqual(online.json.today, { day: '2026-06-01', count: 1, amountFen: 150 });
    // A later subscriber gets it too (retained).
    const late = await Watcher.start(broker.url, 'kiosk/+/status');
    const retained = await late.waitFor((m) => m.json.online === true, 'retained status');
    assert.equal(retained.retain, true);
    // The process "dies": the socket goes without a DISCONNECT.
    (c as unknown as { client: { stream: { destroy(): void } } }).client.stream.destroy();
    await c.stop(0);
    const will = await late.waitFor((m) => m.json.online === false, 'last will');
    assert.equal(will.json.reason, 'lost');
    await late.close();
  });

  it('a stop against a broker that stopped answering is bounded, and closes the connection', async () => {
    const { createServer } = await import('node:net');
    let closed = false;
    // Accepts the CONNECT (MQTT 3.1.1 CONNACK, accepted), then reads everything, answers nothing, never closes its end.
    const mute = createServer({ allowHalfOpen: true }, (s) => {
      s.once('data', () => s.write(Buffer.from([0x20, 2, 0, 0])));
      s.on('end', () => (closed = true));
    });
    await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
    try {
      const c = start({ fleet: fleetConfig(`mqtt://127.0.0.1:${(mute.address() as { port: number }).port}`) });
      for (let i = 0; i < 200 && !c.connected; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(c.connected, true);
      // Its status (QoS 1) is never acknowledged: the DISCONNECT waits for it, so only the bound ends the stop.
      await c.stop(100);
      for (let i = 0; i < 200 && !closed; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(closed, true, 'the kiosk closed its side of the connection');
    } finally {
      mute.close();
    }
  });

  it('a clean stop publishes offline (stopped), retained', async () => {
    const c = start();
    await watcher.waitFor((m) => m.json.online === true, 'online');
    await c.stop(1000);
    const off = await watcher.waitFor((m) => m.topic === 'kiosk/K1/status' && m.json.online === false, 'offline');
    assert.equal(off.json.reason, 'stopped');
  });

  it('publishes outbox events in order, QoS 1, with ids; removes them once acknowledged; no payment code', async () => {
    start();
    await watcher.waitFor((m) => m.json.online === true, 'online');
    const orderNos: string[] = [];
    for (let i = 0; i < 40; i++) orderNos.push(finishOrder(i, i % 3 ? 'failed' : 'delivered'));
    clients[0]!.kick();
    await watcher.waitFor((m) => m.topic.endsWith('/events') && (m.json.data as { orderNo?: string })?.orderNo === orderNos[39], 'last event');
    const evs = watcher.events();
    assert.deepEqual(evs.map((e) => (e.data as { orderNo: string }).orderNo), orderNos);
    assert.deepEqual(evs.map((e) => e.seq), [...evs.map((e) => e.seq as number)].sort((a, b) => a - b));
    assert.equal(new Set(evs.map((e) => e.id)).size, 40);
    assert.equal(evs[0]!.v, 1);
    assert.equal(evs[0]!.device, 'K1');
    assert.equal((evs[1]!.data as { amountFen: number }).amountFen, 101);
    await waitEmpty();
    for (const m of watcher.messages) assert.ok(!m.text.includes(CODE.slice(0, 8)), m.text);
  });

  it('broker away: events are kept in the journal and flushed in order when it returns, none lost or repeated', async () => {
    const c = start();
    await watcher.waitFor((m) => m.json.online === true, 'online');
    finishOrder(0);
    c.kick();
    await watcher.waitFor((m) => m.topic.endsWith('/events'), 'first event');
    await waitEmpty();
    await broker.stop();
    for (let i = 1; i <= 10; i++) finishOrder(i);
    c.kick();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(outbox.depth().count, 10, 'kept while the broker is away');
    await broker.start();
    await watcher.waitFor((m) => m.topic.endsWith('/events') && (m.json.data as { amountFen: number }).amountFen === 110, 'flushed', 8000);
    const evs = watcher.events();
    assert.deepEqual(evs.map((e) => (e.data as { amountFen: number }).amountFen), [100, 101, 102, 103, 104, 105, 106, 107, 108, 109, 110]);
    assert.equal(new Set(evs.map((e) => e.id)).size, evs.length);
    await waitEmpty();
  });

  it('events written while no client runs (a restart) go out at the next start, oldest first', async () => {
    finishOrder(1);
    outbox.append('fault', { source: 'scanner', state: 'fault' });
    finishOrder(2);
    start();
    await watcher.waitFor((m) => (m.json.data as { amountFen?: number })?.amountFen === 102, 'third event');
    assert.deepEqual(watcher.events().map((e) => e.type), ['order', 'fault', 'order']);
  });

  it('days offline are bounded: over the cap the oldest are dropped, counted, and a dropped event says so', async () => {
    for (let i = 0; i < 130; i++) outbox.append('fault', { n: i });
    // The cap is applied when the client starts and at every metrics interval.
    start({}, { outboxMaxEvents: 100 });
    await watcher.waitFor((m) => m.topic.endsWith('/events') && m.json.type === 'dropped', 'dropped event');
    const evs = watcher.events();
    assert.equal((evs[0]!.data as { n: number }).n, 31, 'the oldest 31 were dropped');
    assert.deepEqual(evs[99]!.data, { count: 31, total: 31, maxEvents: 100, maxAgeMs: 30 * 86_400_000 });
    assert.equal(evs.length, 100);
    assert.equal(outbox.depth().dropped, 31);
  });

  it('issue 21 §13: a wall clock stepped a month ahead does not make unsent events "over the cap"', async () => {
    for (let i = 0; i < 3; i++) outbox.append('fault', { n: i });
    start({ now: () => Date.now() + 31 * 86_400_000 });
    await watcher.waitFor(() => watcher.events().length >= 3, 'the three events');
    assert.deepEqual(watcher.events().map((e) => e.type), ['fault', 'fault', 'fault']);
    assert.equal(outbox.depth().dropped, 0);
    assert.ok(!logLines.some((l) => l.includes('fleet-outbox-dropped')));
  });

  describe('remote commands', () => {
    const send = async (payload: string | Buffer, name = 'status'): Promise<Record<string, unknown>> => {
      const since = watcher.messages.length;
      watcher.client.publish(`kiosk/K1/cmd/${name}`, payload, { qos: 1 });
      return (await watcher.waitFor((m) => m.topic.startsWith('kiosk/K1/reply'), `reply to ${name}`, 5000, since)).json;
    };
    const signed = (name: string, over: Partial<ReturnType<typeof newCommand>> = {}, key = operator) =>
      JSON.stringify(signCommand({ ...newCommand('K1', name, {}, Date.now(), 'kiosk/K1/reply/op1'), ...over }, key));

    it('a signed command is answered on its reply topic; the same message again is refused as a replay', async () => {
      const c = start();
      await watcher.waitFor((m) => m.json.online === true, 'online');
      const msg = signed('status');
      const ok = await send(msg);
      assert.equal(ok.ok, true, JSON.stringify(ok));
      assert.deepEqual(ok.result, { fine: true });
      const again = await send(msg);
      assert.equal(again.ok, false);
      assert.match(String(again.error), /replayed/);
      assert.equal(c.counters.refusedCommands, 1);
      assert.ok(logLines.some((l) => l.includes('fleet-command-refused') && l.includes('replayed')));
    });

    it('refuses a bad signature, another key, another device, another command name, an old or future timestamp, garbage', async () => {
      const c = start();
      await watcher.waitFor((m) => m.json.online === true, 'online');
      const other = generateKeyPairSync('ed25519').privateKey;
      const env = JSON.parse(signed('status')) as { cmd: string; sig: string };
      const tampered = JSON.stringify({ ...env, cmd: env.cmd.replace('"status"', '"reconcile"') });
      const cases: Array<[string | Buffer, string, RegExp]> = [
        [signed('status', {}, other), 'status', /bad signature/],
        [tampered, 'reconcile', /bad signature/],
        [signed('status', { device: 'K2' }), 'status', /device "K2"/],
        [signed('status'), 'reconcile', /signed as "status"/],
        [signed('status', { ts: Date.now() - 10 * 60_000 }), 'status', /old/],
        [signed('status', { ts: Date.now() + 10 * 60_000 }), 'status', /future/],
        ['{"v":1,"cmd":"x"', 'status', /not JSON/],
        [Buffer.alloc(20_000, 0x41), 'status', /bytes/],
      ];
      for (const [payload, name, why] of cases) {
        const r = await send(payload, name);
        assert.equal(r.ok, false, `${name}: ${JSON.stringify(r)}`);
        assert.match(String(r.error), why);
      }
      assert.equal(c.counters.refusedCommands, cases.length);
      assert.deepEqual(calls, [], 'reconcile never ran');
    });

    it('an unknown command name is answered "not supported"; a handler error is an answer, not a crash', async () => {
      start();
      await watcher.waitFor((m) => m.json.online === true, 'online');
      const r = await send(signed('scanner-setup'), 'scanner-setup');
      assert.equal(r.ok, false);
      assert.match(String(r.error), /not supported/);
      const r2 = await send(signed('reconcile'), 'reconcile');
      assert.equal(r2.ok, true);
      assert.deepEqual(calls, ['reconcile {}']);
    });

    it('an argument the command does not take is refused by name, and the command does not run', async () => {
      start();
      await watcher.waitFor((m) => m.json.online === true, 'online');
      const r = await send(signed('reconcile', { args: { why: 'test' } }), 'reconcile');
      assert.equal(r.ok, false);
      assert.equal(r.error, 'unknown argument "why": reconcile takes no arguments');
      const r2 = await send(signed('report', { args: { day: '2026-12-01', days: 3 } }), 'report');
      assert.equal(r2.ok, false);
      assert.equal(r2.error, 'unknown argument "days": report takes only day');
      assert.deepEqual(calls, [], 'neither ran');
      const r3 = await send(signed('report', { args: { day: '2026-12-01' } }), 'report');
      assert.equal(r3.ok, true, JSON.stringify(r3));
      assert.deepEqual(calls, ['report {"day":"2026-12-01"}']);
    });

    it('without operator keys every command is refused', async () => {
      start({ files: { operatorKeys: [] } });
      await watcher.waitFor((m) => m.json.online === true, 'online');
      const r = await send(signed('status'));
      assert.match(String(r.error), /no operator keys/);
    });
  });

  it('metrics go out on their interval with the outbox depth and counters', async () => {
    start({}, { metricsIntervalMs: 10_000 });
    await watcher.waitFor((m) => m.json.online === true, 'online');
    clients[0]!.publishMetrics();
    const m = await watcher.waitFor((x) => x.topic === 'kiosk/K1/metrics', 'metrics');
    assert.deepEqual(m.json.outcomes, { delivered: 1 });
    assert.equal(typeof m.json.rssBytes, 'number');
    assert.deepEqual(m.json.outbox, { count: 0, oldestAt: null, dropped: 0 });
  });
});



