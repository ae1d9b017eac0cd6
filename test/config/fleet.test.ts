import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig, type ConfigProblem } from '../../src/config/index.js';
import { FLEET_DEFAULTS } from '../../src/config/fleet.js';

function base(fleet?: unknown): Record<string, unknown> {
  return {
    deviceId: 'KIOSK-01',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'k.pem', goodsId: 'VEND', goodsInfo: 'Vending' },
    gateway: { baseUrl: 'http://127.0.0.1:8011/x', platformCert: 'c.crt' },
    journal: { path: 'journal.sqlite' },
    scanner: { driver: 'sim' },
    pricing: { mode: 'fixed', amountFen: 300 },
    ...(fleet === undefined ? {} : { fleet }),
  };
}

describe('config: the fleet section (zod schema, src/config/fleet.ts)', () => {
  let dir: string;
  const check = (fleet: unknown, checkFiles = false) => validateConfig(base(fleet), { file: 'config.json', baseDir: dir, checkFiles });
  const fleetProblems = (ps: ConfigProblem[]) => ps.filter((p) => p.field.startsWith('fleet'));
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'fleet-config-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('no section: telemetry off (config.fleet undefined)', () => {
    const r = check(undefined);
    assert.deepEqual(fleetProblems(r.problems), []);
    assert.equal(r.config!.fleet, undefined);
  });

  it('only a url: every default filled in, paths resolved against the config folder', () => {
    const r = check({ url: 'mqtts://broker.example.com:8883', ca: 'ca.pem', operatorKeys: 'ops.pub.pem' });
    assert.deepEqual(fleetProblems(r.problems), []);
    const { url, ca, operatorKeys, ...rest } = r.config!.fleet!;
    assert.equal(url, 'mqtts://broker.example.com:8883');
    assert.equal(ca, join(dir, 'ca.pem'));
    assert.equal(operatorKeys, join(dir, 'ops.pub.pem'));
    assert.deepEqual(rest, { ...FLEET_DEFAULTS });
  });

  it('every problem named by field, with the value found', () => {
    const r = check({ url: 'http://broker', prefix: 'kiosk/#', keepaliveS: 1.5, metricsIntervalMs: 5, protocolVersion: 3, cert: 'c.pem', bogus: 1, passwordFile: 'pw' });
    const got = Object.fromEntries(fleetProblems(r.problems).map((p) => [p.field, p]));
    assert.deepEqual(Object.keys(got).sort(), ['fleet.bogus', 'fleet.keepaliveS', 'fleet.metricsIntervalMs', 'fleet.prefix', 'fleet.protocolVersion', 'fleet.url'].sort());
    assert.match(got['fleet.url']!.problem, /mqtt:\/\/HOST/);
    assert.equal(got['fleet.url']!.value, 'http://broker');
    assert.match(got['fleet.keepaliveS']!.problem, /fraction/);
    assert.match(got['fleet.metricsIntervalMs']!.problem, /between 10000 and/);
    assert.match(got['fleet.bogus']!.problem, /unknown key/);
    // Cross-field rules once the fields themselves are right.
    const r2 = check({ url: 'mqtt://broker', cert: 'c.pem', passwordFile: 'pw' });
    assert.deepEqual(fleetProblems(r2.problems).map((p) => p.field).sort(), ['fleet.cert', 'fleet.key', 'fleet.username']);
    assert.equal(check({}).problems.find((p) => p.field === 'fleet.url')?.problem, 'missing (required)');
    assert.match(check('mqtt://x').problems.find((p) => p.field === 'fleet')!.problem, /object/);
  });

  it('files are checked: operator keys must be Ed25519 public keys, a password file private', () => {
    const ok = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'pem' }) as string;
    writeFileSync(join(dir, 'ops.pem'), ok + ok);
    writeFileSync(join(dir, 'rsa.pem'), rsa);
    writeFileSync(join(dir, 'pw'), 'secret\n', { mode: 0o644 });
    const files = (fleet: Record<string, unknown>) => fleetProblems(check({ url: 'mqtt://b', ...fleet }, true).problems);
    assert.deepEqual(files({ operatorKeys: 'ops.pem' }), []);
    assert.match(files({ operatorKeys: 'rsa.pem' })[0]!.problem, /key 1 is rsa, expected ed25519/);
    assert.match(files({ operatorKeys: 'nope.pem' })[0]!.problem, /no such file/);
    const pw = files({ username: 'k1', passwordFile: 'pw' })[0]!;
    assert.equal(pw.field, 'fleet.passwordFile');
    assert.match(pw.problem, /readable by group or others .* chmod 600/);
    assert.ok(!JSON.stringify(pw).includes('secret'));
  });
});
