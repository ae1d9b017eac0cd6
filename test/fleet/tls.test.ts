// mqtts:// with client certificates against a real Mosquitto configured as docs/fleet.md says: the kiosk's
// certificate CN is its MQTT user, and the ACL is the one in the docs (read from the file, so the example
// is what is tested). Certificates from the openssl command line (Debian: openssl).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openJournal, type Journal } from '../../src/journal/journal.js';
import { Outbox } from '../../src/journal/outbox.js';
import { parseFleet } from '../../src/config/fleet.js';
import { FleetClient } from '../../src/fleet/client.js';
import { loadFleetFiles } from '../../src/fleet/files.js';
import { probeBroker } from '../../src/fleet/probe.js';
import { createLogger } from '../../src/log.js';
import { lineSink } from '../cli/flow.js';
import { freePort, Mosquitto } from './mosquitto.js';
import { Watcher } from './helpers.js';

const DOC = fileURLToPath(new URL('../../../docs/fleet.md', import.meta.url));

function openssl(dir: string, ...args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.error?.message ?? r.stderr}`);
}

/** A key and a certificate for `cn`, signed by the test CA (server: with the loopback address as SAN). */
function issue(dir: string, name: string, cn: string, server = false): void {
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
  writeFileSync(join(dir, `${name}.ext`), server ? 'subjectAltName=IP:127.0.0.1\n' : 'extendedKeyUsage=clientAuth\n');
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
  chmodSync(join(dir, `${name}.key`), 0o600);
}

/** The ACL block of docs/fleet.md, "Mosquitto ACL". */
function docAcl(): string {
  const doc = readFileSync(DOC, 'utf8');
  const section = doc.slice(doc.indexOf('## Mosquitto ACL'));
  const m = /```\n([\s\S]*?)```/.exec(section);
  assert.ok(m, 'docs/fleet.md has an ACL block');
  return m[1]!;
}

describe('fleet over mqtts:// with client certificates and the documented Mosquitto ACL', function () {
  this.timeout(20_000);
  let dir: string;
  let broker: Mosquitto;
  let journal: Journal;
  const clients: FleetClient[] = [];
  const logLines: string[] = [];

  before(async function () {
    if (spawnSync('openssl', ['version']).status !== 0) assert.fail('openssl is not installed: apt-get install openssl (.ci/run does)');
    dir = mkdtempSync(join(tmpdir(), 'fleet-tls-'));
    openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=kiosk test CA', '-days', '2');
    issue(dir, 'server', '127.0.0.1', true);
    issue(dir, 'k1', 'K-0001');
    issue(dir, 'ops', 'ops');
    writeFileSync(join(dir, 'kiosk.acl'), docAcl());
    broker = new Mosquitto(dir, await freePort(), { cafile: join(dir, 'ca.crt'), certfile: join(dir, 'server.crt'), keyfile: join(dir, 'server.key'), aclFile: join(dir, 'kiosk.acl') });
    await broker.start();
    journal = openJournal(join(dir, 'journal.db'));
  });
  after(async () => {
    for (const c of clients) await c.stop(200);
    journal?.close();
    await broker?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const kiosk = (deviceId: string): FleetClient => {
    const fleet = parseFleet({ url: broker.url, ca: join(dir, 'ca.crt'), cert: join(dir, 'k1.crt'), key: join(dir, 'k1.key'), reconnectMs: 500 }).fleet!;
    const outbox = new Outbox(journal);
    const c = new FleetClient({
      fleet,
      deviceId,
      outbox,
      host: { status: () => ({ link: 'online' }), metrics: () => ({}), commands: {} },
      log: createLogger({ level: 'info', destination: lineSink(logLines) }),
      files: loadFleetFiles(fleet),
      pollMs: 200,
    });
    clients.push(c);
    return c;
  };
  const operator = () =>
    Watcher.start(broker.url, 'kiosk/#', { protocolVersion: 5, ca: readFileSync(join(dir, 'ca.crt')), cert: readFileSync(join(dir, 'ops.crt')), key: readFileSync(join(dir, 'ops.key')) });

  it('the kiosk (certificate CN = its deviceId) publishes status and events; the operator reads them', async () => {
    const ops = await operator();
    try {
      const c = kiosk('K-0001');
      await ops.waitFor((m) => m.topic === 'kiosk/K-0001/status' && m.json.online === true, 'status over TLS');
      new Outbox(journal).append('fault', { source: 'test', n: 1 });
      c.kick();
      const ev = await ops.waitFor((m) => m.topic === 'kiosk/K-0001/events', 'event over TLS');
      assert.deepEqual(ev.json.data, { source: 'test', n: 1 });
      for (let i = 0; i < 100 && new Outbox(journal).depth().count > 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.equal(new Outbox(journal).depth().count, 0);
      await c.stop(500);
    } finally {
      await ops.close();
    }
  });

  it("a kiosk cannot write another kiosk's topics: the broker refuses, the event stays in the journal, the refusal is logged", async () => {
    const ops = await operator();
    try {
      // K-0001's certificate, configured as K-0002 (a copied config): the ACL allows only kiosk/K-0001/….
      const c = kiosk('K-0002');
      for (let i = 0; i < 200 && !c.connected; i++) await new Promise((r) => setTimeout(r, 10));
      new Outbox(journal).append('fault', { source: 'test', n: 2 });
      c.kick();
      for (let i = 0; i < 300 && !logLines.some((l) => l.includes('fleet-publish-refused')); i++) await new Promise((r) => setTimeout(r, 10));
      assert.ok(logLines.some((l) => l.includes('fleet-publish-refused') && l.includes('Not authorized')), logLines.slice(-5).join('\n'));
      assert.equal(new Outbox(journal).depth().count, 1, 'kept, not dropped');
      // Tried again at every poll (200 ms), refused each time: still kept, never counted as published, and
      // logged once a minute, not once a poll.
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(new Outbox(journal).depth().count, 1, 'still kept after several refused attempts');
      assert.equal(c.counters.published, 0);
      const refused = logLines.filter((l) => l.includes('fleet-publish-refused'));
      assert.equal(refused.length, 1, refused.join('\n'));
      const seq = new Outbox(journal).pending(0, 1)[0]!.seq;
      assert.deepEqual([JSON.parse(refused[0]!).seq, JSON.parse(refused[0]!).err.code], [seq, 135]);
      assert.match(refused[0]!, new RegExp(`the broker did not take event ${seq} \\(Publish error: Not authorized\\); kept in the journal, retried \\(check the broker's ACL for kiosk/K-0002/events\\)`));
      assert.ok(!ops.messages.some((m) => m.topic.startsWith('kiosk/K-0002/')), 'nothing reached K-0002 topics');
      await c.stop(200);
    } finally {
      await ops.close();
    }
  });

  it("kiosk doctor's probe: connected with the CA, the client certificate and its key; refused without any of them", async () => {
    const files = { ca: join(dir, 'ca.crt'), cert: join(dir, 'k1.crt'), key: join(dir, 'k1.key') };
    const ok = await probeBroker(parseFleet({ url: broker.url, ...files }).fleet!, 'K-0001', 5000);
    assert.equal(ok.ok, true, ok.detail);
    assert.match(ok.detail, /\(MQTT 5\), 0 operator key\(s\)$/);
    assert.equal((await probeBroker(parseFleet({ url: broker.url, ca: files.ca }).fleet!, 'K-0001', 5000)).ok, false, 'no client certificate');
    assert.equal((await probeBroker(parseFleet({ url: broker.url, cert: files.cert, key: files.key }).fleet!, 'K-0001', 5000)).ok, false, 'no CA: the broker is not trusted');
  });

  it('without a client certificate the broker refuses the connection', async () => {
    const fleet = parseFleet({ url: broker.url, ca: join(dir, 'ca.crt'), reconnectMs: 500 }).fleet!;
    const c = new FleetClient({ fleet, deviceId: 'K-0001', outbox: new Outbox(journal), host: { status: () => ({}), metrics: () => ({}), commands: {} }, log: createLogger({ level: 'info', destination: lineSink(logLines) }), files: loadFleetFiles(fleet) });
    clients.push(c);
    const before = logLines.length;
    for (let i = 0; i < 300 && !logLines.slice(before).some((l) => l.includes('fleet-error')); i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(c.connected, false);
    assert.ok(logLines.slice(before).some((l) => l.includes('fleet-error')));
  });
});
