// Signed requests to a sandbox over real HTTP on 127.0.0.1.
import { readFileSync } from 'node:fs';
import type { KeyObject } from 'node:crypto';
import { loadPrivateKey } from '../../src/umpay/keys.js';
import { signRequest, verifyResponse } from '../../src/umpay/signature.js';
import type { WireValue } from '../../src/umpay/canonical.js';
import type { Sandbox } from '../../src/sandbox/index.js';

export const SP = { acqSpId: 'Y471790403', acqMerId: '41509208' };

export interface Reply {
  status: number;
  text: string;
  json?: Record<string, WireValue>;
  /** Signature checked with the sandbox's platform key (undefined when no JSON). */
  valid?: boolean;
}

export function merchantKey(sandbox: Sandbox): KeyObject {
  return loadPrivateKey(sandbox.merchantKeyPath!);
}

export function signed(fields: Record<string, WireValue>, key: KeyObject): Record<string, WireValue> {
  return { ...fields, signature: signRequest(fields, key).signature };
}

export async function postRaw(sandbox: Sandbox, path: string, body: string): Promise<Reply> {
  const res = await fetch(sandbox.baseUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const text = await res.text();
  let json: Record<string, WireValue> | undefined;
  try {
    json = JSON.parse(text) as Record<string, WireValue>;
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, valid: json ? verifyResponse(json, sandbox.platformPublicKey).valid : undefined };
}

export function call(sandbox: Sandbox, name: string, fields: Record<string, WireValue>, key = merchantKey(sandbox)): Promise<Reply> {
  return postRaw(sandbox, `/pay/${name}`, JSON.stringify(signed({ ...SP, ...fields }, key)));
}

let seq = 0;
export function orderNo(): string {
  seq++;
  return `T${Date.now()}${String(seq).padStart(5, '0')}`;
}

/** The micropay fields the tests send: these keys always, plus `extra`. */
export type MicropayFields = Record<'orderTime' | 'orderNo' | 'txnAmt' | 'orderType' | 'authCode' | 'goodsId' | 'goodsInfo', string> & Record<string, string>;

export function micropayFields(authCode: string, orderType: string, extra: Record<string, string> = {}): MicropayFields {
  return { orderTime: '20260101120000', orderNo: orderNo(), txnAmt: '100', orderType, authCode, goodsId: 'G1', goodsInfo: '可乐', ...extra };
}

export function readCert(sandbox: Sandbox): Buffer {
  return readFileSync(sandbox.platformCertPath);
}
