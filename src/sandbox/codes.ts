// Test payment codes: the sandbox's behaviour is chosen by fixed digits inside an otherwise valid code, so a real
// kiosk (which only sends codes that classifyAuthCode accepts) can drive every scenario from its scanner.
//
// Layout: <wallet prefix> 9999 <behaviour digit> <two-digit parameter> <nonce digits up to the wallet's length>.
// Any valid code without that marker is "paid at once".
import { createRequire } from 'node:module';
import type { OrderType } from '../umpay/types.js';

/** node:crypto's randomInt, loaded when a code is made: `kiosk --help` lists the test codes without loading crypto. */
const randomInt = (min: number, max: number): number => (createRequire(import.meta.url)('node:crypto') as { randomInt(min: number, max: number): number }).randomInt(min, max);

export type Behaviour = 'paid' | 'pending-then-paid' | 'pending-forever' | 'insufficient-balance' | 'expired' | 'reused' | 'answer-lost';

export interface TestCodeInfo {
  behaviour: Behaviour;
  digit: string;
  /** What micropay answers (first time). */
  respCode: string;
  description: string;
}

export const TEST_CODES: readonly TestCodeInfo[] = [
  { behaviour: 'paid', digit: '0', respCode: '00', description: 'paid at once (also any valid code without the 9999 marker)' },
  { behaviour: 'pending-then-paid', digit: '1', respCode: '02', description: '02 (customer paying); paid after K queryOrder calls (K = the two parameter digits, 00 → 2)' },
  { behaviour: 'pending-forever', digit: '2', respCode: '02', description: '02 and queries stay "paying" until cancelOrder/closeOrder' },
  { behaviour: 'insufficient-balance', digit: '3', respCode: '15', description: 'refused: insufficient balance, not charged' },
  { behaviour: 'expired', digit: '4', respCode: '20', description: 'refused: code expired, not charged' },
  { behaviour: 'reused', digit: '5', respCode: '001100WN', description: 'refused as already used (the real gateway answer), not charged' },
  { behaviour: 'answer-lost', digit: '6', respCode: '-', description: 'charged, then the connection is dropped: the answer never arrives' },
];

const MARKER = '9999';
const WALLET: Record<OrderType, { prefix: string; length: number }> = {
  wechat: { prefix: '13', length: 18 },
  alipay: { prefix: '28', length: 18 },
  unionpay: { prefix: '62', length: 19 },
};

export const DEFAULT_PENDING_QUERIES = 2;

/**
 * A fresh valid payment code that makes the sandbox behave as `behaviour`. `nonce` makes it unique (codes are
 * one-time: the same code on another orderNo is answered 001100WN); random when absent.
 * `queries` is K for pending-then-paid (1–99).
 */
export function testCode(behaviour: Behaviour, orderType: OrderType = 'wechat', nonce?: number | string, options: { queries?: number } = {}): string {
  const info = TEST_CODES.find((t) => t.behaviour === behaviour);
  if (!info) throw new Error(`unknown sandbox behaviour ${JSON.stringify(behaviour)}; one of ${TEST_CODES.map((t) => t.behaviour).join(', ')}`);
  const wallet = WALLET[orderType];
  if (!wallet) throw new Error(`unknown orderType ${JSON.stringify(orderType)}`);
  const queries = options.queries ?? 0;
  if (!Number.isInteger(queries) || queries < 0 || queries > 99) throw new Error(`queries must be 0–99, got ${queries}`);
  const head = wallet.prefix + MARKER + info.digit + String(queries).padStart(2, '0');
  const room = wallet.length - head.length;
  const raw = nonce === undefined ? String(randomInt(0, 2 ** 47)) : String(nonce).replace(/[^0-9]/g, '');
  return head + raw.padStart(room, '0').slice(-room);
}

/** What the sandbox does for a code (a code already validated by classifyAuthCode). */
export function behaviourOf(code: string): { behaviour: Behaviour; queries: number } {
  if (code.slice(2, 6) === MARKER) {
    const info = TEST_CODES.find((t) => t.digit === code[6]);
    if (info) {
      const k = Number(code.slice(7, 9));
      return { behaviour: info.behaviour, queries: k > 0 ? k : DEFAULT_PENDING_QUERIES };
    }
  }
  return { behaviour: 'paid', queries: 0 };
}

/** One fresh example code per behaviour and wallet (for the demo's "show test codes"). */
export function testCodeExamples(): Array<TestCodeInfo & { codes: Record<OrderType, string> }> {
  return TEST_CODES.map((t) => ({
    ...t,
    codes: {
      wechat: testCode(t.behaviour, 'wechat'),
      alipay: testCode(t.behaviour, 'alipay'),
      unionpay: testCode(t.behaviour, 'unionpay'),
    },
  }));
}
