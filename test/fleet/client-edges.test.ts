// The fleet client's edges (src/fleet/client.ts), against an in-process broker (aedes): the broker login, what the
// technician's log says about a broker away (once at warn, then debug) and about every failure of the journal side,
// the exact metrics payload, the cap applied at each metrics interval, an event whose data is not JSON, the
// refused-command log rate limit and the command timestamp window at their edges (fake clocks), the nonce store
// failing, a handler that throws something that is not an Error, a wall clock out of Date's range, and the outbox
// left unread while the broker is away. Over 350 lines: the edges share one broker fixture and its helpers.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';
import { FleetClient, type FleetHost, type FleetOptions } from '../../src/fleet/client.js';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { createLogger } from '../../src/log.js';
import { lineSink } from '../cli/flow.js';
import { fleetConfig, startBroker, Watcher, type Broker } from './helpers.js';

interface Line {
  level: number;
  event?: string;
  msg: string;
  [k: string]: unknown;
}

const T0 = Date.parse('2026-06-01T10:00:00.000Z');
const WARN = 40;
const DEBUG = 20;

describe('fleet client: edges (aedes, fake clocks)', function () {
  this.timeout(15000);
  let dir: string;
  let broker: Broker;
  let journal: Journal;
  let outbox: Outbox;
  let watcher: Watcher;
  let operator: KeyObject;
  let operatorPub: KeyObject;
  let clients: FleetClient[] = [];
  const raw: string[] = [];
  const lines = (event?: string): Line[] => raw.map((l) => JSON.parse(l) as Line).filter((l) => event === undefined || l.event === event);
  let host: FleetHost;
  let wall = T0;
  let mono = 0;

  const start = (over: Partial<FleetOptions> = {}, fleetOver: Record<string, unknown> = {}): FleetClient => {
    startedAt = watcher.messages.length;
    const c = new FleetClient({
      fleet: fleetConfig(broker.url, fleetOver),
      deviceId: 'K1',
      outbox,
      host,
      log: createLogger({ level: 'debug', destination: lineSink(raw) }),
      files: { operatorKeys: [operatorPub] },
      removeDelayMs: 10,
      now: () => wall,
      mono: () => mono,
      ...over,
    });
    clients.push(c);
    return c;
  };
  /** The online status of the client started last (not an earlier one's). */
  let startedAt = 0;
  const online = () => watcher.waitFor((m) => m.topic === 'kiosk/K1/status' && m.json.online === true, 'online', 5000, startedAt);
  const until = async (what: string, ok: () => boolean, ms = 5000): Promise<void> => {
    for (let i = 0; i < ms / 10 && !ok(); i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(ok(), what);
  };
  const send = async (payload: string, name = 'status'): Promise<Record<string, unknown>> => {
    const since = watcher.messages.length;
    watcher.client.publish(`kiosk/K1/cmd/${name}`, payload, { qos: 1 });
    return (await watcher.waitFor((m) => m.topic.startsWith('kiosk/K1/reply'), `reply to ${name}`, 5000, since)).json;
  };
  const signed = (name: string, ts = wall) => JSON.stringify(signCommand(newCommand('K1', name, {}, ts), operator));

  before(() => {
    const kp = generateKeyPairSync('ed25519');
    operator = kp.privateKey;
    operatorPub = kp.publicKey;
  });
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-edges-'));
    journal = openJournal(join(dir, 'journal.db'));
    outbox = new Outbox(journal);
    broker = await startBroker();
    watcher = await Watcher.start(broker.url, 'kiosk/K1/#');
    raw.length = 0;
    wall = T0;
    mono = 0;
    host = { status: () => ({ link: 'online' }), metrics: () => ({ outcomes: { delivered: 1 } }), commands: { status: async () => ({ fine: true }) } };
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) await c.stop(100);
    clients = [];
    await watcher.close();
    await broker.close();
    journal.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs in with the configured user and the password file\'s password (nothing when none is set)', async () => {
    const seen: Array<[string | undefined, string | undefined]> = [];
    broker.aedes.authenticate = (client, username, password, done) => {
      if (client.id.startsWith('kiosk-')) seen.push([username, password?.toString()]);
      done(null, true);
    };
    const c = start({ files: { operatorKeys: [operatorPub], password: Buffer.from('s3cret') } }, { username: 'kiosk-k1' });
    await online();
    await c.stop(100);
    start();
    await until('second login', () => seen.length === 2);
    assert.deepEqual(seen, [['kiosk-k1', 's3cret'], [undefined, undefined]]);
  });

  it('a broker away: one warning, then debug lines until it is back; then a warning again', async () => {
    await broker.stop();
    start();
    await until('three connection errors', () => lines('fleet-error').length >= 3, 8000);
    const errs = lines('fleet-error');
    assert.deepEqual(errs.map((l) => l.level).slice(0, 3), [WARN, DEBUG, DEBUG]);
    assert.equal(errs[0]!.msg, 'fleet connection error');
    assert.equal((errs[0]!.err as { code: string }).code, 'ECONNREFUSED');
    assert.match((errs[0]!.err as { message: string }).message, /ECONNREFUSED/);
    const off = lines('fleet-offline')[0]!;
    assert.deepEqual([off.level, off.url, off.msg], [30, broker.url, 'fleet broker unreachable; events are kept in the journal']);
    await broker.start();
    await online();
    const connected = lines('fleet-connected')[0]!;
    assert.deepEqual([connected.url, connected.msg], [broker.url, 'connected to the fleet broker']);
    const before = lines('fleet-error').length;
    await broker.stop();
    await until('an error after the reconnect', () => lines('fleet-error').length > before, 8000);
    assert.equal(lines('fleet-error')[before]!.level, WARN, 'the first error after a connection is a warning again');
  });

  it('metrics: exactly the payload (clock, memory, outbox depth, the client\'s counters, the host\'s fields); none while offline or stopped', async () => {
    const c = start();
    c.publishMetrics(); // not connected yet: nothing (not queued for later either)
    await online();
    out(outbox, 2);
    c.kick();
    await watcher.waitFor(() => watcher.events().length === 2, 'two events');
    await until('published', () => c.counters.published === 2);
    wall = T0 + 1234;
    c.publishMetrics();
    const m = await watcher.waitFor((x) => x.topic === 'kiosk/K1/metrics', 'metrics');
    assert.deepEqual(Object.keys(m.json), ['v', 'device', 'at', 'rssBytes', 'heapBytes', 'outbox', 'fleet', 'outcomes']);
    assert.deepEqual({ ...m.json, rssBytes: typeof m.json.rssBytes, heapBytes: typeof m.json.heapBytes, outbox: { ...(m.json.outbox as object), count: 'n' } }, {
      v: 1, device: 'K1', at: '2026-06-01T10:00:01.234Z', rssBytes: 'number', heapBytes: 'number', outbox: { count: 'n', oldestAt: (m.json.outbox as { oldestAt: unknown }).oldestAt, dropped: 0 },
      fleet: { published: 2, refusedCommands: 0, commands: 0, connects: 1 }, outcomes: { delivered: 1 },
    });
    assert.ok((m.json.rssBytes as number) > (m.json.heapBytes as number) && (m.json.heapBytes as number) > 0);
    assert.equal(watcher.messages.filter((x) => x.topic === 'kiosk/K1/metrics').length, 1, 'the call before the connection sent nothing');
    await c.stop(100);
    c.publishMetrics();
    c.publishStatus();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(watcher.messages.filter((x) => x.topic === 'kiosk/K1/metrics').length, 1);
  });

  it('a host whose status or metrics throw: the rest goes out, the failure is logged', async () => {
    host = {
      status: () => {
        throw new Error('no status');
      },
      metrics: () => {
        throw new Error('no metrics');
      },
      commands: {},
    };
    const c = start();
    const s = await online();
    assert.deepEqual(s.json, { v: 1, device: 'K1', online: true, at: '2026-06-01T10:00:00.000Z', startedAt: s.json.startedAt });
    c.publishMetrics();
    const m = await watcher.waitFor((x) => x.topic === 'kiosk/K1/metrics', 'metrics');
    assert.equal(m.json.outcomes, undefined);
    assert.equal(m.json.device, 'K1');
    const st = lines('fleet-status-error')[0]!;
    assert.deepEqual([st.level, st.msg, (st.err as { message: string }).message], [WARN, 'could not build the fleet status', 'no status']);
    const me = lines('fleet-metrics-error')[0]!;
    assert.deepEqual([me.level, me.msg, (me.err as { message: string }).message], [WARN, 'could not build the fleet metrics', 'no metrics']);
  });

  it('the cap is applied at start and at every metrics interval, and said; a cap that cannot be applied is said too', async () => {
    const c = start({}, { outboxMaxEvents: 100 });
    await online();
    assert.deepEqual(lines('fleet-outbox-dropped'), []);
    out(outbox, 130); // written while connected but not yet kicked: the metrics interval finds them over the cap
    c.publishMetrics();
    const d = lines('fleet-outbox-dropped')[0]!;
    assert.deepEqual([d.level, d.count, d.msg], [WARN, 31, 'fleet outbox over its cap: 31 oldest event(s) dropped unsent']);
    assert.equal(outbox.depth().dropped, 31);
    await c.stop(100);
    const broken = Object.assign(Object.create(outbox) as Outbox, {
      trim: () => {
        throw new Error('disk I/O error');
      },
    });
    start({ outbox: broken });
    const t = lines('fleet-trim-error')[0]!;
    assert.deepEqual([t.level, t.msg, (t.err as { message: string }).message], [WARN, 'could not trim the fleet outbox', 'disk I/O error']);
  });

  it('the outbox unreadable or not removable: said, and the events stay for the next try; data that is not JSON goes out as unreadable', async () => {
    let failPending = true;
    let failRemove = true;
    const flaky = Object.assign(Object.create(outbox) as Outbox, {
      pending: (after: number, limit: number) => {
        if (failPending) throw new Error('SQLITE_BUSY');
        return outbox.pending(after, limit);
      },
      remove: (seqs: number[]) => {
        if (failRemove) throw new Error('SQLITE_FULL');
        outbox.remove(seqs);
      },
    });
    journal.db.prepare(`INSERT INTO outbox (id, at, type, data) VALUES ('id-1', '2026-06-01T10:00:00.000Z', 'fault', 'not json {')`).run();
    const c = start({ outbox: flaky });
    await online();
    const p = lines('fleet-outbox-error')[0]!;
    assert.deepEqual([p.level, p.msg, (p.err as { message: string }).message], [WARN, 'could not read the fleet outbox', 'SQLITE_BUSY']);
    assert.deepEqual(watcher.events(), []);
    failPending = false;
    c.kick();
    const ev = await watcher.waitFor((m) => m.topic === 'kiosk/K1/events', 'event');
    assert.deepEqual(ev.json, { v: 1, id: 'id-1', seq: 1, device: 'K1', type: 'fault', at: '2026-06-01T10:00:00.000Z', data: { unreadable: true } });
    await until('remove tried', () => lines('fleet-outbox-error').length === 2);
    const r = lines('fleet-outbox-error')[1]!;
    assert.deepEqual([r.msg, (r.err as { message: string }).message], ['could not remove acknowledged events', 'SQLITE_FULL']);
    assert.equal(outbox.depth().count, 1, 'kept: sent again at the next start');
    failRemove = false;
  });

  it('while the broker is away the outbox is not read: the events stay in the journal, not in the MQTT client\'s memory', async () => {
    let reads = 0;
    const counted = Object.assign(Object.create(outbox) as Outbox, {
      pending: (after: number, limit: number) => {
        reads++;
        return outbox.pending(after, limit);
      },
    });
    outbox.append('fault', { n: 1 });
    const c = start({ outbox: counted, fleet: fleetConfig('mqtt://127.0.0.1:1', {}) });
    c.kick();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(c.connected, false);
    assert.equal(reads, 0);
  });

  it('a subscription the broker refuses is said', async () => {
    broker.aedes.authorizeSubscribe = (client, sub, done) => done(null, client?.id.startsWith('kiosk-') ? null : sub);
    start();
    await online();
    await until('subscribe failure logged', () => lines('fleet-subscribe-failed').length === 1);
    const l = lines('fleet-subscribe-failed')[0]!;
    assert.deepEqual([l.level, l.msg, (l.err as { message: string }).message], [WARN, 'could not subscribe to commands', 'Subscribe error: Unspecified error']);
  });

  describe('commands', () => {
    it('refusals are logged at most once a second (monotonic), the rest counted and said with the next line', async () => {
      const c = start();
      await online();
      const name = `x${'n'.repeat(59)}`;
      await send('garbage', name);
      mono = 999;
      await send('garbage', name);
      assert.equal(lines('fleet-command-refused').length, 1);
      mono = 1000;
      await send('garbage', name);
      mono = 1500;
      await send('garbage', name);
      mono = 1999;
      await send('garbage', name);
      mono = 2000;
      await send('garbage', name);
      const ls = lines('fleet-command-refused');
      assert.deepEqual(ls.map((l) => l.suppressed), [0, 1, 2]);
      assert.equal(ls[0]!.name, name.slice(0, 40));
      assert.equal(ls[0]!.level, WARN);
      assert.match(ls[0]!.msg, /^remote command refused: not JSON/);
      assert.equal(ls[0]!.reason, ls[0]!.msg.slice('remote command refused: '.length));
      assert.equal(c.counters.refusedCommands, 6);
    });

    it('the timestamp window: its edges are inside; beyond, the reply says how far, which way and the window', async () => {
      const c = start({}, { commandWindowS: 300 });
      await online();
      assert.equal((await send(signed('status', wall - 300_000))).ok, true, 'exactly the window old');
      assert.equal((await send(signed('status', wall + 300_000))).ok, true, 'exactly the window ahead');
      const old = await send(signed('status', wall - 301_600));
      assert.equal(old.error, `refused: timestamp ${new Date(wall - 301_600).toISOString()} is 302 s old (window ±300 s; check both clocks)`);
      const ahead = await send(signed('status', wall + 300_001));
      assert.equal(ahead.error, `refused: timestamp ${new Date(wall + 300_001).toISOString()} is 300 s in the future (window ±300 s; check both clocks)`);
      assert.deepEqual([c.counters.commands, c.counters.refusedCommands], [2, 2]);
    });

    it('an answer that cannot be sent (a result JSON cannot hold) is logged and said as a failure inside the kiosk', async () => {
      host.commands.status = async () => ({ n: 1n });
      start();
      await online();
      const r = await send(signed('status'), 'status');
      assert.deepEqual(r, { v: 1, device: 'K1', name: 'status', nonce: null, at: '2026-06-01T10:00:00.000Z', ok: false, error: 'failed inside the kiosk (see its log)' });
      const l = lines('fleet-command-error')[0]!;
      assert.deepEqual([l.level, l.name, l.msg], [50, 'status', 'remote command failed inside the kiosk']);
    });

    it('a wall clock out of Date\'s range is said as "invalid time" in a reply, the metrics and the status, never thrown', async () => {
      const c = start();
      await online();
      wall = 8.7e15;
      const r = await send('junk');
      assert.deepEqual([r.at, r.error], ['invalid time', 'refused: not JSON']);
      c.publishMetrics();
      const m = await watcher.waitFor((x) => x.topic === 'kiosk/K1/metrics', 'metrics');
      assert.equal(m.json.at, 'invalid time');
      const since = watcher.messages.length;
      await c.stop(1000);
      const st = await watcher.waitFor((x) => x.topic === 'kiosk/K1/status' && x.json.reason === 'stopped', 'stopped status', 5000, since);
      assert.equal(st.json.at, 'invalid time');
    });

    it('a refusal repeats at most 300 characters of its reason', async () => {
      start();
      await online();
      const device = 'D'.repeat(400);
      const r = await send(JSON.stringify(signCommand(newCommand(device, 'status', {}, wall), operator)));
      assert.equal(r.error, `refused: signed for device "${device}", this is K1`.slice(0, 'refused: '.length + 300));
    });

    it('a command older than a newer accepted one by more than twice the window (the kiosk clock stepped back) is refused', async () => {
      start({}, { commandWindowS: 10 });
      await online();
      assert.equal((await send(signed('status', wall + 10_000))).ok, true);
      wall -= 30_000;
      const r = await send(signed('status', wall + 9_000));
      assert.equal(r.error, 'refused: older than a newer accepted command by more than twice the window');
    });

    it('the nonce store failing refuses the command with the reason; a handler throwing a non-Error is answered with its text', async () => {
      const broken = Object.assign(Object.create(outbox) as Outbox, {
        acceptNonce: () => {
          throw new Error('database is locked');
        },
      });
      const c = start({ outbox: broken });
      await online();
      assert.equal((await send(signed('status'))).error, 'refused: nonce store unavailable: database is locked');
      await c.stop(100);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- under test: not an Error
      host.commands.status = () => Promise.reject(null);
      start();
      await online();
      const r = await send(signed('status'));
      assert.deepEqual([r.ok, r.error, r.at], [false, 'null', '2026-06-01T10:00:00.000Z']);
    });
  });
});

/** n fault events in the outbox. */
function out(o: Outbox, n: number): void {
  for (let i = 0; i < n; i++) o.append('fault', { n: i }, '2026-06-01T10:00:00.000Z');
}
