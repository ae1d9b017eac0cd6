// Reading the merchant private key and the platform public key in every form the platform hands out.
// PROTOCOL.md, "Keys as the platform hands them out". Each key is parsed once into a KeyObject.
import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';

export class KeyError extends Error {
  readonly code = 'E_KEY';
  constructor(readonly file: string, message: string) {
    super(`${file}: ${message}`);
    this.name = 'KeyError';
  }
}

const PRIVATE_EXPECTED = 'expected an RSA private key: PKCS#8 DER (.p8), PKCS#8 or PKCS#1 PEM, or a bare base64 body';
const PUBLIC_EXPECTED = 'expected an X.509 certificate (DER or PEM) or an RSA public key (SPKI PEM/DER, PKCS#1 PEM)';

/**
 * The DER bytes a key file may hold: a bare base64 body decoded (line breaks and all: base64 decoding skips white
 * space; binary DER decodes to bytes that parse as no key), then the bytes as they are.
 */
function derCandidates(data: Buffer, text: string): Buffer[] {
  return [Buffer.from(text, 'base64'), data];
}

function assertRsa(key: KeyObject, file: string, expected: string): KeyObject {
  if (key.asymmetricKeyType !== 'rsa') throw new KeyError(file, `not an RSA key (${key.asymmetricKeyType}); ${expected}`);
  return key;
}

/** Parses a merchant private key from bytes. `label` names the source in errors. */
export function parsePrivateKey(data: Buffer, label = '<key>'): KeyObject {
  const text = data.toString('latin1');
  if (text.includes('-----BEGIN')) {
    if (text.includes('ENCRYPTED')) throw new KeyError(label, `the key is encrypted with a passphrase; ${PRIVATE_EXPECTED}, unencrypted`);
    try {
      return assertRsa(createPrivateKey({ key: text, format: 'pem' }), label, PRIVATE_EXPECTED);
    } catch (err) {
      if (err instanceof KeyError) throw err;
      throw new KeyError(label, `PEM armour found but the key inside could not be read (${(err as Error).message}); ${PRIVATE_EXPECTED}`);
    }
  }
  const candidates = derCandidates(data, text);
  for (const der of candidates) {
    for (const type of ['pkcs8', 'pkcs1'] as const) {
      try {
        return assertRsa(createPrivateKey({ key: der, format: 'der', type }), label, PRIVATE_EXPECTED);
      } catch (err) {
        if (err instanceof KeyError) throw err;
      }
    }
  }
  throw new KeyError(label, `not a readable private key; ${PRIVATE_EXPECTED}`);
}

function isPrivateKey(data: Buffer): boolean {
  try {
    parsePrivateKey(data);
  } catch {
    return false;
  }
  return true;
}

/** Parses the platform public key from a certificate or a bare public key. Certificate dates are ignored on purpose. */
export function parsePublicKey(data: Buffer, label = '<certificate>'): KeyObject {
  const text = data.toString('latin1');
  // Node derives the public half of a private key without a word: a swapped file would then "verify"
  // with the merchant's own key and reject every platform answer (and a private key would sit unguarded).
  if (isPrivateKey(data)) throw new KeyError(label, `this is a private key, not the platform's certificate; ${PUBLIC_EXPECTED}`);
  if (text.includes('-----BEGIN CERTIFICATE-----')) {
    try {
      return assertRsa(new X509Certificate(text).publicKey, label, PUBLIC_EXPECTED);
    } catch (err) {
      if (err instanceof KeyError) throw err;
      throw new KeyError(label, `PEM certificate could not be read (${(err as Error).message}); ${PUBLIC_EXPECTED}`);
    }
  }
  if (text.includes('-----BEGIN')) {
    try {
      return assertRsa(createPublicKey({ key: text, format: 'pem' }), label, PUBLIC_EXPECTED);
    } catch (err) {
      if (err instanceof KeyError) throw err;
      throw new KeyError(label, `PEM armour found but the key inside could not be read (${(err as Error).message}); ${PUBLIC_EXPECTED}`);
    }
  }
  const candidates = derCandidates(data, text);
  for (const der of candidates) {
    try {
      return assertRsa(new X509Certificate(der).publicKey, label, PUBLIC_EXPECTED);
    } catch (err) {
      if (err instanceof KeyError) throw err;
    }
    for (const type of ['spki', 'pkcs1'] as const) {
      try {
        return assertRsa(createPublicKey({ key: der, format: 'der', type }), label, PUBLIC_EXPECTED);
      } catch (err) {
        if (err instanceof KeyError) throw err;
      }
    }
  }
  throw new KeyError(label, `not a readable certificate or public key; ${PUBLIC_EXPECTED}`);
}

export interface LoadKeyOptions {
  /** Refuse a private key file that group or others can read (the daemon sets this; test tools need not). */
  requirePrivateMode?: boolean;
}

function readKeyFile(file: string): Buffer {
  try {
    // A device (/dev/zero) would be read until memory runs out.
    const st = statSync(file);
    if (!st.isFile() && !st.isDirectory()) throw new KeyError(file, 'not a regular file');
    return readFileSync(file);
  } catch (err) {
    if (err instanceof KeyError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new KeyError(file, e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied: use sudo (only the kiosk user reads it; the daemon must run as kiosk)' : e.message);
  }
}

export function loadPrivateKey(file: string, options: LoadKeyOptions = {}): KeyObject {
  const data = readKeyFile(file);
  if (options.requirePrivateMode) {
    const mode = statSync(file).mode & 0o777;
    if (mode & 0o077) {
      throw new KeyError(file, `private key is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); run: chmod 600 ${file}`);
    }
  }
  return parsePrivateKey(data, file);
}

export function loadPublicKey(file: string): KeyObject {
  return parsePublicKey(readKeyFile(file), file);
}

/** A CA file for TLS (gateway.ca): one or more PEM certificates, returned as read. */
export function loadCaCertificates(file: string): Buffer {
  const data = readKeyFile(file);
  // Stryker disable next-line ArrayDeclaration: equivalent, a made-up entry fails as no certificate would
  const pems = data.toString('latin1').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
  try {
    // Stryker disable next-line StringLiteral: equivalent, this message is caught below and never shown
    if (pems.length === 0) throw new Error('none');
    for (const pem of pems) new X509Certificate(pem);
  } catch {
    throw new KeyError(file, 'expected one or more PEM certificates (-----BEGIN CERTIFICATE-----)');
  }
  return data;
}
