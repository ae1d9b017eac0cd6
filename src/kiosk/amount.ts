// The amount entry of the customer interaction: what the pricing offers (a fixed amount, a menu of items or an
// amount keyed in) and how keypad keys move between idle, entering and ready. Pure functions over the pricing;
// the interaction (interaction.ts) applies the steps, keeps the timers and shows the screens.
import type { Screen } from './screens.js';

export interface MenuItem {
  amountFen: number;
  goodsId?: string;
  goodsInfo?: string;
}

export type PricingMode = 'fixed' | 'menu' | 'keyed' | 'vmc';

export type Pricing =
  | { mode: 'fixed'; amountFen: number; goodsId?: string; goodsInfo?: string }
  | { mode: 'menu'; items: Record<string, MenuItem | number> }
  | { mode: 'keyed'; maxAmountFen: number; minAmountFen?: number }
  // The vending machine names the product and its price over MDB (mdb.mode always-idle): nothing is typed here.
  | { mode: 'vmc' };

/** What the customer has chosen to pay for. */
export interface Choice {
  amountFen: number;
  item?: string;
  goodsId?: string;
  goodsInfo?: string;
  /** MDB: the machine's product number, its price text as sent, and the name the display shows (mdb.products). */
  productId?: string;
  vendPrice?: string;
  name?: string;
}

/** The states of choosing an amount (the interaction's others are processing, result and stopped). */
export type EntryState = { name: 'idle' } | { name: 'entering'; digits: string } | { name: 'ready'; choice: Choice };

/** What a key does: a short 'not-now' signal with this screen, then (or only) a move to a new entry state. */
export type EntryStep = { refuse: Screen; go?: EntryState } | { refuse?: undefined; go: EntryState };

/** Where the interaction rests between customers: a fixed amount is always ready, menu and keyed wait for keys. */
export function restEntry(pricing: Pricing): EntryState {
  if (pricing.mode === 'fixed') return { name: 'ready', choice: { amountFen: pricing.amountFen, goodsId: pricing.goodsId, goodsInfo: pricing.goodsInfo } };
  return { name: 'idle' };
}

/** The longest item number of a menu (more digits typed are refused); 0 for the other modes. */
export function maxItemDigits(pricing: Pricing): number {
  return pricing.mode === 'menu' ? Math.max(1, ...Object.keys(pricing.items).map((k) => k.length)) : 0;
}

/** The choice the typed digits name (an item, or an amount within limits), or undefined. */
export function chooseAmount(pricing: Pricing, digits: string): Choice | undefined {
  if (pricing.mode === 'keyed') {
    const amountFen = Number(digits || '0');
    const min = pricing.minAmountFen ?? 1;
    return amountFen >= min && amountFen <= pricing.maxAmountFen ? { amountFen } : undefined;
  }
  if (pricing.mode === 'menu') {
    const item = Object.prototype.hasOwnProperty.call(pricing.items, digits) ? pricing.items[digits] : undefined;
    if (item === undefined) return undefined;
    const it: MenuItem = typeof item === 'number' ? { amountFen: item } : item;
    return { amountFen: it.amountFen, item: digits, goodsId: it.goodsId, goodsInfo: it.goodsInfo };
  }
  return undefined;
}

/** A keypad key ('0'–'9', '*', '#') while choosing (menu or keyed pricing). */
export function entryKey(pricing: Pricing, st: EntryState, key: string): EntryStep {
  const digit = key >= '0' && key <= '9';
  if (st.name === 'idle' || st.name === 'ready') {
    // In ready, a digit starts a new choice (the customer changed their mind); '*' cancels.
    if (digit) return typeDigit(pricing, '', key);
    if (key === '*') return { go: { name: 'idle' } };
    return { refuse: { name: 'not-now', hint: 'choose' } }; // '#' with nothing typed
  }
  if (digit) return typeDigit(pricing, st.digits, key);
  if (key === '*') {
    // Keyed: first '*' clears the typed amount, a second cancels. Menu: '*' cancels.
    if (pricing.mode === 'keyed' && st.digits !== '') return { go: { name: 'entering', digits: '' } };
    return { go: { name: 'idle' } };
  }
  const choice = chooseAmount(pricing, st.digits);
  if (!choice) {
    const refuse: Screen = pricing.mode === 'keyed' && st.digits !== '' ? { name: 'not-now', hint: 'max', maxFen: pricing.maxAmountFen } : { name: 'not-now', hint: 'choose' };
    return { refuse, go: { name: 'entering', digits: '' } };
  }
  return { go: { name: 'ready', choice } };
}

function typeDigit(pricing: Pricing, digits: string, key: string): EntryStep {
  const next = digits + key;
  if (pricing.mode === 'keyed') {
    const value = Number(next);
    if (value > pricing.maxAmountFen) return { refuse: { name: 'not-now', hint: 'max', maxFen: pricing.maxAmountFen } }; // over the limit: key refused
    return { go: { name: 'entering', digits: value === 0 ? '' : String(value) } };
  }
  if (next.length > maxItemDigits(pricing)) return { refuse: { name: 'not-now', hint: 'choose' } };
  return { go: { name: 'entering', digits: next } };
}
