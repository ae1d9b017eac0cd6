// `kiosk export --from yyyy-mm-dd --to yyyy-mm-dd [--csv|--json]`: orders created in those local days
// (both included), for the operator's accounting. No payment code, not even masked: accounting needs none.
import { parseCommand, usage, UsageError } from './args.js';
import { readJournal, runCommand, techConfig } from './tech/context.js';
import { EXIT, json, processIo, table, yuan, type Io } from './tech/format.js';
import { ordersCreatedBetween } from './tech/queries.js';
import { localDayRange } from '../days.js';
import type { PublicOrder } from '../journal/journal.js';

/** Export columns, in order: [heading, value]. */
const COLUMNS: ReadonlyArray<[string, (o: PublicOrder) => string]> = [
  ['orderNo', (o) => o.orderNo],
  ['orderTime', (o) => o.orderTime],
  ['createdAt', (o) => o.createdAt],
  ['orderType', (o) => o.orderType],
  ['txnAmt', (o) => o.txnAmt],
  ['amountYuan', (o) => yuan(Number(o.txnAmt))],
  ['state', (o) => o.state],
  ['final', (o) => (o.final ? 'yes' : 'no')],
  ['transactionId', (o) => o.transactionId ?? ''],
  ['respCode', (o) => o.respCode ?? ''],
  ['refundNo', (o) => o.refundNo ?? ''],
  ['refundAmt', (o) => o.refundAmt ?? ''],
  ['refundTime', (o) => o.refundTime ?? ''],
  ['goodsId', (o) => o.goodsId],
  ['goodsInfo', (o) => o.goodsInfo],
  ['updatedAt', (o) => o.updatedAt],
];

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => exportOrders(argv, io));
}

/** RFC 4180 quoting, and a leading apostrophe on text a spreadsheet would run as a formula. */
export function csvCell(v: string): string {
  const safe = /^[=+\-@\t\r]/.test(v) && !/^-?[0-9]+(\.[0-9]+)?$/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

function exportOrders(argv: readonly string[], io: Io): number {
  const args = parseCommand('export', argv);
  if (args.flags.csv && args.flags.json) throw new UsageError('--csv and --json exclude each other');
  const fromText = args.flags.from;
  const toText = args.flags.to;
  if (typeof fromText !== 'string' || typeof toText !== 'string') throw new UsageError(`--from and --to are required\n${usage('export')}`);
  const from = localDayRange(fromText);
  const to = localDayRange(toText);
  if (!from) throw new UsageError(`--from ${JSON.stringify(fromText)} is not a date (yyyy-mm-dd)`);
  if (!to) throw new UsageError(`--to ${JSON.stringify(toText)} is not a date (yyyy-mm-dd)`);
  if (from.fromIso > to.fromIso) throw new UsageError(`--from ${fromText} is after --to ${toText}`);
  const { config } = techConfig(args, io);
  const journal = readJournal(config.journal.path);
  let orders: PublicOrder[];
  try {
    orders = ordersCreatedBetween(journal, from.fromIso, to.toIso);
  } finally {
    journal.close();
  }
  if (args.flags.json) {
    io.out(json(orders.map((o) => Object.fromEntries(COLUMNS.map(([h, f]) => [h, f(o)])))));
  } else if (args.flags.csv) {
    // CRLF and a BOM-less UTF-8 header: what spreadsheet imports and accounting tools expect of CSV.
    io.out([COLUMNS.map(([h]) => h), ...orders.map((o) => COLUMNS.map(([, f]) => f(o)))].map((cells) => cells.map(csvCell).join(',') + '\r\n').join(''));
  } else {
    io.out(table(['orderNo', 'orderTime', 'type', 'amount ¥', 'state', 'transactionId', 'refund ¥'], orders.map((o) => [o.orderNo, o.orderTime, o.orderType, yuan(Number(o.txnAmt)), o.state, o.transactionId, o.refundAmt ? yuan(Number(o.refundAmt)) : undefined])));
    io.out(`${orders.length} order${orders.length === 1 ? '' : 's'} created ${fromText} … ${toText}\n`);
  }
  return EXIT.OK;
}
