// The customer texts of the character display: one table (English, ASCII plus '¥' which the HD44780 ROM A00
// has), overridable per key in config (`display.texts`). A leaf module: the config checks operator overrides
// against it (src/config/display.ts) without depending on the rest of the kiosk; the screens are `screens.ts`.

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
  'vmc.1': 'Choose on the',
  'vmc.2': 'machine first',
  'vend.1': 'Scan to pay',
  'vend.2': '{amount} for {item}',
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
