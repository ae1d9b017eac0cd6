// SHA1withRSA (RSASSA-PKCS1-v1_5 over SHA-1), base64, as the platform uses both ways.
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { requestPlaintext, responsePlaintext, type WireValue } from './canonical.js';

export interface SignedText {
  plaintext: string;
  signature: string;
}

export function signText(plaintext: string, privateKey: KeyObject): string {
  return cryptoSign('sha1', Buffer.from(plaintext, 'utf8'), privateKey).toString('base64');
}

export function verifyText(plaintext: string, signatureBase64: string, publicKey: KeyObject): boolean {
  if (typeof signatureBase64 !== 'string' || signatureBase64.length === 0) return false;
  const sig = Buffer.from(signatureBase64, 'base64');
  if (sig.length === 0) return false;
  try {
    return cryptoVerify('sha1', Buffer.from(plaintext, 'utf8'), publicKey, sig);
  } catch {
    return false;
  }
}

/** Signs a request's fields; returns the plaintext signed and the base64 signature. */
export function signRequest(fields: Readonly<Record<string, WireValue>>, privateKey: KeyObject): SignedText {
  const plaintext = requestPlaintext(fields);
  return { plaintext, signature: signText(plaintext, privateKey) };
}

/** Checks a request's `signature` field (what the sandbox does with the merchant public key). */
export function verifyRequest(fields: Readonly<Record<string, WireValue>>, publicKey: KeyObject): { plaintext: string; valid: boolean } {
  const plaintext = requestPlaintext(fields);
  const sig = fields.signature;
  return { plaintext, valid: typeof sig === 'string' && verifyText(plaintext, sig, publicKey) };
}

/** Checks an answer's `signature` field with the platform public key. */
export function verifyResponse(answer: Readonly<Record<string, WireValue>>, publicKey: KeyObject): { plaintext: string; valid: boolean } {
  const plaintext = responsePlaintext(answer);
  const sig = answer.signature;
  return { plaintext, valid: typeof sig === 'string' && verifyText(plaintext, sig, publicKey) };
}

/** Signs an answer the way the platform does (used by the sandbox). */
export function signResponse<T extends Record<string, WireValue>>(answer: T, platformPrivateKey: KeyObject): T & { signature: string } {
  const plaintext = responsePlaintext(answer);
  return { ...answer, signature: signText(plaintext, platformPrivateKey) };
}
