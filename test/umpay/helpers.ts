// The platform's published test vectors and key files, kept in the repo under test/fixtures/umpay.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WireValue } from '../../src/umpay/canonical.js';

// dist/test/umpay/ → test/fixtures/umpay/
export const SHARED = fileURLToPath(new URL('../../../test/fixtures/umpay/', import.meta.url));
export const KEY_FILE = path.join(SHARED, 'test-merchant.key.p8');
export const CERT_FILE = path.join(SHARED, 'test-platform.cert.crt');

export interface Vectors {
  merchantPrivateKeyPkcs8DerBase64: string;
  platformCertificateDerBase64: string;
  platformPublicKeyPem: string;
  requestSignatures: { name: string; fields: Record<string, string>; plaintext: string; signature: string }[];
  responseSignatures: { name: string; response: Record<string, WireValue>; plaintext: string; valid: boolean }[];
}

export const vectors = JSON.parse(readFileSync(path.join(SHARED, 'vectors.json'), 'utf8')) as Vectors;
