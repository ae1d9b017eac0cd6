// The files a fleet section names (src/fleet/files.ts) and kiosk doctor's broker probe (src/fleet/probe.ts),
// in-process: every refusal with the file and the exact problem, never the contents; the probe against aedes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFleet, type FleetConfig } from '../../src/config/fleet.js';
import { checkFleetFiles, FleetFileError, loadFleetFiles, loadOperatorPrivateKey, parseOperatorKeys } from '../../src/fleet/files.js';
import { probeBroker } from '../../src/fleet/probe.js';
import { operatorKeyPair } from '../../src/fleet/protocol.js';
import { startBroker } from './helpers.js';
import { unprivileged } from '../unprivileged.js';

describe('fleet/files: the files a fleet section names', () => {
  let dir: string;
  let cert: string;
  let certKey: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-files-'));
    const r = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'c.key', '-out', 'c.crt', '-subj', '/CN=K1', '-days', '2'], { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) assert.fail(`openssl: ${r.error?.message ?? r.stderr} (apt-get install openssl)`);
    cert = join(dir, 'c.crt');
    certKey = join(dir, 'c.key');
    chmodSync(certKey, 0o600);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const file = (name: string, content: string | Buffer, mode = 0o644): string => {
    const p = join(dir, name);
    writeFileSync(p, content);
    chmodSync(p, mode);
    return p;
  };
  const fleet = (over: Record<string, unknown>): FleetConfig => {
    const r = parseFleet({ url: 'mqtts://127.0.0.1:1', ...over });
    assert.deepEqual(r.issues, []);
    return r.fleet!;
  };
  const problem = (over: Record<string, unknown>) => checkFleetFiles(fleet(over));

  it('reads every file it names: CA, certificate, key, password (without the editor\'s newline), operator keys', () => {
    const { publicPem } = operatorKeyPair();
    const second = operatorKeyPair().publicPem;
    const f = loadFleetFiles(fleet({ ca: cert, cert, key: certKey, username: 'k1', passwordFile: file('pw', 'secret\r\n', 0o600), operatorKeys: file('ops.pem', `${publicPem}\n# the second operator\n${second}`) }));
    assert.ok(f.ca?.toString().startsWith('-----BEGIN CERTIFICATE-----'));
    assert.deepEqual(f.cert, f.ca);
    assert.ok(f.key?.toString().includes('PRIVATE KEY'));
    assert.equal(f.password?.toString(), 'secret');
    assert.equal(f.operatorKeys.length, 2);
    assert.equal(loadFleetFiles(fleet({ username: 'k1', passwordFile: file('pw2', 'a\nb\n', 0o600) })).password?.toString(), 'a\nb', 'only the last newline goes');
    assert.deepEqual(loadFleetFiles(fleet({})), { operatorKeys: [] });
    assert.deepEqual(problem({ ca: cert }), []);
  });

  it('names the field, the file and the problem, never the contents', () => {
    const garbage = file('garbage', 'top secret text', 0o600);
    mkdirSync(join(dir, 'folder'), { recursive: true });
    const cases: Array<[Record<string, unknown>, string, string]> = [
      [{ ca: join(dir, 'missing.crt') }, 'fleet.ca', 'no such file'],
      [{ ca: join(dir, 'folder') }, 'fleet.ca', 'not a regular file'],
      [{ ca: garbage }, 'fleet.ca', 'not a PEM certificate'],
      [{ key: certKey, cert: garbage }, 'fleet.cert', 'not a PEM certificate'],
      [{ cert, key: garbage }, 'fleet.key', 'not a PEM private key'],
      [{ cert, key: file('open.key', 'x', 0o640) }, 'fleet.key', `readable by group or others (mode 0640); run: chmod 600 ${join(dir, 'open.key')}`],
      [{ cert, key: file('world.key', 'x', 0o604) }, 'fleet.key', `readable by group or others (mode 0604); run: chmod 600 ${join(dir, 'world.key')}`],
      [{ username: 'k1', passwordFile: file('pw-open', 'pw', 0o644) }, 'fleet.passwordFile', `readable by group or others (mode 0644); run: chmod 600 ${join(dir, 'pw-open')}`],
      [{ username: 'k1', passwordFile: file('pw-empty', '\n', 0o600) }, 'fleet.passwordFile', 'is empty'],
      [{ operatorKeys: file('big.pem', Buffer.alloc((1 << 20) + 1, 0x41)) }, 'fleet.operatorKeys', `${(1 << 20) + 1} bytes: too big for a key or certificate`],
    ];
    for (const [over, field, why] of cases) {
      const value = Object.values(over).at(-1) as string;
      assert.deepEqual(problem(over), [{ field, value, problem: why }], JSON.stringify(over));
    }
    assert.deepEqual(problem({ operatorKeys: file('ok-size.pem', Buffer.alloc(1 << 20, 0x41)) })[0]!.problem.slice(0, 18), 'no PEM block found', 'exactly 1 MiB is read');
    assert.deepEqual(problem({ ca: cert, key: certKey, cert: garbage }), [{ field: 'fleet.cert', value: garbage, problem: 'not a PEM certificate' }], 'the first bad file after the good ones');
    assert.throws(() => loadFleetFiles(fleet({ ca: garbage })), (e: unknown) => e instanceof FleetFileError && e.code === 'E_FLEET_FILE' && e.message === `${garbage}: not a PEM certificate` && e.name === 'FleetFileError');
  });

  it('any other error of the file system is said as the system says it (a path through a file, a file that cannot be read)', () => {
    const plain = file('plain', 'x', 0o600);
    const [through] = problem({ ca: join(plain, 'ca.crt') });
    assert.deepEqual([through!.field, through!.value], ['fleet.ca', join(plain, 'ca.crt')]);
    assert.match(through!.problem, /^ENOTDIR: not a directory, stat /);
    // A regular file whose read fails (the kernel's memory file of this process: EIO).
    const [unreadable] = problem({ operatorKeys: '/proc/self/mem' });
    assert.match(unreadable!.problem, /^EIO: i\/o error, read$/);
  });

  it('a file that is there but the daemon may not read: said, with the likely cause', () => {
    const locked = file('locked.pem', 'x', 0o000);
    chmodSync(dir, 0o711);
    try {
      const [p] = unprivileged(() => problem({ operatorKeys: locked }));
      assert.deepEqual(p, { field: 'fleet.operatorKeys', value: locked, problem: 'permission denied (is the daemon running as the kiosk user?)' });
    } finally {
      chmodSync(dir, 0o700);
    }
    const sealed = join(dir, 'sealed');
    mkdirSync(sealed);
    const inside = file('sealed/ops.pem', 'x', 0o600);
    chmodSync(sealed, 0o000);
    try {
      const [hidden] = unprivileged(() => problem({ operatorKeys: inside }));
      assert.match(hidden!.problem, /^EACCES: permission denied, stat /, 'a folder it cannot search: what stat said');
    } finally {
      chmodSync(sealed, 0o700);
    }
  });

  it('only file problems are reported as problems: anything else is thrown', () => {
    const config = fleet({});
    Object.defineProperty(config, 'ca', { get: () => {
      throw new TypeError('not a file problem');
    } });
    assert.throws(() => checkFleetFiles(config), /not a file problem/);
  });

  it('operator keys: Ed25519 public keys only, each block counted', () => {
    const { publicPem } = operatorKeyPair();
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const priv = operatorKeyPair().privatePem;
    const bad = (text: string) => {
      try {
        parseOperatorKeys(text, 'ops.pem');
        return 'accepted';
      } catch (err) {
        return `${(err as FleetFileError).field} ${(err as FleetFileError).problem}`;
      }
    };
    assert.equal(bad('nothing here'), 'fleet.operatorKeys no PEM block found: expected one or more "-----BEGIN PUBLIC KEY-----" Ed25519 keys (kiosk fleet keygen writes them)');
    assert.equal(bad(`${publicPem}${rsa}`), 'fleet.operatorKeys key 2 is rsa, expected ed25519');
    assert.equal(bad(`${publicPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`), 'fleet.operatorKeys PEM block 2 (CERTIFICATE) is not a public key');
    assert.equal(bad('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'fleet.operatorKeys no PEM block found: expected one or more "-----BEGIN PUBLIC KEY-----" Ed25519 keys (kiosk fleet keygen writes them)', 'BEGIN and END must match');
    assert.equal(parseOperatorKeys(priv, 'x').length, 1, 'a private key block gives its public half');
    assert.equal(parseOperatorKeys(publicPem, 'x', 'field')[0]!.asymmetricKeyType, 'ed25519');
  });

  it('the operator\'s private key (kiosk fleet cmd --key): 0600, PEM, Ed25519', () => {
    const { privatePem } = operatorKeyPair();
    assert.equal(loadOperatorPrivateKey(file('op.key', privatePem, 0o600)).asymmetricKeyType, 'ed25519');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const why = (p: string) => {
      try {
        loadOperatorPrivateKey(p);
        return 'accepted';
      } catch (err) {
        return `${(err as FleetFileError).field} ${(err as FleetFileError).problem}`;
      }
    };
    assert.equal(why(file('op-open.key', privatePem, 0o644)), `--key readable by group or others (mode 0644); run: chmod 600 ${join(dir, 'op-open.key')}`);
    assert.equal(why(file('op-bad.key', 'nope', 0o600)), '--key not a PEM private key (kiosk fleet keygen makes one)');
    assert.equal(why(file('op-rsa.key', rsa, 0o600)), '--key a rsa key; operator keys are Ed25519 (kiosk fleet keygen)');
  });
});

describe('fleet/probe: kiosk doctor\'s broker check', () => {
  it('connects with its own client id and says how; a closed port and a bad file say why, with a fix', async () => {
    const broker = await startBroker();
    const ids: string[] = [];
    broker.aedes.on('client', (c) => ids.push(c.id));
    try {
      const ok = await probeBroker(parseFleet({ url: broker.url, protocolVersion: 4 }).fleet!, 'K1', 3000);
      assert.equal(ok.ok, true);
      assert.match(ok.detail, new RegExp(`^${broker.url}: connected in \\d+ ms \\(MQTT 3\\.1\\.1\\), 0 operator key\\(s\\)$`));
      assert.ok(Number(/connected in (\d+) ms/.exec(ok.detail)![1]) < 3000, ok.detail);
      assert.equal(ok.fix, undefined);
      assert.deepEqual(ids, [`kiosk-K1-doctor-${process.pid}`]);
    } finally {
      await broker.close();
    }
    const closed = await probeBroker(parseFleet({ url: broker.url, protocolVersion: 4 }).fleet!, 'K1', 3000);
    assert.equal(closed.ok, false);
    assert.match(closed.detail, new RegExp(`^${broker.url}: .*ECONNREFUSED`));
    assert.equal(closed.fix, 'check fleet.url, the network to the broker, and the broker login (username/passwordFile or client certificate)');
    const files = await probeBroker(parseFleet({ url: broker.url.replace('mqtt:', 'mqtts:'), ca: '/nonexistent/ca.crt' }).fleet!, 'K1', 3000);
    assert.deepEqual(files, { ok: false, detail: 'fleet.ca: /nonexistent/ca.crt: no such file', fix: 'see docs/fleet.md, "Config"' });
  });

  it('only a file problem is an answer: anything else is thrown', async () => {
    const config = parseFleet({ url: 'mqtt://127.0.0.1:1', protocolVersion: 4 }).fleet!;
    Object.defineProperty(config, 'operatorKeys', { get: () => {
      throw new TypeError('not a file problem');
    } });
    await assert.rejects(probeBroker(config, 'K1', 100), /not a file problem/);
  });

  it('logs in with the configured user and password file', async () => {
    const broker = await startBroker();
    const seen: Array<[string | undefined, string | undefined]> = [];
    broker.aedes.authenticate = (_client, username, password, done) => {
      seen.push([username, password?.toString()]);
      done(null, password?.toString() === 'pw');
    };
    const pwDir = mkdtempSync(join(tmpdir(), 'fleet-probe-'));
    const pw = join(pwDir, 'pw');
    writeFileSync(pw, 'pw\n', { mode: 0o600 });
    chmodSync(pw, 0o600);
    try {
      const ok = await probeBroker(parseFleet({ url: broker.url, protocolVersion: 4, username: 'k1', passwordFile: pw }).fleet!, 'K1', 3000);
      assert.equal(ok.ok, true, ok.detail);
      const refused = await probeBroker(parseFleet({ url: broker.url, protocolVersion: 4 }).fleet!, 'K1', 3000);
      assert.equal(refused.ok, false);
      assert.deepEqual(seen, [['k1', 'pw'], [undefined, undefined]]);
    } finally {
      await broker.close();
      rmSync(pwDir, { recursive: true, force: true });
    }
  });

  it('a broker that accepts the TCP connection and never answers: no answer within the timeout', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as { port: number }).port;
    try {
      const r = await probeBroker(parseFleet({ url: `mqtt://127.0.0.1:${port}`, protocolVersion: 5 }).fleet!, 'K1', 300);
      assert.equal(r.detail, `mqtt://127.0.0.1:${port}: no answer within 300 ms`, 'said by the probe, not by MQTT.js\'s backstop (2 x 300 ms)');
      assert.deepEqual([r.ok, r.fix], [false, 'check fleet.url, the network to the broker, and the broker login (username/passwordFile or client certificate)']);
    } finally {
      silent.close();
    }
  });
});
