// gateway.ca (issue 20 §4): the CA a https gateway's certificate chains to, from a file beside the config.
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { validateConfig } from '../../src/config/index.js';
import { certificateAuthority } from '../../src/sandbox/cert.js';

const SHARED = fileURLToPath(new URL('../../../test/fixtures/umpay/', import.meta.url));

describe('config: gateway.ca and gateway.keepWarm', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-config-ca-'));
    mkdirSync(join(dir, 'keys'));
    copyFileSync(join(SHARED, 'test-merchant.key.p8'), join(dir, 'keys/merchant.key.p8'));
    chmodSync(join(dir, 'keys/merchant.key.p8'), 0o600);
    copyFileSync(join(SHARED, 'test-platform.cert.crt'), join(dir, 'keys/platform.cert.crt'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const validate = (gateway: Record<string, unknown>) =>
    validateConfig(
      {
        deviceId: 'KIOSK-01',
        merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'keys/merchant.key.p8', goodsId: 'VEND', goodsInfo: 'Vending' },
        gateway: { baseUrl: 'https://127.0.0.1:8443/entry-provider-plat-client', platformCert: 'keys/platform.cert.crt', ...gateway },
        journal: { path: 'journal.sqlite' },
        scanner: { driver: 'sim' },
        pricing: { mode: 'fixed', amountFen: 300 },
      },
      { file: 'config.json', baseDir: dir },
    );

  it('resolves the CA file against the config folder; keepWarm defaults to true', () => {
    writeFileSync(join(dir, 'keys/ca.pem'), certificateAuthority().ca.cert);
    const { config, problems } = validate({ ca: 'keys/ca.pem' });
    assert.deepEqual(problems, []);
    assert.equal(config!.gateway.ca, join(dir, 'keys/ca.pem'));
    assert.equal(config!.gateway.keepWarm, true);
    assert.equal(validate({ keepWarm: false }).config!.gateway.keepWarm, false);
  });

  it('refuses a CA file without a certificate, a missing one, and a CA for an http:// gateway', () => {
    writeFileSync(join(dir, 'keys/ca.pem'), 'not a certificate\n');
    assert.match(validate({ ca: 'keys/ca.pem' }).problems.map((p) => `${p.field}: ${p.problem}`).join('\n'), /^gateway\.ca: expected one or more PEM certificates/);
    assert.match(validate({ ca: 'keys/none.pem' }).problems.map((p) => `${p.field}: ${p.problem}`).join('\n'), /^gateway\.ca: no such file/);
    writeFileSync(join(dir, 'keys/ca.pem'), certificateAuthority().ca.cert);
    const http = validate({ ca: 'keys/ca.pem', baseUrl: 'http://127.0.0.1:8011/x' });
    assert.match(http.problems.map((p) => `${p.field}: ${p.problem}`).join('\n'), /gateway\.ca: only used with an https:\/\/ gateway\.baseUrl/);
  });
});
