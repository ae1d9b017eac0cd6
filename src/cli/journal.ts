// `kiosk journal list [--json] [--state S] [--since ISO]` and `kiosk journal show ORDERNO [--json]`:
// the payment journal, read-only (safe while the daemon writes). Payment codes never appear: the
// journal's public queries do not select them.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ORDER_STATES, type PublicOrder } from '../journal/journal.js';
import { parseCommand, subcommand, UsageError } from './args.js';
import { CommandExit, readJournal, runCommand } from './tech/context.js';
import { EXIT, json, keyValues, processIo, table, yuan, type Io } from './tech/format.js';
import { DEFAULT_CONFIG_PATH } from '../config/index.js';


export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => journalCommand(argv, io));
}

/**
 * --db FILE, else journal.path of the config (--config, $KIOSK_CONFIG, /etc/kiosk/config.json), relative to its folder.
 */
export function journalPath(flags: Record<string, string | true>, env: NodeJS.ProcessEnv): string {
  if (typeof flags.db === 'string') return resolve(flags.db);
  const file = resolve(typeof flags.config === 'string' ? flags.config : env.KIOSK_CONFIG || DEFAULT_CONFIG_PATH);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `${file}: cannot read the config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); give --config FILE or --db FILE`);
  }
  let path: unknown;
  try {
    path = (JSON.parse(text) as { journal?: { path?: unknown } })?.journal?.path;
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `${file}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof path !== 'string' || path === '') throw new CommandExit(EXIT.USAGE, `${file}: journal.path: expected the journal file's path, got ${JSON.stringify(path)}`);
  return resolve(dirname(file), path);
}

/** What `--json` prints for an order (stable names; no payment code). */
function orderJson(o: PublicOrder): Record<string, unknown> {
  return {
    orderNo: o.orderNo,
    state: o.state,
    final: o.final,
    txnAmt: o.txnAmt,
    orderType: o.orderType,
    authCode: o.authMask,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    orderTime: o.orderTime,
    transactionId: o.transactionId,
    respCode: o.respCode,
    reversal: o.reversal,
    refundNo: o.refundNo,
    flag: o.flag,
    reason: o.reason,
  };
}

async function journalCommand(argv: readonly string[], io: Io): Promise<number> {
  const sub = subcommand('journal', argv);
  const args = parseCommand(`journal ${sub}`, argv.slice(1));
  const [orderNo] = args.positional;
  const state = typeof args.flags.state === 'string' ? args.flags.state : undefined;
  if (state !== undefined && !(ORDER_STATES as readonly string[]).includes(state)) throw new UsageError(`--state ${JSON.stringify(state)}: not a state (${ORDER_STATES.join(', ')})`);
  let since: string | undefined;
  if (typeof args.flags.since === 'string') {
    const t = Date.parse(args.flags.since);
    if (Number.isNaN(t)) throw new UsageError(`--since ${JSON.stringify(args.flags.since)}: not a date (ISO, e.g. 2026-06-01 or 2026-06-01T08:00:00Z)`);
    since = new Date(t).toISOString();
  }
  const journal = readJournal(journalPath(args.flags, io.env));
  try {
    if (sub === 'list') {
      const orders = journal.list({ state, since });
      if (args.flags.json) io.out(json(orders.map(orderJson)));
      else io.out(table(['created', 'orderNo', 'state', 'yuan', 'type', 'code', 'transactionId', 'note'], orders.map((o) => [o.createdAt.slice(0, 19).replace('T', ' '), o.orderNo, o.state, yuan(Number(o.txnAmt)), o.orderType, o.authMask, o.transactionId, o.flag ?? (o.final ? '' : o.reason)])));
      return EXIT.OK;
    }
    const o = journal.getPublic(orderNo!);
    if (!o) throw new CommandExit(EXIT.PROBLEM, `no order ${orderNo} in ${journal.file}`);
    const events = journal.events(orderNo!);
    if (args.flags.json) {
      io.out(json({ ...orderJson(o), events }));
      return EXIT.OK;
    }
    io.out(
      keyValues([
        ['orderNo', o.orderNo],
        ['state', `${o.state}${o.final ? ' (final)' : ''}`],
        ['amount', `${yuan(Number(o.txnAmt))} yuan (${o.txnAmt} fen)`],
        ['type', o.orderType],
        ['code', o.authMask],
        ['orderTime', o.orderTime],
        ['created', o.createdAt],
        ['updated', o.updatedAt],
        ['transactionId', o.transactionId],
        ['sends', `${o.sendAttempts} (${o.notSent} provably never left)`],
        ['reversal', o.reversal],
        ['refund', o.refundNo ? `${o.refundNo} ${o.refundAccepted ? 'accepted' : 'not yet accepted'}` : null],
        ['flag', o.flag],
        ['why', o.reason],
      ]),
    );
    io.out('\n' + table(['at', 'from', 'to', 'kind', 'cause', 'call', 'respCode', 'delivery', 'detail'], events.map((e) => [e.at, e.from, e.to, e.kind, e.cause, e.call, e.respCode, e.delivery, e.detail])));
    return EXIT.OK;
  } finally {
    journal.close();
  }
}
