// `kiosk umpay ...`: what a technician needs when the platform's support asks "what exactly did you sign?".
// Exit codes: 0 verified answer (verify: valid), 1 verify: not valid, 2 bad input, 3 no trustworthy answer.
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { previousDay } from '../payment/settle-day.js';
import { intFlag, parseCommand, requireFlag, stringFlag, subcommand, UsageError, type ParsedArgs } from './args.js';
import { javaRequestPlaintext, wireText, type WireValue } from '../umpay/canonical.js';
import { KeyError, loadPrivateKey, loadPublicKey, loadCaCertificates } from '../umpay/keys.js';
import { answerRule, signRequest } from '../umpay/signature.js';
import { parseWireJson } from '../umpay/json.js';
import { classifyAuthCode, maskAuthCode } from '../umpay/authcode.js';
import { CALL_FIELDS, FieldError, formatOrderTime, PATHS, type FieldsByCall } from '../umpay/messages.js';
import { HttpGateway } from '../umpay/client.js';
import type { CallName } from '../umpay/types.js';

const CALLS: Record<string, CallName> = {
  micropay: 'micropay',
  query: 'queryOrder',
  cancel: 'cancelOrder',
  close: 'closeOrder',
  refund: 'refund',
  'refund-query': 'refundQuery',
};


export async function main(argv: string[]): Promise<number> {
  try {
    const command = subcommand('umpay', argv)!;
    const args = parseCommand(`umpay ${command}`, argv.slice(1));
    if (command === 'sign') return await sign(args);
    if (command === 'verify') return await verify(args);
    if (command === 'check') return await check(args);
    return await send(CALLS[command]!, args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof KeyError || err instanceof FieldError) {
      process.stderr.write(`kiosk umpay: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * One JSON object from stdin. A request (`sign`) must quote every value: an unquoted long number is refused. An
 * answer (`verify`) is taken as sent: numbers keep their exact text (parseWireJson), as the platform signed it.
 */
async function readStdinObject(kind: 'request' | 'answer' = 'request'): Promise<Record<string, WireValue>> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new UsageError('stdin is empty: expected one JSON object');
  let v: unknown;
  try {
    v = kind === 'answer' ? parseWireJson(text) : JSON.parse(text);
  } catch (err) {
    throw new UsageError(`stdin is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('stdin must hold one JSON object');
  if (kind === 'request') inexactNumber(v, '');
  return v as Record<string, WireValue>;
}

/** JSON.parse silently rounds integers past 2^53 (an unquoted payment code): signing that would sign another value. */
function inexactNumber(v: unknown, path: string): void {
  if (typeof v === 'number' && Number.isInteger(v) && !Number.isSafeInteger(v)) {
    throw new UsageError(`stdin field ${path}: a number too large to be exact; quote it as a string`);
  }
  if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) inexactNumber(x, path ? `${path}.${k}` : k);
}

function print(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

async function sign(args: ParsedArgs): Promise<number> {
  const key = loadPrivateKey(requireFlag(args, 'key'));
  const fields = await readStdinObject();
  print(signRequest(fields, key));
  return 0;
}

async function verify(args: ParsedArgs): Promise<number> {
  const key = loadPublicKey(requireFlag(args, 'cert'));
  const answer = await readStdinObject('answer');
  const r = answerRule(answer, key);
  // valid: what the kiosk acts on (the exact text); rule: which of the vendor's plaintext rules verified.
  print({ plaintext: r.plaintext, valid: r.rule === 'exact', rule: r.rule });
  return r.rule === 'exact' ? 0 : 1;
}

/** An order number that sorts by time and is unique enough for one technician's terminal. */
function newOrderNo(now: Date): string {
  return `JD${formatOrderTime(now)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
}

/** `--ca FILE`: the CA a https gateway's certificate chains to (a KeyError names the file when it is no PEM). */
function caFlag(args: ParsedArgs): { ca?: Buffer } {
  const file = stringFlag(args, 'ca');
  return file === undefined ? {} : { ca: loadCaCertificates(file) };
}

/** `--base`: the gateway's http:// or https:// URL, or a usage error naming it. */
function baseFlag(args: ParsedArgs): string {
  const base = requireFlag(args, 'base');
  try {
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--base ${JSON.stringify(base)} is not an http:// or https:// URL`);
  }
  return base;
}

async function send(call: CallName, args: ParsedArgs): Promise<number> {
  const own = CALL_FIELDS[call].filter((f) => f !== 'acqSpId' && f !== 'acqMerId');
  const base = baseFlag(args);
  const keyFile = requireFlag(args, 'key');
  const certFile = requireFlag(args, 'cert');
  const merchant = { acqSpId: requireFlag(args, 'sp'), acqMerId: requireFlag(args, 'mer') };
  const timeoutMs = intFlag(args, 'timeout', 10000)!;
  const connectTimeoutMs = intFlag(args, 'connect-timeout', 3000)!;
  if (timeoutMs <= 0 || connectTimeoutMs <= 0) throw new UsageError('--timeout and --connect-timeout must be > 0');
  const fields: Record<string, string> = {};
  for (const f of own) {
    const v = stringFlag(args, f);
    if (v !== undefined) fields[f] = v;
  }
  const now = new Date();
  if (call === 'micropay' || call === 'refund') {
    fields.orderNo ??= newOrderNo(now);
    fields.orderTime ??= formatOrderTime(now);
  }
  if (call === 'micropay' && !fields.orderType && fields.authCode) {
    const c = classifyAuthCode(fields.authCode);
    if (!c.ok) throw new FieldError('micropay', 'authCode', maskAuthCode(fields.authCode), `not a payment code: ${c.reason}`);
    fields.orderType = c.orderType;
  }
  const privateKey = loadPrivateKey(keyFile);
  const platformKey = loadPublicKey(certFile);
  const gw = new HttpGateway({ baseUrl: base, merchant, privateKey, platformKey, connectTimeoutMs, timeoutMs, ...caFlag(args) });
  try {
    const r = await gw.call(call, fields as unknown as FieldsByCall[typeof call]);
    // The payment code is a bearer token: masked unless the technician asks for it (--reveal).
    const code = r.request.authCode;
    const hide = (s: string) => (code && !args.flags.reveal ? s.split(code).join(maskAuthCode(code)) : s);
    const verbose = args.flags.verbose
      ? {
          // The body as sent (postSigned serialises the same object the same way).
          body: hide(JSON.stringify(r.request)),
          requestRules: { doc: hide(r.plaintext), java: hide(javaRequestPlaintext(r.request)), same: javaRequestPlaintext(r.request) === r.plaintext },
          answerRule: r.answer ? answerRule(r.answer, platformKey).rule : null,
        }
      : {};
    print({
      call,
      url: base.replace(/\/+$/, '') + PATHS[call],
      plaintext: hide(r.plaintext),
      signature: r.request.signature,
      request: JSON.parse(hide(JSON.stringify(r.request))) as unknown,
      delivery: r.delivery,
      httpStatus: r.httpStatus,
      raw: r.raw,
      answerPlaintext: r.answerPlaintext,
      signatureValid: r.signatureValid,
      outcome: r.outcome.kind,
      detail: r.outcome,
      cause: r.cause,
      elapsedMs: r.elapsedMs,
      ...verbose,
    });
    const verified = r.signatureValid === true && r.httpStatus !== undefined && r.httpStatus >= 200 && r.httpStatus < 300;
    return verified ? 0 : 3;
  } finally {
    gw.close();
  }
}

interface CheckStep {
  step: string;
  ok: boolean;
  detail: string;
  fix?: string;
}

/**
 * `kiosk umpay check`: for the day a merchant gets real test credentials. Nothing here can charge anyone: a TCP
 * connect, a queryOrder for an order number that cannot exist, and yesterday's settlement file.
 */
async function check(args: ParsedArgs): Promise<number> {
  const base = baseFlag(args);
  const merchant = { acqSpId: stringFlag(args, 'sp') ?? 'Y471790403', acqMerId: stringFlag(args, 'mer') ?? '41509208' };
  const privateKey = loadPrivateKey(requireFlag(args, 'key'));
  const platformKey = loadPublicKey(requireFlag(args, 'cert'));
  const timeoutMs = intFlag(args, 'timeout', 10000)!;
  const connectTimeoutMs = intFlag(args, 'connect-timeout', 3000)!;
  const dateFlag = stringFlag(args, 'date');
  const now = new Date();
  const day = dateFlag ? /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})$/.exec(dateFlag)?.slice(1).join('') : previousDay(now);
  if (!day) throw new UsageError(`--date ${JSON.stringify(dateFlag)} is not a date (yyyy-mm-dd)`);
  const gw = new HttpGateway({ baseUrl: base, merchant, privateKey, platformKey, connectTimeoutMs, timeoutMs, ...caFlag(args) });
  const steps: CheckStep[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'umpay-check-'));
  try {
    const reach = await gw.reach();
    steps.push({ step: 'connect', ok: reach.ok, detail: reach.cause, fix: reach.ok ? undefined : 'check --base (host and port), the network, a firewall' });
    if (reach.ok) {
      const orderNo = `CHECK${formatOrderTime(now)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
      const q = await gw.call('queryOrder', { orderNo });
      const rc = typeof q.answer?.respCode === 'string' ? q.answer.respCode : undefined;
      const rule = q.answer ? answerRule(q.answer, platformKey).rule : null;
      let st: CheckStep;
      if (!q.answer) st = { step: 'queryOrder (an order that does not exist)', ok: false, detail: q.cause ?? 'no answer', fix: 'is --base the trade service root (…/entry-provider-plat-client)? an HTML page means a wrong path or a proxy' };
      else if (rule === null) st = { step: 'queryOrder (an order that does not exist)', ok: false, detail: `answer respCode ${rc ?? '?'} does not verify with ${requireFlag(args, 'cert')}`, fix: 'use the platform certificate of this environment (test and production differ)' };
      else if (rc === '11') st = { step: 'queryOrder (an order that does not exist)', ok: false, detail: `the platform rejected our signature (11: ${wireText(q.answer.respMsg ?? '')})`, fix: 'the merchant key does not belong to --sp/--mer here: check the key file and the ids' };
      else st = { step: 'queryOrder (an order that does not exist)', ok: true, detail: `signed answer respCode ${rc ?? '?'} (${wireText(q.answer.respMsg ?? '')}), verified (${rule} rule): our signature was accepted and the platform's verifies` };
      steps.push(st);
      const dl = await gw.downloadSettleFile(day, dir);
      if (dl.kind === 'file') steps.push({ step: `settlement file ${day}`, ok: true, detail: `${dl.bytes} bytes, ${dl.charset}` });
      else if (dl.kind === 'answer') {
        steps.push({
          step: `settlement file ${day}`,
          ok: dl.signatureValid && dl.respCode !== '11',
          detail: `no file: ${dl.signatureValid ? 'signed' : 'UNVERIFIED'} answer respCode ${dl.respCode} (${dl.respMsg})`,
          fix: dl.respCode === '11' ? 'the platform rejected the download signature' : dl.signatureValid ? 'an answer instead of a file is normal for a day without trades' : 'check --cert',
        });
      } else steps.push({ step: `settlement file ${day}`, ok: false, detail: dl.cause });
    }
  } finally {
    gw.close();
    rmSync(dir, { recursive: true, force: true }); // ours: made above
  }
  for (const st of steps) process.stdout.write(`${st.ok ? 'ok  ' : 'FAIL'}  ${st.step}: ${st.detail}${st.fix ? `\n      → ${st.fix}` : ''}\n`);
  const ok = steps.length > 0 && steps.every((st) => st.ok);
  process.stdout.write(ok ? `all worked (${merchant.acqSpId}/${merchant.acqMerId} at ${base})\n` : `not ready: fix the first FAIL above (exit 3)\n`);
  return ok ? 0 : 3;
}
