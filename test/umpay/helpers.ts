// Shared test material: the platform's published vectors and key files under ../shared/umpay.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { WireValue } from '../../src/umpay/canonical.js';

export const SHARED = path.resolve(process.cwd(), '..', 'shared', 'umpay');
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
