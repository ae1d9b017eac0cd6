// `kiosk settle FILE.csv…`: the platform's daily settlement file against the journal.
// Exit 0 all matched, 1 anything does not match, 2 bad input (unreadable file, malformed rows, bad config).
import { readFileSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { parseCommand, usage, UsageError } from './args.js';
import { CommandExit, readJournal, runCommand, techConfig } from './tech/context.js';
import { EXIT, json, processIo, table, yuan, type Io } from './tech/format.js';
import { decodeSettlement, parseSettlement, type SettlementProblem, type SettlementRow } from '../umpay/settlement.js';
import { ADVICE, compareSettlement, localDay, OK_KINDS, type Finding } from '../payment/settle-compare.js';
import { ordersSince } from './tech/queries.js';
import { localDayRange } from '../days.js';
import { openJournal } from '../journal/journal.js';
import { silentLogger } from '../log.js';
import { fetchAndReconcile, previousDay, type SettleDayResult } from '../payment/settle-day.js';
import { gatewayFromConfig } from '../kiosk/wiring.js';

// One day's file for a whole service provider (acqSpId), ~250 bytes a row: 64 MiB is ~250,000 rows.
const MAX_SETTLEMENT_BYTES = 64 * 1024 * 1024;

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => (argv.includes('--fetch') ? settleFetch(argv, io) : argv.includes('--ack') ? settleAck(argv, io) : settle(argv, io)));
}

/** `--ack ORDERNO --note TEXT`: the mismatch was dealt with (refunded by hand, explained by support…). */
function settleAck(argv: readonly string[], io: Io): number {
  const args = parseCommand('settle', argv);
  const orderNo = typeof args.flags.ack === 'string' ? args.flags.ack : '';
  const note = typeof args.flags.note === 'string' ? args.flags.note.trim() : '';
  if (!orderNo) throw new UsageError(`--ack needs the order number\n${usage('settle')}`);
  if (!note) throw new UsageError('--note TEXT is required: say what was done (it is kept in the journal)');
  const { config } = techConfig(args, io);
  let journal;
  try {
    journal = openJournal(config.journal.path);
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `${config.journal.path}: ${(err as Error).message}`);
  }
  try {
    const n = journal.ackSettleFindings(orderNo, note, new Date().toISOString());
    if (n === 0) {
      io.err(`kiosk: ${orderNo}: no open settlement mismatch\n`);
      return EXIT.PROBLEM;
    }
    io.out(`${orderNo}: ${n} settlement mismatch${n === 1 ? '' : 'es'} acknowledged\n`);
    return EXIT.OK;
  } finally {
    journal.close();
  }
}

/** `--fetch`: the platform's file for the day, reconciled and recorded as the daemon does it once a day. */
async function settleFetch(argv: readonly string[], io: Io): Promise<number> {
  const args = parseCommand('settle', argv);
  if (args.positional.length) throw new UsageError(`--fetch takes no file (${JSON.stringify(args.positional[0])})\n${usage('settle')}`);
  const dateFlag = typeof args.flags.date === 'string' ? args.flags.date : undefined;
  const day = dateFlag === undefined ? previousDay(new Date()) : localDayRange(dateFlag)?.ymd;
  if (!day) throw new UsageError(`--date ${JSON.stringify(dateFlag)} is not a date (yyyy-mm-dd)`);
  const { config } = techConfig(args, io, true);
  let journal;
  try {
    journal = openJournal(config.journal.path);
  } catch (err) {
    throw new CommandExit(EXIT.USAGE, `${config.journal.path}: ${(err as Error).message}`);
  }
  const http = gatewayFromConfig(config, silentLogger);
  let r: SettleDayResult;
  try {
    r = await fetchAndReconcile(
      { download: (d, dir) => http.downloadSettleFile(d, dir), journal, deviceId: config.deviceId, acqMerId: config.merchant.acqMerId, dir: config.daemon.settleDir },
      day,
    );
  } finally {
    http.close();
    journal.close();
  }
  const code = r.kind === 'reconciled' ? (r.ok ? EXIT.OK : EXIT.PROBLEM) : EXIT.PROBLEM;
  if (args.flags.json) {
    const { comparison: _c, ...rest } = r as SettleDayResult & { comparison?: unknown };
    io.out(json({ ...rest, exitCode: code }));
    return code;
  }
  if (r.kind !== 'reconciled') {
    io.out(`settlement ${fmtDay(day)}: no file compared: ${r.cause}\n(exit ${code}; the daemon retries by itself)\n`);
    return code;
  }
  io.out(`settlement ${fmtDay(day)}: ${r.file} (${r.bytes} bytes, ${r.charset}), ${r.rows} row${r.rows === 1 ? '' : 's'}\n`);
  if (r.mismatches.length === 0) io.out(`all matched (exit ${code})\n`);
  else {
    io.out(table(['orderNo', 'result', 'reason'], r.mismatches.map((m) => [m.orderNo, m.kind, m.reason])));
    io.out(`\n${r.mismatches.length} order${r.mismatches.length === 1 ? '' : 's'} do not match: on the attention list (kiosk report) (exit ${code})\n`);
  }
  return code;
}

function settle(argv: readonly string[], io: Io): number {
  const args = parseCommand('settle', argv);
  if (args.positional.length === 0) throw new UsageError(`no settlement file given\n${usage('settle')}`);
  const dateFlag = typeof args.flags.date === 'string' ? args.flags.date : undefined;
  const flagDay = dateFlag === undefined ? undefined : localDayRange(dateFlag);
  if (dateFlag !== undefined && !flagDay) throw new UsageError(`--date ${JSON.stringify(dateFlag)} is not a date (yyyy-mm-dd)`);

  // Read every file first: a bad file is bad input, whatever the journal says.
  const rows: SettlementRow[] = [];
  const problems: (SettlementProblem & { file: string })[] = [];
  const days = new Set<string>();
  const files: { file: string; rows: number; header: boolean; day?: string }[] = [];
  for (const file of args.positional) {
    let data: Buffer;
    try {
      // A device (/dev/zero) never ends and a huge wrong file fills memory: on the kiosk the OOM killer may
      // pick the daemon.
      const st = statSync(file);
      if (!st.isFile() && !st.isDirectory()) throw new CommandExit(EXIT.USAGE, `${file}: not a regular file`);
      if (st.size > MAX_SETTLEMENT_BYTES) {
        throw new CommandExit(EXIT.USAGE, `${file}: ${(st.size / 1048576).toFixed(1)} MiB, larger than a settlement file can be (${MAX_SETTLEMENT_BYTES / 1048576} MiB): the wrong file?`);
      }
      data = readFileSync(file);
    } catch (err) {
      if (err instanceof CommandExit) throw err;
      const e = err as NodeJS.ErrnoException;
      throw new CommandExit(EXIT.USAGE, `${file}: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a folder' : e.message}`);
    }
    const parsed = parseSettlement(decodeSettlement(data), basename(file));
    for (const p of parsed.problems) problems.push({ ...p, file });
    // The day: --date, else the file name, else the days the rows' pay times fall on.
    const day = flagDay?.ymd ?? parsed.nameDate;
    if (day) days.add(day);
    else for (const r of parsed.rows) if (r.state === 'SUCCESS') days.add(r.payTime.slice(0, 8));
    rows.push(...parsed.rows.map((r) => ({ ...r, fields: { ...r.fields, file } })));
    files.push({ file, rows: parsed.rows.length, header: parsed.header, day });
  }

  const { config } = techConfig(args, io);
  const journal = readJournal(config.journal.path);
  let cmp;
  try {
    const first = [...days].sort()[0];
    // Everything from the day before the earliest day: an order placed before midnight may settle the next day.
    const from = first ? localDayRange(first)! : undefined;
    const dayBefore = from ? new Date(new Date(from.fromIso).getTime() - 86_400_000) : undefined;
    const ordersOnDays = from && dayBefore ? ordersSince(journal, localDay(dayBefore.toISOString()) + '000000', dayBefore.toISOString()) : [];
    cmp = compareSettlement({
      rows,
      lookup: (no) => journal.getPublic(no),
      ordersOnDays,
      days,
      deviceId: config.deviceId,
      acqMerId: config.merchant.acqMerId,
      runIds: new Set(journal.identity().runs.map((r) => r.runId)),
    });
  } finally {
    journal.close();
  }

  const badInput = problems.length > 0;
  const code = badInput ? EXIT.USAGE : cmp.ok ? EXIT.OK : EXIT.PROBLEM;
  const shown = args.flags.all ? cmp.findings : cmp.findings.filter((f) => !OK_KINDS.has(f.kind));

  if (args.flags.json) {
    io.out(
      json({
        ok: cmp.ok && !badInput,
        exitCode: code,
        files,
        days: [...days].sort(),
        counts: cmp.counts,
        otherTerminals: cmp.otherTerminals,
        failedConsistent: cmp.failedConsistent,
        totals: cmp.totals,
        findings: shown.map((f) => ({ ...f, advice: ADVICE[f.kind] || undefined })),
        malformed: problems,
      }),
    );
    return code;
  }

  for (const f of files) {
    io.out(`${f.file}: ${f.rows} row${f.rows === 1 ? '' : 's'}${f.header ? ' (header skipped)' : ''}${f.day ? `, day ${fmtDay(f.day)}` : ''}\n`);
  }
  if (days.size === 0) io.out('day unknown (no date in the file name, no payments, no --date): "delivered here, absent there" not checked\n');
  io.out(
    `this kiosk: paid there ${yuan(cmp.totals.paidThereFen)}, refunded there ${yuan(cmp.totals.refundedThereFen)}, delivered here ${yuan(cmp.totals.deliveredHereFen)}` +
      `; other terminals' rows: ${cmp.otherTerminals}; failed and not delivered: ${cmp.failedConsistent}\n\n`,
  );
  const countRows = Object.entries(cmp.counts)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => [k, n, OK_KINDS.has(k as Finding['kind']) ? 'ok' : 'CHECK']);
  io.out(table(['result', 'orders', 'status'], countRows));
  if (shown.length > 0) {
    io.out('\n');
    io.out(
      table(
        ['result', 'orderNo', 'line', 'here', 'here ¥', 'there', 'there ¥', 'note'],
        shown.map((f) => {
          const here = f.hereAmountFen === undefined ? undefined : yuan(f.hereAmountFen);
          const there = f.thereAmountFen === undefined ? undefined : yuan(f.thereAmountFen);
          return [f.kind, f.orderNo, f.line, f.hereState, here, f.thereState, there, f.note];
        }),
      ),
    );
    const kinds = [...new Set(shown.map((f) => f.kind))].filter((k) => ADVICE[k]);
    if (kinds.length) {
      io.out('\nwhat to do:\n');
      for (const k of kinds) io.out(`  ${k}: ${ADVICE[k]}\n`);
    }
  }
  if (badInput) {
    io.out(`\n${problems.length} malformed row${problems.length === 1 ? '' : 's'} (not compared):\n`);
    for (const p of problems) io.out(`  ${p.file}:${p.line}: ${p.message}\n`);
  }
  const mismatches = cmp.findings.filter((f) => !OK_KINDS.has(f.kind)).length;
  io.out(
    `\n${badInput ? 'BAD INPUT: fix or re-download the file' : mismatches === 0 ? 'all matched' : `${mismatches} order${mismatches === 1 ? '' : 's'} do not match`} (exit ${code})\n`,
  );
  return code;
}

function fmtDay(ymd: string): string {
  return `${ymd.slice(0, 4)}-${ymd.slice(4, 6)}-${ymd.slice(6, 8)}`;
}
