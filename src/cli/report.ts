// `kiosk report [--day yyyy-mm-dd]`: the takings of one (local) day by payment type and state, the
// refunds made that day, and the orders that need a person. Never shows a payment code.
// Exit 0, or 1 when the attention list is not empty (so a cron job can alert), 2 on bad input.
import { parseCommand, UsageError } from './args.js';
import { readJournal, runCommand, techConfig } from './tech/context.js';
import { EXIT, json, processIo, table, yuan, type Io } from './tech/format.js';
import { attentionList, refundsBetween } from './tech/queries.js';
import { localDayRange } from '../days.js';

/** An unfinished order older than this needs a look (recovery normally settles one within minutes). */
export const STUCK_AFTER_MS = 60 * 60 * 1000;
/** States in which the customer's money stayed with the merchant. */
const TAKEN = new Set(['delivered']);

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io, now: () => Date = () => new Date()): Promise<number> {
  return runCommand(io, () => report(argv, io, now));
}

function today(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
}

function report(argv: readonly string[], io: Io, now: () => Date): number {
  const args = parseCommand('report', argv);
  const day = typeof args.flags.day === 'string' ? args.flags.day : today(now());
  const range = localDayRange(day);
  if (!range) throw new UsageError(`--day ${JSON.stringify(day)} is not a date (yyyy-mm-dd)`);
  const { config } = techConfig(args, io);
  const journal = readJournal(config.journal.path);
  let takings, products, refunds, attention, lastSettlement;
  try {
    takings = journal.dayReport(range.fromIso, range.toIso).map((r) => ({ ...r, amountFen: Number(r.amountFen ?? 0) }));
    products = journal.dayProducts(range.fromIso, range.toIso).map((r) => ({ ...r, amountFen: Number(r.amountFen ?? 0) }));
    refunds = refundsBetween(journal, range.fromIso, range.toIso).map((o) => ({
      orderNo: o.orderNo,
      orderType: o.orderType,
      state: o.state,
      refundNo: o.refundNo,
      amountFen: Number(o.refundAmt ?? o.txnAmt),
      at: o.updatedAt,
      productId: o.productId,
    }));
    attention = attentionList(journal, new Date(now().getTime() - STUCK_AFTER_MS).toISOString()).map((o) => ({
      orderNo: o.orderNo,
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- widened: 'absent' rows join below
      state: o.state as string,
      orderType: o.orderType,
      amountFen: Number(o.txnAmt),
      createdAt: o.createdAt,
      productId: o.productId,
      why: o.state === 'attention' ? (o.reason ?? 'needs attention') : o.flag ? `flag: ${o.flag}` : `unfinished since ${o.createdAt}`,
    }));
    // Settlement mismatches about an order the journal does not have (a platform charge unknown here).
    for (const f of journal.settleFindings(undefined, { open: true })) {
      if (journal.getPublic(f.orderNo)) continue;
      attention.push({ orderNo: f.orderNo, state: 'absent', orderType: '', amountFen: NaN, createdAt: f.at, productId: null, why: `settlement ${f.stlDate}: ${f.reason}` });
    }
    lastSettlement = journal.lastReconciliation();
  } finally {
    journal.close();
  }

  const byType = new Map<string, { count: number; takenFen: number }>();
  for (const r of takings) {
    const t = byType.get(r.orderType) ?? { count: 0, takenFen: 0 };
    if (TAKEN.has(r.state)) {
      t.count += r.count;
      t.takenFen += r.amountFen;
    }
    byType.set(r.orderType, t);
  }
  const refundedFen = refunds.filter((r) => r.state === 'refunded').reduce((s, r) => s + r.amountFen, 0);
  const takenFen = [...byType.values()].reduce((s, t) => s + t.takenFen, 0);
  const code = attention.length > 0 ? EXIT.PROBLEM : EXIT.OK;

  if (args.flags.json) {
    io.out(
      json({
        day: range.ymd.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3'),
        deviceId: config.deviceId,
        takings,
        byType: Object.fromEntries(byType),
        takenFen,
        products,
        refunds,
        refundedFen,
        attention: attention.map((a) => (Number.isNaN(a.amountFen) ? { ...a, amountFen: null } : a)),
        lastSettlement: lastSettlement ?? null,
      }),
    );
    return code;
  }
  io.out(`kiosk ${config.deviceId}, ${day}\n\ntakings by payment type and state (orders created that day)\n`);
  io.out(table(['type', 'state', 'orders', 'amount ¥'], takings.map((r) => [r.orderType, r.state, r.count, yuan(r.amountFen)])));
  io.out('\ndelivered (money kept) by payment type\n');
  io.out(table(['type', 'orders', 'amount ¥'], [...byType].map(([t, v]) => [t, v.count, yuan(v.takenFen)])));
  if (products.length) {
    io.out('\nvending machine products (mdb), by state\n');
    io.out(table(['product', 'state', 'orders', 'amount ¥'], products.map((r) => [r.productId, r.state, r.count, yuan(r.amountFen)])));
  }
  io.out(`\nrefunds that day\n`);
  io.out(table(['orderNo', 'type', 'state', 'refundNo', 'amount ¥', 'at', 'product'], refunds.map((r) => [r.orderNo, r.orderType, r.state, r.refundNo, yuan(r.amountFen), r.at, r.productId ?? ''])));
  // No "net": a refund today may belong to an earlier day's order, and today's refunded orders are not in "delivered".
  io.out(`\ndelivered ${yuan(takenFen)}; refunds completed that day ${yuan(refundedFen)}\n`);
  io.out(`\nneeds attention (any day)\n`);
  io.out(table(['orderNo', 'state', 'type', 'amount ¥', 'created', 'product', 'why'], attention.map((a) => [a.orderNo, a.state, a.orderType, Number.isNaN(a.amountFen) ? '' : yuan(a.amountFen), a.createdAt, a.productId ?? '', a.why])));
  io.out(`\nlast settlement reconciliation\n`);
  if (!lastSettlement) io.out('none yet (the daemon fetches the previous day\'s file after daemon.settleAt; or kiosk settle --fetch)\n');
  else {
    const sm = lastSettlement.summary as { rows?: number; file?: string; mismatches?: number };
    const d = lastSettlement.stlDate.replace(/^(\d{4})(\d{2})(\d{2})$/, '$1-$2-$3');
    io.out(`${d}: ${lastSettlement.ok ? 'all matched' : `${lastSettlement.findings.length} mismatch(es)`}, ${sm.rows ?? '?'} rows, checked ${lastSettlement.at}${sm.file ? `, file ${sm.file}` : ''}\n`);
    for (const f of lastSettlement.findings) io.out(`  ${f.orderNo}: ${f.reason}\n`);
  }
  return code;
}
