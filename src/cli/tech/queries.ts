// Read-only queries the technician commands need beyond the journal's own (src/journal/journal.ts).
// Plain SQL selects order numbers only; rows are then read through Journal.getPublic so the payment code
// column is never selected here and the row shape stays the journal's.
import type { Journal, PublicOrder } from '../../journal/journal.js';

function byOrderNos(journal: Journal, orderNos: readonly { orderNo: string }[]): PublicOrder[] {
  const out: PublicOrder[] = [];
  for (const { orderNo } of orderNos) {
    const o = journal.getPublic(orderNo);
    if (o) out.push(o);
  }
  return out;
}

/** Orders created in [fromIso, toIso), oldest first. */
export function ordersCreatedBetween(journal: Journal, fromIso: string, toIso: string): PublicOrder[] {
  const rows = journal.db.prepare(`SELECT order_no AS orderNo FROM orders WHERE created_at >= ? AND created_at < ? ORDER BY seq`).all(fromIso, toIso) as { orderNo: string }[];
  return byOrderNos(journal, rows);
}

/**
 * Orders whose orderTime (yyyyMMddHHmmss) is at or after `fromOrderTime`, or that changed at or after
 * `fromIso`: everything a settlement file of those days can mention.
 */
export function ordersSince(journal: Journal, fromOrderTime: string, fromIso: string): PublicOrder[] {
  const rows = journal.db.prepare(`SELECT order_no AS orderNo FROM orders WHERE order_time >= ? OR updated_at >= ? ORDER BY seq`).all(fromOrderTime, fromIso) as { orderNo: string }[];
  return byOrderNos(journal, rows);
}

/** Refunds (amount fen) completed or under way per payment type, for orders changed in [fromIso, toIso). */
export function refundsBetween(journal: Journal, fromIso: string, toIso: string): PublicOrder[] {
  const rows = journal.db
    .prepare(`SELECT order_no AS orderNo FROM orders WHERE state IN ('refunded', 'refunding') AND updated_at >= ? AND updated_at < ? ORDER BY seq`)
    .all(fromIso, toIso) as { orderNo: string }[];
  return byOrderNos(journal, rows);
}

/** Orders needing a person: in `attention`, or flagged, or unfinished for longer than `olderThanIso`. */
export function attentionList(journal: Journal, olderThanIso: string): PublicOrder[] {
  const rows = journal.db
    .prepare(`SELECT order_no AS orderNo FROM orders WHERE state = 'attention' OR flag IS NOT NULL OR (final = 0 AND created_at < ?) ORDER BY seq`)
    .all(olderThanIso) as { orderNo: string }[];
  return byOrderNos(journal, rows);
}
