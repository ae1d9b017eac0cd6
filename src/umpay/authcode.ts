// Payment codes (authCode) by the platform's documented prefixes and lengths. PROTOCOL.md, "Payment codes".
import type { OrderType } from './types.js';

export type AuthCodeClass =
  | { ok: true; orderType: OrderType }
  | { ok: false; reason: string };

/** Which wallet a scanned code belongs to, or why it is not a payment code. A code that fits none is never sent. */
export function classifyAuthCode(code: string): AuthCodeClass {
  if (typeof code !== 'string' || code.length === 0) return { ok: false, reason: 'empty code' };
  if (code.length > 32) return { ok: false, reason: `too long (${code.length} characters, at most 24)` };
  if (!/^[0-9]+$/.test(code)) return { ok: false, reason: 'not all digits' };
  const prefix = Number(code.slice(0, 2));
  const len = code.length;
  if (prefix >= 10 && prefix <= 15) {
    return len === 18 ? { ok: true, orderType: 'wechat' } : { ok: false, reason: `WeChat prefix ${code.slice(0, 2)} but ${len} digits (WeChat codes have 18)` };
  }
  if (prefix >= 25 && prefix <= 30) {
    return len >= 16 && len <= 24 ? { ok: true, orderType: 'alipay' } : { ok: false, reason: `Alipay prefix ${code.slice(0, 2)} but ${len} digits (Alipay codes have 16 to 24)` };
  }
  if (prefix === 62) {
    return len === 19 ? { ok: true, orderType: 'unionpay' } : { ok: false, reason: `UnionPay prefix 62 but ${len} digits (UnionPay codes have 19)` };
  }
  return { ok: false, reason: `unknown prefix ${code.slice(0, 2)} (WeChat 10-15, Alipay 25-30, UnionPay 62)` };
}

/** Text that may carry a payment code or a cut piece of one (an echoed request, a device's free text): every run
 *  of 8 or more digits becomes its last 4. */
export function maskDigitRuns(text: string): string {
  return text.replace(/[0-9]{8,}/g, (run) => `…${run.slice(-4)}`);
}

/** What maskAuthCode makes: `wechat…4821`, `code…(7 chars)`. Never a code itself (no digits-only text). */
const MASKED = /^(?:wechat|alipay|unionpay|code)…(?:[0-9]{4}|\([0-9]+ chars\))$/;

/**
 * The only form of a payment code that may appear in a log, a table or an error:
 * the wallet (or "code") and the last 4 digits at most. A code is a bearer token.
 */
export function maskAuthCode(code: string | null | undefined): string {
  if (!code) return '-';
  // Already a mask (a log line read back by `kiosk logs`): kept, or the wallet and last four would be lost.
  if (MASKED.test(code)) return code;
  const c = classifyAuthCode(code);
  const label = c.ok ? c.orderType : 'code';
  const tail = /^[0-9]+$/.test(code) && code.length >= 12 ? code.slice(-4) : '';
  return tail ? `${label}…${tail}` : `${label}…(${code.length} chars)`;
}
