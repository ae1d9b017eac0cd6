// Hostile command messages against the kiosk's fleet client over a real Mosquitto (MQTT 5: response topics):
// a signed `ts` no Date can hold is refused with a reason (it used to end the process through an unhandled
// rejection), and an unauthenticated message cannot choose where the kiosk publishes its refusal.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';
import { parseFleet } from '../../src/config/fleet.js';
import { FleetClient } from '../../src/fleet/client.js';
import { newCommand, signCommand } from '../../src/fleet/protocol.js';
import { createLogger } from '../../src/log.js';
import { lineSink } from '../cli/flow.js';
import { freePort, Mosquitto } from './mosquitto.js';
import { Watcher } from './helpers.js';

describe('fleet client: hostile commands over a real Mosquitto (MQTT 5)', function () {
  this.timeout(20_000);
  let dir: string;
  let broker: Mosquitto;
  let journal: Journal;
  let client: FleetClient;
  let all: Watcher;
  let operator: KeyObject;
  const logLines: string[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (r: unknown): void => void unhandled.push(r);

  before(async () => {
    assert.ok(await Mosquitto.available(), 'mosquitto is not installed');
    dir = mkdtempSync(join(tmpdir(), 'fleet-hostile-'));
    broker = new Mosquitto(dir, await freePort());
    await broker.start();
    journal = openJournal(join(dir, 'journal.db'));
    const kp = generateKeyPairSync('ed25519');
    operator = kp.privateKey;
    const r = parseFleet({ url: broker.url, protocolVersion: 5, reconnectMs: 500 });
    assert.deepEqual(r.issues, []);
    all = await Watcher.start(broker.url, '#', { protocolVersion: 5 });
    process.prependListener('unhandledRejection', onUnhandled);
    client = new FleetClient({
      fleet: r.fleet!,
      deviceId: 'K1',
      outbox: new Outbox(journal),
      host: { status: () => ({}), metrics: () => ({}), commands: { status: async () => ({ fine: true }) } },
      log: createLogger({ level: 'debug', destination: lineSink(logLines) }),
      files: { operatorKeys: [kp.publicKey] },
    });
    await all.waitFor((m) => m.topic === 'kiosk/K1/status' && m.json.online === true, 'online');
  });

  after(async () => {
    process.removeListener('unhandledRejection', onUnhandled);
    await client?.stop(100);
    await all?.close();
    await broker?.stop();
    journal?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const publish = (leaf: string, payload: string, responseTopic: string, correlation: string): void =>
    void all.client.publish(`kiosk/K1/cmd/${leaf}`, payload, { qos: 1, properties: { responseTopic, correlationData: Buffer.from(correlation) } });
  /** The kiosk's answer carrying `correlation` (the watcher sees the commands themselves too). */
  const answer = (correlation: string, since = 0) => all.waitFor((m) => m.correlationData?.toString() === correlation && !m.topic.startsWith('kiosk/K1/cmd/'), correlation, 5000, since);

  it('a signed command whose ts no Date can hold (8.7e15) is refused with the reason; the kiosk answers the next one', async () => {
    const body = { ...newCommand('K1', 'status'), ts: 8.7e15 };
    publish('status', JSON.stringify(signCommand(body, operator)), 'ops/r', 'huge-ts');
    const r = await answer('huge-ts');
    assert.equal(r.json.ok, false);
    assert.match(String(r.json.error), /^refused: ts 8700000000000000 is not a time/);
    publish('status', JSON.stringify(signCommand(newCommand('K1', 'status'), operator)), 'ops/r', 'next');
    const ok = await answer('next');
    assert.equal(ok.json.ok, true, ok.text);
    assert.equal(ok.topic, 'ops/r', 'a signed command is answered on its response topic');
    assert.deepEqual(unhandled, []);
  });

  it("refusals of unauthenticated messages go only to the kiosk's own reply topic, the echoed name capped", async () => {
    const since = all.messages.length;
    const longLeaf = 'x'.repeat(3000);
    publish(longLeaf, 'junk', 'kiosk/K1/events', 'junk-events');
    publish('status', JSON.stringify({ v: 1, cmd: '{}', sig: 'AAAA' }), 'kiosk/K2/status', 'junk-other');
    const forged = JSON.stringify(signCommand(newCommand('K1', 'status'), generateKeyPairSync('ed25519').privateKey));
    publish('status', forged, 'ops/r', 'forged');
    publish('status', JSON.stringify({ v: 'y'.repeat(5000), cmd: 'x', sig: 'y' }), 'ops/r', 'long-v');
    const got = await Promise.all(['junk-events', 'junk-other', 'forged', 'long-v'].map((c) => answer(c, since)));
    for (const m of got) {
      assert.equal(m.topic.slice(0, 80), 'kiosk/K1/reply', `${m.correlationData?.toString()} answered elsewhere`);
      assert.equal(m.json.ok, false);
      assert.ok(m.text.length < 800, `${m.text.length} characters`);
    }
    assert.equal(got[0]!.json.name, 'x'.repeat(64));
    assert.match(String(got[2]!.json.error), /bad signature/);
    const elsewhere = all.messages.slice(since).filter((m) => m.topic !== 'kiosk/K1/reply' && !m.topic.startsWith('kiosk/K1/cmd/') && m.topic !== 'kiosk/K1/status');
    assert.deepEqual(elsewhere.map((m) => m.topic.slice(0, 80)), []);
    assert.ok(!all.messages.slice(since).some((m) => m.topic === 'kiosk/K1/status' && m.json.ok === false), 'no refusal on the status topic');
  });
});
