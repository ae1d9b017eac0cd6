// What the customer reads on the character display, for every state they meet: one table of texts (English,
// ASCII plus '¥' which the HD44780 ROM A00 has), overridable per key in config (`display.texts`), and the fault
// numbers a technician looks up. Pure: the interaction says which screen, this says which lines.
// docs/display.md shows every screen as the customer sees it; a test keeps it equal to this file.

/** The texts, one line each; {placeholders} are filled in when shown. Keys are `<screen>.<line>`. */
export const DEFAULT_TEXTS = {
  'menu.1': 'Choose item, #',
  'keyed.1': 'Type amount',
  'keyed.2': 'then press #',
  'typing.1': 'Amount, # = OK',
  'typing.2': '{amount}',
  'item.1': 'Item {item}',
  'item.2': '{amount} # = OK',
  'item.unknown': 'no such item',
  'ready.1': 'Pay {amount}',
  'ready.2': 'Scan pay code',
  'processing.1': 'Paying {amount}',
  'processing.2': 'Please wait {s}s',
  'paying.1': 'Confirm on phone',
  'paying.2': '{s} s left',
  'retrying.1': 'No network',
  'retrying.2': 'Retrying {s}s',
  'paid.1': 'Paid, thank you',
  'paid.2': 'Take your item',
  'declined.1': 'Not paid',
  'reason.balance': 'Low balance',
  'reason.expired': 'Code expired',
  'reason.used': 'Code used before',
  'reason.invalid': 'Code not valid',
  'reason.limit': 'Over your limit',
  'reason.other': 'Payment refused',
  'not-charged.1': 'Not charged',
  'not-charged.2': 'Any money back',
  'vend-failed.1': 'Vend failed',
  'vend-failed.2': 'Refunding you',
  'bad-code.1': 'Not a pay code',
  'bad-code.2': 'Show pay code',
  'not-now.1': 'Not now',
  'not-now.choose': 'Choose first',
  'not-now.wait': 'Please wait',
  'not-now.max': 'Max {amount}',
  'offline.1': 'Offline',
  'offline.2': 'Cannot pay now',
  'fault.1': 'Out of service',
  'fault.2': 'Fault {fault}',
  'closed.1': 'Closed',
} as const;

export type TextKey = keyof typeof DEFAULT_TEXTS;
export type Texts = Record<TextKey, string>;
export const TEXT_KEYS = Object.keys(DEFAULT_TEXTS) as TextKey[];

/**
 * Fault numbers shown on "Out of service" screens, for the technician (docs/display.md lists them; a test keeps
 * the two equal). Numbers are never reused for another meaning.
 */
export const FAULTS = {
  F01: 'scanner not connected (unplugged, no power, wrong scanner.path): kiosk doctor',
  F02: 'system clock not set or not synchronised: no payments until it is (timedatectl)',
  F03: 'the payment engine failed on a payment in a way it did not classify: kiosk logs, kiosk status',
  F04: 'vend sensor stuck active, or no drop seen for approve.confirm.brokenAfter vends in a row: no payments until it sees a drop or goes inactive (check the chute and the wiring; kiosk selftest --sensor)',
} as const;
export type Fault = keyof typeof FAULTS;

/** What the customer is shown; the interaction picks one per state. */
export type Screen =
  | { name: 'menu'; items: readonly { item: string; amountFen: number; label?: string }[]; page: number }
  | { name: 'keyed' }
  | { name: 'typing'; amountFen: number }
  | { name: 'item'; item: string; amountFen?: number }
  | { name: 'ready'; amountFen: number }
  | { name: 'processing'; amountFen: number; secondsLeft: number }
  | { name: 'paying'; secondsLeft: number }
  | { name: 'retrying'; secondsLeft: number }
  | { name: 'paid' }
  | { name: 'declined'; code: string }
  | { name: 'not-charged' }
  | { name: 'vend-failed' }
  | { name: 'bad-code' }
  | { name: 'not-now'; hint: 'choose' | 'wait' | 'max'; maxFen?: number }
  | { name: 'offline' }
  | { name: 'fault'; fault: Fault }
  | { name: 'closed' };

/** ¥3.50 */
export function yuan(fen: number): string {
  return `¥${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/**
 * The short reason for a decline, from the platform's answer code (docs/PROTOCOL.md: 15 insufficient balance,
 * 20 code expired, 001100WN code already used, 23 no such code, 33 over the limit).
 */
export function declineReason(code: string): TextKey {
  switch (code) {
    case '15':
      return 'reason.balance';
    case '20':
      return 'reason.expired';
    case '001100WN':
      return 'reason.used';
    case '23':
      return 'reason.invalid';
    case '21':
    case '33':
      return 'reason.limit';
    default:
      return 'reason.other';
  }
}

/** A text may hold printable ASCII and '¥' only; '\' and '~' are not in the HD44780's ROM A00. */
export function textProblem(text: string): string | undefined {
  for (const ch of text) {
    if (ch === '¥') continue;
    const c = ch.codePointAt(0)!;
    if (c < 0x20 || c > 0x7d || c === 0x5c) return `character ${JSON.stringify(ch)} cannot be shown (printable ASCII and ¥ only, no \\ or ~)`;
  }
  return undefined;
}

/** Widest values of each placeholder, to check that an operator's text fits the display. */
export const PLACEHOLDER_SAMPLES: Record<string, string> = { amount: '¥999.99', s: '60', item: '99', fault: 'F01' };

export function fill(template: string, values: Record<string, string>): string {
  return template.replace(/\{([a-z]+)\}/g, (m, k: string) => values[k] ?? m);
}

/** A menu item's label is shown only when the display can show it (goodsInfo is often Chinese). */
function label(l: string | undefined): string {
  return l && !textProblem(l) ? ` ${l}` : '';
}

/** How many menu pages a display with `rows` rows needs (one row is the title). */
export function menuPages(count: number, rows: number): number {
  return Math.max(1, Math.ceil(count / Math.max(1, rows - 1)));
}

/** The lines of a screen, before fitting to the display (the driver cuts and pads). */
export function renderScreen(screen: Screen, texts: Texts, geometry: { cols: number; rows: number }): string[] {
  const t = (k: TextKey, v: Record<string, string> = {}) => fill(texts[k], v);
  switch (screen.name) {
    case 'menu': {
      const per = Math.max(1, geometry.rows - 1);
      const pages = menuPages(screen.items.length, geometry.rows);
      const start = (screen.page % pages) * per;
      const rows = screen.items.slice(start, start + per).map((i) => `${i.item}${label(i.label)} ${yuan(i.amountFen)}`);
      return [t('menu.1'), ...rows];
    }
    case 'keyed':
      return [t('keyed.1'), t('keyed.2')];
    case 'typing':
      return [t('typing.1'), t('typing.2', { amount: yuan(screen.amountFen) })];
    case 'item':
      return [t('item.1', { item: screen.item }), screen.amountFen === undefined ? t('item.unknown') : t('item.2', { amount: yuan(screen.amountFen) })];
    case 'ready':
      return [t('ready.1', { amount: yuan(screen.amountFen) }), t('ready.2')];
    case 'processing':
      return [t('processing.1', { amount: yuan(screen.amountFen) }), t('processing.2', { s: String(screen.secondsLeft) })];
    case 'paying':
      return [t('paying.1'), t('paying.2', { s: String(screen.secondsLeft) })];
    case 'retrying':
      return [t('retrying.1'), t('retrying.2', { s: String(screen.secondsLeft) })];
    case 'paid':
      return [t('paid.1'), t('paid.2')];
    case 'declined':
      return [t('declined.1'), t(declineReason(screen.code))];
    case 'not-charged':
      return [t('not-charged.1'), t('not-charged.2')];
    case 'vend-failed':
      return [t('vend-failed.1'), t('vend-failed.2')];
    case 'bad-code':
      return [t('bad-code.1'), t('bad-code.2')];
    case 'not-now':
      return [t('not-now.1'), screen.hint === 'max' ? t('not-now.max', { amount: yuan(screen.maxFen ?? 0) }) : t(screen.hint === 'choose' ? 'not-now.choose' : 'not-now.wait')];
    case 'offline':
      return [t('offline.1'), t('offline.2')];
    case 'fault':
      return [t('fault.1'), t('fault.2', { fault: screen.fault })];
    case 'closed':
      return [t('closed.1')];
  }
}
