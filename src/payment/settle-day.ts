// One day's settlement, fetched and reconciled without a technician: the platform's file for `stlDate` is
// downloaded (signed GET), parsed, compared with the journal, and the result stored in the journal; every mismatch
// becomes a settle_findings row and flags its order, so it is on the attention list (`kiosk report`) with a reason.
// Used by the daemon once a day and by `kiosk settle --fetch`.
import { rmSync, statSync } from 'node:fs';
import type { Journal, PublicOrder } from '../journal/journal.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { SettleDownload } from '../umpay/client.js';
import type { SettlementRow } from '../umpay/settlement.js';
import { parseSettlementFile, type KeepRows, type ParsedFile } from '../umpay/settle-parse.js';
import { orderNoPrefix } from '../journal/orderno.js';
import { compareSettlement, isOurOrderNo, OK_KINDS, type CompareInput, type Comparison, type Finding } from './settle-compare.js';
import { formatOrderTime } from '../umpay/messages.js';

export interface SettleDayDeps {
  /** HttpGateway.downloadSettleFile (or a double). */
  download(stlDate: string, dir: string): Promise<SettleDownload>;
  journal: Journal;
  deviceId: string;
  acqMerId: string;
  /** Folder the files are kept in (created 0700). */
  dir: string;
  now?: () => Date;
  log?: Logger;
  /**
   * Resolves when the kiosk has no customer (at once when it has none): awaited before each step that writes to
   * the disk or takes the CPU for long (reading and parsing the file, the journal write), so that a payment that
   * starts meanwhile never waits for the settlement. The download gets it too (deps.download's caller).
   */
  whenFree?: () => Promise<void>;
}

export type SettleDayResult =
  | { kind: 'reconciled'; stlDate: string; ok: boolean; file: string; bytes: number; charset: string; rows: number; mismatches: Mismatch[]; newFindings: number; comparison: Comparison }
  /** The platform answered instead of sending a file (signed or not): nothing compared, try again later. */
  | { kind: 'answered'; stlDate: string; respCode: string; respMsg: string; signatureValid: boolean; cause: string }
  /** No usable file: transport error, cut short, damaged. Nothing compared, try again later. */
  | { kind: 'failed'; stlDate: string; cause: string; file?: string };

export interface Mismatch {
  orderNo: string;
  kind: Finding['kind'];
  reason: string;
}

const yuan = (fen: number | undefined) => (fen === undefined ? '?' : `¥${(fen / 100).toFixed(2)}`);

/** The reason a person reads on the attention list, per finding. */
export function mismatchReason(f: Finding): string {
  switch (f.kind) {
    case 'paid-not-delivered':
      return f.hereState === 'absent'
        ? `platform charged ${yuan(f.thereAmountFen)} for an order the journal does not know`
        : `platform charged ${yuan(f.thereAmountFen)}, here the order is ${f.hereState} (product not released)`;
    case 'delivered-absent-there':
      return `delivered here (${yuan(f.hereAmountFen)}), the platform's file has no payment for it${f.note ? ` (${f.note})` : ''}`;
    case 'amount-mismatch':
      return `amount differs: here ${yuan(f.hereAmountFen)}, platform ${yuan(f.thereAmountFen)} (${f.thereState})`;
    case 'refund-absent-there':
      return `returned here (${f.hereState}, ${yuan(f.hereAmountFen)}), the platform's file shows no refund`;
    case 'refund-unexpected':
      return `platform refunded ${yuan(f.thereAmountFen)}, not made by this kiosk (here: ${f.hereState})`;
    case 'delivered-but-failed-there':
      return `delivered here, the platform says the payment failed`;
    case 'paid-twice':
      return `platform settled the order twice (${f.note ?? ''})`;
    case 'fee-mismatch':
      return `fees: ${f.note ?? 'do not add up'}`;
    default:
      return f.note ?? f.kind;
  }
}

/** The local day of `d`, yyyyMMdd. */
export const localYmd = (d: Date): string => formatOrderTime(d).slice(0, 8);

/** The local day before `now`, yyyyMMdd. */
export function previousDay(now: Date): string {
  return localYmd(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1));
}

/**
 * Compares parsed rows of `stlDate` with the journal. `known`: which of the rows' order numbers the journal has
 * (ordersKnown); without it each row is looked up here.
 */
export function compareDay(journal: Journal, rows: readonly SettlementRow[], stlDate: string, deviceId: string, acqMerId: string, known?: ReadonlySet<string>): Comparison {
  const before = dayBefore(stlDate);
  const ordersOnDays: PublicOrder[] = journal.ordersForSettlement(localYmd(before), before.toISOString());
  // A row's order the journal did not have then does not appear later (order numbers are never made again); one
  // it had is read now, as it is.
  // Stryker disable next-line ArrowFunction: equivalent but for speed (the lookup below)
  const inRows = known && new Set(rows.map((r) => r.orderNo));
  // Stryker disable next-line ConditionalExpression,ArrowFunction: equivalent but for speed, skips empty lookups
  const lookup = (no: string) => (inRows?.has(no) && !known!.has(no) ? undefined : journal.getPublic(no));
  return compareWithJournal(journal, { rows, lookup, ordersOnDays, stlDate, deviceId, acqMerId });
}

/** compareSettlement of one day's rows, with this journal's run ids. */
function compareWithJournal(journal: Journal, c: Pick<CompareInput, 'rows' | 'lookup' | 'ordersOnDays' | 'deviceId' | 'acqMerId'> & { stlDate: string }): Comparison {
  const runIds = new Set(journal.identity().runs.map((r) => r.runId));
  return compareSettlement({ rows: c.rows, lookup: c.lookup, ordersOnDays: c.ordersOnDays, days: new Set([c.stlDate]), deviceId: c.deviceId, acqMerId: c.acqMerId, runIds });
}

/** The local start of the day before `stlDate`: an order placed before midnight may settle on the file's day. */
function dayBefore(stlDate: string): Date {
  return new Date(Number(stlDate.slice(0, 4)), Number(stlDate.slice(4, 6)) - 1, Number(stlDate.slice(6, 8)) - 1);
}

/**
 * compareDay with its reads done first, `page` orders at a time with `between` awaited after each (the orders of
 * the file's days, then those of the rows), each order read once; the comparison itself then reads nothing. The
 * same result as compareDay over a journal that does not change meanwhile.
 */
export async function compareDayPaced(
  journal: Journal,
  rows: readonly SettlementRow[],
  stlDate: string,
  deviceId: string,
  acqMerId: string,
  between: () => Promise<void>,
  page = 50,
): Promise<Comparison> {
  const before = dayBefore(stlDate);
  const turn = async (): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    await between();
  };
  const byNo = new Map<string, PublicOrder>();
  const ordersOnDays: PublicOrder[] = [];
  for (let got = journal.ordersForSettlementPage(localYmd(before), before.toISOString(), -1, page); got.length > 0; ) {
    for (const o of got) {
      ordersOnDays.push(o);
      byNo.set(o.orderNo, o);
    }
    await turn();
    got = journal.ordersForSettlementPage(localYmd(before), before.toISOString(), got.at(-1)!.seq, page);
  }
  const rest = [...new Set(rows.map((r) => r.orderNo))].filter((no) => !byNo.has(no));
  // Stryker disable next-line EqualityOperator: equivalent, one more empty slice (publicOrders([]) finds none)
  for (let i = 0; i < rest.length; i += page) {
    // Stryker disable next-line MethodExpression: equivalent but for speed, reading them all each page finds the same
    for (const o of journal.publicOrders(rest.slice(i, i + page))) byNo.set(o.orderNo, o);
    await turn();
  }
  return compareWithJournal(journal, { rows, lookup: (no) => byNo.get(no), ordersOnDays, stlDate, deviceId, acqMerId });
}

/**
 * Records a day's mismatches `slice` at a time (each its own transaction, `between` awaited after each), then the
 * day: a day with many mismatches is not one long write. Returns how many mismatches were new.
 */
export async function recordDay(
  journal: Journal,
  day: { stlDate: string; at: string; ok: boolean; summary: Record<string, unknown> },
  mismatches: readonly Mismatch[],
  between: () => Promise<void>,
  slice = 10,
): Promise<number> {
  let newFindings = 0;
  for (let i = 0; i < mismatches.length; i += slice) {
    newFindings += journal.recordSettleFindings(day.stlDate, day.at, mismatches.slice(i, i + slice));
    await new Promise((r) => setImmediate(r));
    await between();
  }
  // A finding with no order number is ignored (INSERT OR IGNORE: NOT NULL).
  // Stryker disable next-line ArrayDeclaration: equivalent, as just said
  journal.recordReconciliation({ ...day, findings: [] });
  return newFindings;
}

/**
 * Which of the rows' order numbers the journal has, a slice at a time with `between` awaited after each: a
 * provider's file has tens of thousands of rows, and a lookup each is most of the comparison's time.
 */
export async function ordersKnown(journal: Journal, rows: readonly SettlementRow[], between: () => Promise<void>, slice = 1000): Promise<Set<string>> {
  const known = new Set<string>();
  // Stryker disable next-line EqualityOperator: equivalent, one more empty slice
  for (let i = 0; i < rows.length; i += slice) {
    // Stryker disable next-line MethodExpression: equivalent but for speed, every row at each slice finds the same
    for (const no of journal.knownOrderNos(rows.slice(i, i + slice).map((r) => r.orderNo))) known.add(no);
    await new Promise((r) => setImmediate(r));
    await between();
  }
  return known;
}

/**
 * The rows compareSettlement would count as other terminals' and pass over (an order number neither the journal has
 * nor of this kiosk's form), counted and set aside a slice at a time with `between` awaited after each: the
 * comparison over the rest is the same, otherTerminals plus `others`.
 */
export async function setAsideOthers(
  rows: readonly SettlementRow[],
  known: ReadonlySet<string>,
  deviceId: string,
  between: () => Promise<void>,
  slice = 5000,
): Promise<{ ours: SettlementRow[]; others: number }> {
  const ours: SettlementRow[] = [];
  let others = 0;
  // Stryker disable next-line EqualityOperator: equivalent, one more empty slice
  for (let i = 0; i < rows.length; i += slice) {
    for (const r of rows.slice(i, i + slice)) {
      if (known.has(r.orderNo) || isOurOrderNo(r.orderNo, deviceId)) ours.push(r);
      else others++;
    }
    await new Promise((r) => setImmediate(r));
    await between();
  }
  return { ours, others };
}

/**
 * Which rows of a file the comparison can count as this kiosk's (the parse worker sends only those; the rest it
 * counts): an order number of this kiosk's form starts with the device prefix, and one the journal has that does
 * not (made under an earlier deviceId) is named, read from the journal a page at a time with `between` awaited after
 * each. Every row compareSettlement would not set aside is kept (a superset: the exact test is setAsideOthers').
 * Undefined (every row) when the deviceId has no prefix.
 */
export async function keepRows(journal: Journal, deviceId: string, between: () => Promise<void>, page = 1000): Promise<KeepRows | undefined> {
  let prefix: string;
  try {
    prefix = orderNoPrefix(deviceId);
  } catch {
    return undefined;
  }
  const named: string[] = [];
  for (let got = journal.orderNosWithout(prefix, '', page); got.length > 0; got = journal.orderNosWithout(prefix, got.at(-1), page)) {
    named.push(...got);
    await new Promise((r) => setImmediate(r));
    await between();
  }
  return { prefix, orderNos: named.join('\n') };
}

/** Downloads, parses, compares and records one day. Never throws for the network or the file. */
export async function fetchAndReconcile(deps: SettleDayDeps, stlDate: string): Promise<SettleDayResult> {
  const log = deps.log ?? silentLogger;
  const now = deps.now ?? (() => new Date());
  const got = await deps.download(stlDate, deps.dir);
  if (got.kind === 'failed') return { kind: 'failed', stlDate, cause: got.cause };
  if (got.kind === 'answer') {
    const said = `respCode ${got.respCode}${got.respMsg ? ` (${got.respMsg})` : ''}`;
    const cause = got.signatureValid ? `the platform answered ${said} instead of the file` : `an answer that does not verify with the platform key (${said}) instead of the file`;
    return { kind: 'answered', stlDate, respCode: got.respCode, respMsg: got.respMsg, signatureValid: got.signatureValid, cause };
  }
  // Stryker disable next-line ArrowFunction: equivalent, awaiting undefined does not wait either
  const free = deps.whenFree ?? (() => Promise.resolve());
  await free();
  let parsed: ParsedFile;
  try {
    if (statSync(got.path).size !== got.bytes) return { kind: 'failed', stlDate, cause: `${got.path} changed after the download`, file: got.path };
    // Read, decoded and parsed in a worker thread: a provider's file is tens of megabytes (seconds on a Pi), and a
    // damaged one may be one long record; the rows arrive in batches, a customer's scan goes between any two.
    // Only the rows that can be this kiosk's come back (a provider's file is nearly all other terminals' rows: 230,000
    // of them held and compared here took over a second on this loop); the others are counted there.
    // Stryker disable next-line StringLiteral: equivalent, the date in the file's name is not used here (stlDate is)
    parsed = await parseSettlementFile(got.path, got.path.split('/').pop(), await keepRows(deps.journal, deps.deviceId, free));
  } catch (err) {
    return { kind: 'failed', stlDate, cause: `${got.path}: ${(err as Error).message}`, file: got.path };
  }
  const { charset } = parsed;
  // A damaged file is not compared: a row read wrongly would accuse a good order, or hide a bad one.
  if (charset === 'unknown' || parsed.problemCount > 0) {
    const first = parsed.problems[0];
    const why = charset === 'unknown' ? 'bytes that are neither UTF-8 nor GBK' : `${parsed.problemCount} unreadable row(s), first at line ${first!.line}: ${first!.message}`;
    const sample = parsed.sample.replace(/\s+/g, ' ');
    // Written by this call a moment ago (a new name, never an existing file): removed, so that retries during a
    // day of captive-portal pages or cut-off files do not pile up copies; what it held is in the cause.
    // Stryker disable next-line ObjectLiteral,BooleanLiteral: equivalent, the file is there (read just above)
    rmSync(got.path, { force: true });
    return { kind: 'failed', stlDate, cause: `damaged file (${why}; it began: ${JSON.stringify(sample)})` };
  }
  const known = await ordersKnown(deps.journal, parsed.rows, free);
  const { ours, others } = await setAsideOthers(parsed.rows, known, deps.deviceId, free);
  // Over this kiosk's rows only, the journal read a page at a time first: no step holds a customer's scan for long.
  const comparison = await compareDayPaced(deps.journal, ours, stlDate, deps.deviceId, deps.acqMerId, free);
  comparison.otherTerminals += others + parsed.setAside;
  const mismatches = comparison.findings.filter((f) => !OK_KINDS.has(f.kind)).map((f) => ({ orderNo: f.orderNo, kind: f.kind, reason: mismatchReason(f) }));
  const summary = {
    file: got.path,
    bytes: got.bytes,
    charset,
    rows: parsed.rowCount,
    counts: comparison.counts,
    totals: comparison.totals,
    otherTerminals: comparison.otherTerminals,
    mismatches: mismatches.length,
  };
  await free();
  const newFindings = await recordDay(deps.journal, { stlDate, at: now().toISOString(), ok: mismatches.length === 0, summary }, mismatches, free);
  for (const m of mismatches) log.warn({ event: 'attention', orderNo: m.orderNo, reason: `settlement ${stlDate}: ${m.reason}`, kind: m.kind }, 'order needs attention');
  return { kind: 'reconciled', stlDate, ok: mismatches.length === 0, file: got.path, bytes: got.bytes, charset, rows: parsed.rowCount, mismatches, newFindings, comparison };
}
