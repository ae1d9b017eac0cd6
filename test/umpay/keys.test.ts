// The key files the technician installs: every form accepted, every wrong one refused with the words that say what
// to do (issue 21 mutation run). vectors.test.ts signs and verifies with each accepted form.
import assert from 'node:assert/strict';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { KeyError, loadCaCertificates, loadPrivateKey, loadPublicKey, parsePrivateKey, parsePublicKey } from '../../src/umpay/keys.js';
import { certificateAuthority } from '../../src/sandbox/cert.js';
import { CERT_FILE, KEY_FILE } from './helpers.js';

const PRIVATE_EXPECTED = 'expected an RSA private key: PKCS#8 DER (.p8), PKCS#8 or PKCS#1 PEM, or a bare base64 body';
const PUBLIC_EXPECTED = 'expected an X.509 certificate (DER or PEM) or an RSA public key (SPKI PEM/DER, PKCS#1 PEM)';
const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'spki'): Buffer => Buffer.from(k.export({ format: 'pem', type }) as string);
const der = (k: KeyObject, type: 'pkcs8' | 'pkcs1' | 'spki'): Buffer => k.export({ format: 'der', type });

function keyError(fn: () => unknown): KeyError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KeyError, String(err));
    return err;
  }
  assert.fail('no KeyError');
}

describe('umpay keys: the forms accepted and the words for the rest', () => {
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(tmpdir(), 'umpay-keys-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = (name: string, data: string | Buffer, mode = 0o600): string => {
    const f = path.join(dir, name);
    writeFileSync(f, data);
    chmodSync(f, mode);
    return f;
  };

  it('private keys: PEM, DER (PKCS#8 and #1) and bare base64 of either are the same key', () => {
    const want = der(rsa.privateKey, 'pkcs8');
    for (const data of [pem(rsa.privateKey, 'pkcs8'), pem(rsa.privateKey, 'pkcs1'), der(rsa.privateKey, 'pkcs8'), der(rsa.privateKey, 'pkcs1'), Buffer.from(`  ${der(rsa.privateKey, 'pkcs1').toString('base64').replace(/.{60}/g, '$&\n')}\n`)]) {
      assert.deepEqual(der(parsePrivateKey(data), 'pkcs8'), want);
    }
  });

  it('private keys refused, each with its reason; the label names the source', () => {
    assert.equal(keyError(() => parsePrivateKey(Buffer.from('junk'))).message, `<key>: not a readable private key; ${PRIVATE_EXPECTED}`);
    assert.equal(keyError(() => parsePrivateKey(Buffer.alloc(0), 'k.p8')).message, `k.p8: not a readable private key; ${PRIVATE_EXPECTED}`);
    assert.equal(keyError(() => parsePrivateKey(Buffer.from('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n'), 'e.pem')).message, `e.pem: the key is encrypted with a passphrase; ${PRIVATE_EXPECTED}, unencrypted`);
    const broken = keyError(() => parsePrivateKey(Buffer.from('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'), 'b.pem'));
    assert.match(broken.message, /^b\.pem: PEM armour found but the key inside could not be read \(.+\); expected an RSA private key/);
    assert.equal(keyError(() => parsePrivateKey(pem(ec.privateKey, 'pkcs8'), 'ec.pem')).message, `ec.pem: not an RSA key (ec); ${PRIVATE_EXPECTED}`);
    assert.equal(keyError(() => parsePrivateKey(der(ec.privateKey, 'pkcs8'), 'ec.der')).message, `ec.der: not an RSA key (ec); ${PRIVATE_EXPECTED}`);
    assert.equal(keyError(() => parsePrivateKey(Buffer.from(der(ec.privateKey, 'pkcs8').toString('base64')), 'ec.b64')).message, `ec.b64: not an RSA key (ec); ${PRIVATE_EXPECTED}`);
    const e = keyError(() => parsePrivateKey(Buffer.from('x'), 'lbl'));
    assert.deepEqual([e.name, e.code, e.file], ['KeyError', 'E_KEY', 'lbl']);
  });

  it('platform keys: certificate (PEM, DER, base64) and public key (SPKI PEM/DER, PKCS#1 PEM/DER) are the same key', () => {
    const want = der(parsePublicKey(pem(rsa.publicKey, 'spki')), 'spki');
    for (const data of [der(rsa.publicKey, 'spki'), pem(rsa.publicKey, 'pkcs1'), der(rsa.publicKey, 'pkcs1'), Buffer.from(der(rsa.publicKey, 'spki').toString('base64')),
      Buffer.from(`  ${der(rsa.publicKey, 'spki').toString('base64').replace(/.{64}/g, '$&\r\n')}\n`)]) {
      assert.deepEqual(der(parsePublicKey(data), 'spki'), want);
    }
    assert.equal(loadPublicKey(CERT_FILE).asymmetricKeyType, 'rsa');
  });

  it('platform keys refused, each with its reason: a private key (Node would derive the public half), another kind of key, junk', () => {
    for (const data of [pem(rsa.privateKey, 'pkcs8'), der(rsa.privateKey, 'pkcs8'), der(rsa.privateKey, 'pkcs1')]) {
      assert.equal(keyError(() => parsePublicKey(data)).message, `<certificate>: this is a private key, not the platform's certificate; ${PUBLIC_EXPECTED}`);
    }
    assert.equal(keyError(() => parsePublicKey(Buffer.from('junk'), 'p.crt')).message, `p.crt: not a readable certificate or public key; ${PUBLIC_EXPECTED}`);
    assert.equal(keyError(() => parsePublicKey(pem(ec.publicKey, 'spki'), 'ec.pem')).message, `ec.pem: not an RSA key (ec); ${PUBLIC_EXPECTED}`);
    assert.equal(keyError(() => parsePublicKey(der(ec.publicKey, 'spki'), 'ec.der')).message, `ec.der: not an RSA key (ec); ${PUBLIC_EXPECTED}`);
    const ecCert = certificateAuthority().ca.cert;
    assert.equal(keyError(() => parsePublicKey(Buffer.from(ecCert), 'ec.crt')).message, `ec.crt: not an RSA key (ec); ${PUBLIC_EXPECTED}`);
    const certDer = Buffer.from(ecCert.replace(/-----[A-Z ]+-----|\s/g, ''), 'base64');
    assert.equal(keyError(() => parsePublicKey(certDer, 'ec.cer')).message, `ec.cer: not an RSA key (ec); ${PUBLIC_EXPECTED}`);
    assert.match(keyError(() => parsePublicKey(Buffer.from('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'), 'c.pem')).message, /^c\.pem: PEM certificate could not be read \(.+\); expected an X\.509/);
    assert.match(keyError(() => parsePublicKey(Buffer.from('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'), 'k.pem')).message, /^k\.pem: PEM armour found but the key inside could not be read \(.+\); expected an X\.509/);
  });

  it('a private key file others may read is refused when the daemon asks, with the chmod to run; 0600 and 0700 are fine', () => {
    const body = der(rsa.privateKey, 'pkcs8');
    for (const mode of [0o644, 0o640, 0o604, 0o610, 0o601]) {
      const f = file(`k${mode.toString(8)}.p8`, body, mode);
      assert.equal(keyError(() => loadPrivateKey(f, { requirePrivateMode: true })).message, `${f}: private key is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${f}`);
      assert.equal(loadPrivateKey(f).asymmetricKeyType, 'rsa', 'test tools need not ask');
    }
    for (const mode of [0o600, 0o400, 0o700]) assert.equal(loadPrivateKey(file(`ok${mode.toString(8)}.p8`, body, mode), { requirePrivateMode: true }).asymmetricKeyType, 'rsa');
    assert.equal(loadPrivateKey(KEY_FILE).asymmetricKeyType, 'rsa');
  });

  it('key files that are not files: a device is never read, a folder and a missing file say so', () => {
    assert.equal(keyError(() => loadPrivateKey('/dev/zero')).message, '/dev/zero: not a regular file');
    assert.equal(keyError(() => loadPublicKey('/dev/null')).message, '/dev/null: not a regular file');
    assert.match(keyError(() => loadPrivateKey(dir)).message, new RegExp(`^${dir}: EISDIR`));
    assert.equal(keyError(() => loadPublicKey(path.join(dir, 'none.crt'))).message, `${path.join(dir, 'none.crt')}: no such file`);
    assert.equal(keyError(() => loadPrivateKey(path.join(dir, 'none', 'k.p8'))).message, `${path.join(dir, 'none', 'k.p8')}: no such file`);
    // A file this user may not read (as root: a write-only kernel file, which root cannot read either).
    const unreadable = process.getuid?.() === 0 ? '/proc/sys/vm/drop_caches' : file('unreadable.p8', 'x', 0o000);
    assert.equal(keyError(() => loadPrivateKey(unreadable)).message, `${unreadable}: permission denied: use sudo (only the kiosk user reads it; the daemon must run as kiosk)`);
  });

  it('a CA file: one or more PEM certificates, returned as read; anything else is refused in words', () => {
    const one = certificateAuthority().ca.cert;
    const two = `${one}${certificateAuthority().ca.cert}`;
    for (const text of [one, two, `# our CA\n${one}`]) assert.equal(loadCaCertificates(file('ca.pem', text)).toString(), text);
    const words = 'expected one or more PEM certificates (-----BEGIN CERTIFICATE-----)';
    for (const text of ['', 'junk', pem(rsa.publicKey, 'spki').toString(), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n', `${one}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`]) {
      const f = file('bad-ca.pem', text);
      assert.equal(keyError(() => loadCaCertificates(f)).message, `${f}: ${words}`);
    }
    assert.equal(keyError(() => loadCaCertificates(path.join(dir, 'none.pem'))).message, `${path.join(dir, 'none.pem')}: no such file`);
  });
});
