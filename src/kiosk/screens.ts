// What the customer reads on the character display, for every state they meet: the screens built from the
// texts table (`texts.ts`, overridable per key in config `display.texts`), and the fault numbers a technician
// looks up. Pure: the interaction says which screen, this says which lines.
// docs/display.md shows every screen as the customer sees it; a test keeps it equal to this file.
import { fill, textProblem, type TextKey, type Texts } from './texts.js';

/**
 * Fault numbers shown on "Out of service" screens, for the technician (docs/display.md lists them; a test keeps
 * the two equal). Numbers are never reused for another meaning.
 */
export const FAULTS = {
  F01: 'scanner not connected (unplugged, no power, wrong scanner.path): kiosk doctor',
  F02: 'system clock not set or not synchronised: no payments until it is (timedatectl)',
  F03: 'the payment engine failed on a payment in a way it did not classify: kiosk logs, kiosk status',
  F04: 'vend sensor stuck active, or no drop seen for approve.confirm.brokenAfter vends in a row: no payments until it sees a drop or goes inactive (check the chute and the wiring; kiosk selftest --sensor)',
  F05: "this kiosk's clock (or its time zone) disagrees with the payment platform's by more than payment.clockToleranceMs: no payments until it agrees (timedatectl: NTP on, time zone Asia/Shanghai; kiosk status shows by how much)",
  F06: 'MDB HAT not connected (unplugged, no power from the MDB bus, wrong mdb.path, serial console still on the UART): kiosk mdb status, docs/mdb.md',
} as const;
export type Fault = keyof typeof FAULTS;

/** What the customer is shown; the interaction picks one per state. */
export type Screen =
  | { name: 'menu'; items: readonly { item: string; amountFen: number; label?: string }[]; page: number }
  | { name: 'keyed' }
  | { name: 'typing'; amountFen: number }
  | { name: 'item'; item: string; amountFen?: number }
  | { name: 'ready'; amountFen: number }
  | { name: 'vmc' }
  | { name: 'vend'; amountFen: number; item: string }
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
    case 'vmc':
      return [t('vmc.1'), t('vmc.2')];
    case 'vend':
      return [t('vend.1'), t('vend.2', { amount: yuan(screen.amountFen), item: screen.item })];
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
