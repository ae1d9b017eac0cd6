import assert from 'node:assert/strict';
import { createPrivateKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { requestPlaintext, responsePlaintext } from '../../src/umpay/canonical.js';
import { signRequest, verifyResponse } from '../../src/umpay/signature.js';
import { KeyError, loadPrivateKey, loadPublicKey, parsePrivateKey, parsePublicKey } from '../../src/umpay/keys.js';
import { CERT_FILE, KEY_FILE, vectors } from './helpers.js';

const der = createPrivateKey({ key: readFileSync(KEY_FILE), format: 'der', type: 'pkcs8' });
const certDer = Buffer.from(vectors.platformCertificateDerBase64, 'base64');
const certPem = `-----BEGIN CERTIFICATE-----\n${vectors.platformCertificateDerBase64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;

const privateForms: [string, () => KeyObject][] = [
  ['.p8 file (PKCS#8 DER)', () => loadPrivateKey(KEY_FILE)],
  ['bare base64 body from vectors.json', () => parsePrivateKey(Buffer.from(vectors.merchantPrivateKeyPkcs8DerBase64), 'vectors')],
  ['bare base64 wrapped at 64 columns', () => parsePrivateKey(Buffer.from(vectors.merchantPrivateKeyPkcs8DerBase64.match(/.{1,64}/g)!.join('\n') + '\n'), 'wrapped')],
  ['PKCS#8 PEM', () => parsePrivateKey(Buffer.from(der.export({ format: 'pem', type: 'pkcs8' }) as string), 'p8.pem')],
  ['PKCS#1 PEM', () => parsePrivateKey(Buffer.from(der.export({ format: 'pem', type: 'pkcs1' }) as string), 'p1.pem')],
  ['PKCS#1 DER', () => parsePrivateKey(der.export({ format: 'der', type: 'pkcs1' }), 'p1.der')],
];
const publicForms: [string, () => KeyObject][] = [
  ['.crt file (X.509 DER)', () => loadPublicKey(CERT_FILE)],
  ['certificate bare base64 from vectors.json', () => parsePublicKey(Buffer.from(vectors.platformCertificateDerBase64), 'vectors')],
  ['certificate PEM', () => parsePublicKey(Buffer.from(certPem), 'cert.pem')],
  ['SPKI PEM from vectors.json', () => parsePublicKey(Buffer.from(vectors.platformPublicKeyPem), 'spki.pem')],
  ['PKCS#1 public PEM', () => parsePublicKey(Buffer.from(parsePublicKey(certDer).export({ format: 'pem', type: 'pkcs1' }) as string), 'p1pub.pem')],
];

describe('umpay vectors (test/fixtures/umpay/vectors.json)', () => {
  for (const [form, load] of privateForms) {
    describe(`merchant key as ${form}`, () => {
      const key = load();
      for (const v of vectors.requestSignatures) {
        it(`signs "${v.name}" byte-identically`, () => {
          const s = signRequest(v.fields, key);
          assert.equal(s.plaintext, v.plaintext);
          assert.equal(s.signature, v.signature);
          assert.equal(requestPlaintext(v.fields), v.plaintext);
        });
      }
    });
  }
  for (const [form, load] of publicForms) {
    describe(`platform key as ${form}`, () => {
      const key = load();
      for (const v of vectors.responseSignatures) {
        it(`verifies "${v.name}" as ${v.valid}`, () => {
          const r = verifyResponse(v.response, key);
          assert.equal(r.plaintext, v.plaintext);
          assert.equal(r.valid, v.valid);
          assert.equal(responsePlaintext(v.response), v.plaintext);
        });
      }
    });
  }
});

describe('umpay key errors', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'umpay-keys-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  function expectKeyError(fn: () => unknown, file: string, pattern: RegExp): void {
    assert.throws(fn, (err: unknown) => {
      assert.ok(err instanceof KeyError, `not a KeyError: ${String(err)}`);
      assert.equal(err.code, 'E_KEY');
      assert.equal(err.file, file);
      assert.ok(err.message.startsWith(file + ':'), err.message);
      assert.match(err.message, pattern);
      return true;
    });
  }

  it('random bytes as a private key', () => {
    const f = path.join(dir, 'random.p8');
    writeFileSync(f, randomBytes(600));
    expectKeyError(() => loadPrivateKey(f), f, /expected an RSA private key/);
  });
  it('a certificate given as the private key', () => {
    expectKeyError(() => loadPrivateKey(CERT_FILE), CERT_FILE, /expected an RSA private key/);
  });
  it('a missing private key file', () => {
    const f = path.join(dir, 'nope.p8');
    expectKeyError(() => loadPrivateKey(f), f, /no such file/);
  });
  it('random bytes as the platform certificate', () => {
    const f = path.join(dir, 'random.crt');
    writeFileSync(f, randomBytes(600));
    expectKeyError(() => loadPublicKey(f), f, /expected an X\.509 certificate/);
  });
  it('a missing certificate file', () => {
    const f = path.join(dir, 'nope.crt');
    expectKeyError(() => loadPublicKey(f), f, /no such file/);
  });
  it('a non-RSA key is refused with the reason', () => {
    const f = path.join(dir, 'ec.pem');
    writeFileSync(f, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }));
    expectKeyError(() => loadPrivateKey(f), f, /not an RSA key/);
  });
});

describe('umpay canonical strings (properties)', () => {
  const key = fc.string({ minLength: 1, maxLength: 8 }).filter((k) => k !== 'signature' && k !== '__proto__');
  const value = fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.constant(''), fc.constant(null), fc.constant(undefined));
  const record = fc.dictionary(key, value, { maxKeys: 12 });
  const shuffle = <T>(xs: T[], seed: number): T[] => {
    const a = [...xs];
    let s = seed;
    for (let i = a.length - 1; i > 0; i--) {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      const j = s % (i + 1);
      [a[i], a[j]] = [a[j]!, a[i]!];
    }
    return a;
  };

  it('the request string ignores key order', () => {
    fc.assert(fc.property(record, fc.nat(), (r, seed) => {
      const reordered = Object.fromEntries(shuffle(Object.entries(r), seed));
      assert.equal(requestPlaintext(reordered), requestPlaintext(r));
    }), { numRuns: 200 });
  });
  it('the response string ignores key order', () => {
    fc.assert(fc.property(record, fc.nat(), (r, seed) => {
      const reordered = Object.fromEntries(shuffle(Object.entries(r), seed));
      assert.equal(responsePlaintext(reordered), responsePlaintext(r));
    }), { numRuns: 200 });
  });
  it('empty and null values change neither string', () => {
    fc.assert(fc.property(record, fc.array(fc.tuple(key, fc.constantFrom('', null, undefined)), { maxLength: 5 }), (r, blanks) => {
      const filled = Object.fromEntries(Object.entries(r).filter(([, v]) => v !== '' && v != null));
      const withBlanks = { ...filled };
      for (const [k, v] of blanks) if (!(k in filled)) withBlanks[k] = v;
      assert.equal(requestPlaintext(withBlanks), requestPlaintext(filled));
      assert.equal(responsePlaintext(withBlanks), responsePlaintext(filled));
      assert.equal(requestPlaintext({ ...filled, signature: 'x' }), requestPlaintext(filled));
    }), { numRuns: 200 });
  });
});
