// `kiosk umpay ...`: what a technician needs when the platform's support asks "what exactly did you sign?".
// Exit codes: 0 verified answer (verify: valid), 1 verify: not valid, 2 bad input, 3 no trustworthy answer.
import { randomInt } from 'node:crypto';
import { intFlag, parseCommand, requireFlag, stringFlag, subcommand, UsageError, type ParsedArgs } from './args.js';
import type { WireValue } from '../umpay/canonical.js';
import { KeyError, loadPrivateKey, loadPublicKey } from '../umpay/keys.js';
import { signRequest, verifyResponse } from '../umpay/signature.js';
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
    return await send(CALLS[command]!, args);
  } catch (err) {
    if (err instanceof UsageError || err instanceof KeyError || err instanceof FieldError) {
      process.stderr.write(`kiosk umpay: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function readStdinObject(): Promise<Record<string, WireValue>> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) throw new UsageError('stdin is empty: expected one JSON object');
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (err) {
    throw new UsageError(`stdin is not valid JSON: ${(err as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new UsageError('stdin must hold one JSON object');
  inexactNumber(v, '');
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
  const answer = await readStdinObject();
  const r = verifyResponse(answer, key);
  print({ plaintext: r.plaintext, valid: r.valid });
  return r.valid ? 0 : 1;
}

/** An order number that sorts by time and is unique enough for one technician's terminal. */
function newOrderNo(now: Date): string {
  return `JD${formatOrderTime(now)}${String(randomInt(0, 1_000_000)).padStart(6, '0')}`;
}

async function send(call: CallName, args: ParsedArgs): Promise<number> {
  const own = CALL_FIELDS[call].filter((f) => f !== 'acqSpId' && f !== 'acqMerId');
  const base = requireFlag(args, 'base');
  try {
    const u = new URL(base);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('scheme');
  } catch {
    throw new UsageError(`--base ${JSON.stringify(base)} is not an http:// or https:// URL`);
  }
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
  const gw = new HttpGateway({ baseUrl: base, merchant, privateKey, platformKey, connectTimeoutMs, timeoutMs });
  try {
    const r = await gw.call(call, fields as unknown as FieldsByCall[typeof call]);
    // The payment code is a bearer token: masked unless the technician asks for it (--reveal).
    const code = r.request.authCode;
    const hide = (s: string) => (code && !args.flags.reveal ? s.split(code).join(maskAuthCode(code)) : s);
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
    });
    const verified = r.signatureValid === true && r.httpStatus !== undefined && r.httpStatus >= 200 && r.httpStatus < 300;
    return verified ? 0 : 3;
  } finally {
    gw.close();
  }
}
