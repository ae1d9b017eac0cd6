// SHA1withRSA (RSASSA-PKCS1-v1_5 over SHA-1), base64, as the platform uses both ways.
import { sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { phpResponsePlaintext, requestPlaintext, requestPlaintextBy, responsePlaintext, REQUEST_RULES, type RequestRule, type WireValue } from './canonical.js';

export interface SignedText {
  plaintext: string;
  signature: string;
}

export function signText(plaintext: string, privateKey: KeyObject): string {
  return cryptoSign('sha1', Buffer.from(plaintext) /* UTF-8 */, privateKey).toString('base64');
}

/** False for all but a signature by `publicKey` over `plaintext`: non-text, empty, foreign, or an unusable key. */
export function verifyText(plaintext: string, signatureBase64: WireValue, publicKey: KeyObject): boolean {
  if (typeof signatureBase64 !== 'string') return false;
  // An empty or empty-decoding signature simply does not verify.
  const sig = Buffer.from(signatureBase64, 'base64');
  try {
    return cryptoVerify('sha1', Buffer.from(plaintext) /* UTF-8 */, publicKey, sig);
  } catch {
    return false;
  }
}

/** Signs a request's fields; returns the plaintext signed and the base64 signature. */
export function signRequest(fields: Readonly<Record<string, WireValue>>, privateKey: KeyObject): SignedText {
  const plaintext = requestPlaintext(fields);
  return { plaintext, signature: signText(plaintext, privateKey) };
}

/**
 * Checks a request's `signature` field (what the sandbox does with the merchant public key) under each rule in
 * `rules` (default: the documented one); `rule` names the first that verified.
 */
export function verifyRequest(
  fields: Readonly<Record<string, WireValue>>,
  publicKey: KeyObject,
  rules: readonly RequestRule[] = ['doc'],
): { plaintext: string; valid: boolean; rule?: RequestRule } {
  const sig = fields.signature;
  const tried = rules.length ? rules : REQUEST_RULES;
  for (const rule of tried) {
    const plaintext = requestPlaintextBy(rule, fields);
    if (verifyText(plaintext, sig, publicKey)) return { plaintext, valid: true, rule };
  }
  return { plaintext: requestPlaintextBy(tried[0]!, fields), valid: false };
}

/**
 * Which plaintext rule an answer's signature verifies under: the exact text (the platform, the Java demo) or the PHP
 * demo's.
 */
export type AnswerRule = 'exact' | 'php';

/**
 * For diagnostics (`kiosk umpay --verbose`): the rule an answer verifies under, or null. Money uses verifyResponse
 * only.
 */
export function answerRule(answer: Readonly<Record<string, WireValue>>, publicKey: KeyObject): { rule: AnswerRule | null; plaintext: string } {
  const exact = verifyResponse(answer, publicKey);
  if (exact.valid) return { rule: 'exact', plaintext: exact.plaintext };
  const php = phpResponsePlaintext(answer);
  const sig = answer.signature;
  if (verifyText(php, sig, publicKey)) return { rule: 'php', plaintext: php };
  return { rule: null, plaintext: exact.plaintext };
}

/**
 * Checks an answer's `signature` field with the platform public key, over the values' exact text: parse the
 * answer with parseWireJson (json.ts), never JSON.parse, or `1.50` and integers above 2^53 fail.
 */
export function verifyResponse(answer: Readonly<Record<string, WireValue>>, publicKey: KeyObject): { plaintext: string; valid: boolean } {
  const plaintext = responsePlaintext(answer);
  const sig = answer.signature;
  return { plaintext, valid: verifyText(plaintext, sig, publicKey) };
}

/** Signs an answer the way the platform does (used by the sandbox). */
export function signResponse<T extends Record<string, WireValue>>(answer: T, platformPrivateKey: KeyObject): T & { signature: string } {
  const plaintext = responsePlaintext(answer);
  return { ...answer, signature: signText(plaintext, platformPrivateKey) };
}
