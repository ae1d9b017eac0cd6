// Random test codes over every sandbox behaviour and wallet (shared by the crash test and the long run).
import { testCode, type Behaviour } from '../../src/sandbox/index.js';
import type { OrderType } from '../../src/umpay/types.js';

export const RANDOM_BEHAVIOURS: Behaviour[] = ['paid', 'paid', 'pending-then-paid', 'pending-forever', 'insufficient-balance', 'expired', 'reused', 'answer-lost'];
export const WALLETS: OrderType[] = ['wechat', 'alipay', 'unionpay'];
export function randomCode(r: () => number, nonce: number): string {
  const b = RANDOM_BEHAVIOURS[Math.floor(r() * RANDOM_BEHAVIOURS.length)]!;
  const w = WALLETS[Math.floor(r() * WALLETS.length)]!;
  return testCode(b, w, nonce, b === 'pending-then-paid' ? { queries: 1 + Math.floor(r() * 9) } : {});
}

