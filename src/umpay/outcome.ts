// What an answer means for money, per call: PROTOCOL.md "Answer codes (respCode), and what they mean for money".
// Pure: no I/O. Anything not provably final is UNKNOWN (the engine then queries); PAID only on a signed "00".
import type { WireValue } from './canonical.js';
import { parseWireJson } from './json.js';
import { maskDigitRuns } from './authcode.js';
import type { CallName, MicropayOutcome, OutcomeByCall, QueryOutcome, RefundOutcome, RefundQueryOutcome, ReversalOutcome } from './types.js';

/** Documented meanings of respCode, for reasons shown to the operator. */
export const RESP_CODE_MEANING: Readonly<Record<string, string>> = Object.freeze({
  '00': 'success',
  '01': 'in progress',
  '02': 'customer is paying',
  '03': 'refunded',
  '04': 'state unknown',
  '05': 'already paid',
  '06': 'busy',
  '08': 'bad amount',
  '09': 'merchant note exists',
  '10': 'bad format',
  '11': 'signature rejected',
  '12': 'duplicate trade',
  '13': 'fields missing',
  '14': 'cancelled',
  '15': 'insufficient balance',
  '16': 'order number already used',
  '17': 'no such trade',
  '20': 'payment code expired',
  '21': 'too many payments',
  '23': 'no such payment code',
  '31': 'merchant state',
  '32': 'no permission',
  '33': 'amount over limit',
  '35': 'original trade missing or in the wrong state',
  '36': 'does not match the original trade',
  '37': 'too many queries / too frequent',
  '38': 'risk control',
  '39': 'outside accepted hours',
  '43': 'card state',
  '99': 'other',
  '001100WN': 'payment code already used (each code can be used once)',
});

/** micropay codes that definitely mean "not paid" (documented failure meanings). */
export const DEFINITE_FAILURES: readonly string[] = Object.freeze(['08', '10', '11', '13', '15', '20', '21', '23', '31', '32', '33', '38', '39', '43']);

/**
 * Eight-character codes known to be a definite refusal. Only codes seen from the real gateway with a message that
 * states a refusal belong here; every other 8-character code is UNKNOWN (the query page calls 01000000 "not definite").
 */
export const KNOWN_8_CHAR_REFUSALS: readonly string[] = Object.freeze(['001100WN']);

/**
 * micropay codes saying "this orderNo already belongs to another order" (16: used with other fields). Our own
 * re-send carries the very same fields, so the answer is about someone else's order: definitely not ours, never
 * queried (a query would read the other order's state) and never reversed (that would reverse the other order).
 */
export const NOT_THIS_ORDER: readonly string[] = Object.freeze(['16']);

/**
 * Definite refusals of cancelOrder/closeOrder/refund: every documented code that is not success, not "in progress
 * or unclear" (01 02 04 05 06 12 16 99) and not the rate limit (37).
 */
export const REQUEST_REFUSALS: readonly string[] = Object.freeze([
  '03', '08', '09', '10', '11', '13', '14', '15', '17', '20', '21', '23', '31', '32', '33', '35', '36', '38', '39', '43',
]);

/**
 * cancelOrder/closeOrder codes that say "already paid": the order was not reversed, and the platform holds the
 * money. A refusal (the engine queries the order, then refunds it), never "not final" for ever (issue 24).
 */
export const REVERSAL_ALREADY_PAID: readonly string[] = Object.freeze(['05']);

export const RATE_LIMITED = '37';

/** What came back for one call: a transport error, or an HTTP status and the body text. */
export type Exchange = { transportError: string } | { httpStatus: number; body: string };

export interface Verified {
  valid: boolean;
  plaintext: string;
}

/** What the request said, so that a signed answer about another order or amount is not taken as ours. */
export interface Expectation {
  orderNo?: string;
  txnAmt?: string;
}

export interface Classified<C extends CallName> {
  outcome: OutcomeByCall[C];
  answer?: Record<string, WireValue>;
  signatureValid?: boolean;
  answerPlaintext?: string;
  /** Why the outcome is UNKNOWN, when it is. */
  cause?: string;
}

/** A table's own entry for `key`: never one of Object.prototype's (a code "toString" is no documented code). */
function own<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function reasonOf(code: string, answer: Record<string, WireValue>): string {
  const meaning = own(RESP_CODE_MEANING, code);
  const msg = typeof answer.respMsg === 'string' && answer.respMsg ? answer.respMsg : '';
  if (meaning && msg) return `${meaning}: ${msg}`;
  return meaning || msg || `code ${code}`;
}

function str(v: WireValue): string | undefined {
  if (typeof v === 'string') return v;
  // Stryker disable next-line ConditionalExpression: equivalent, Number.isFinite holds it to a number already
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/** Parses a body into an answer object, or says why it is not one. */
export function parseAnswer(httpStatus: number, body: string): { ok: true; answer: Record<string, WireValue> } | { ok: false; cause: string } {
  // A proxy may echo the request back: digit runs (a payment code, or a cut piece of one) never reach the cause,
  // which is journaled and published.
  const sample = maskDigitRuns(body.slice(0, 60).replace(/\s+/g, ' '));
  if (httpStatus < 200 || httpStatus > 299) return { ok: false, cause: `HTTP ${httpStatus}${sample ? `: ${sample}` : ''}` };
  let parsed: unknown;
  try {
    parsed = parseWireJson(body); // numbers keep their text: the signature is over it
  } catch {
    return { ok: false, cause: `answer is not JSON (${body.length} chars${sample ? `: ${sample}` : ''})` };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return { ok: false, cause: 'answer is JSON but not an object' };
  return { ok: true, answer: parsed as Record<string, WireValue> };
}

function unknown(cause: string, rateLimited = false): { kind: 'UNKNOWN'; cause: string; rateLimited?: boolean } {
  return rateLimited ? { kind: 'UNKNOWN', cause, rateLimited: true } : { kind: 'UNKNOWN', cause };
}

/** A signed answer that names another order or amount than ours is not about our request. */
function mismatch(answer: Record<string, WireValue>, expect: Expectation | undefined): string | undefined {
  if (!expect) return undefined;
  const orderNo = str(answer.orderNo);
  if (expect.orderNo && orderNo && orderNo !== expect.orderNo) return `answer is about order ${orderNo}, not ${expect.orderNo}`;
  const amt = str(answer.txnAmt);
  if (expect.txnAmt && amt && amt !== expect.txnAmt) return `answer says txnAmt ${amt}, the request said ${expect.txnAmt}`;
  return undefined;
}

/** PAID with the platform's order id and settlement day (yyyyMMdd) when the answer carries them. */
function paid(answer: Record<string, WireValue>): { kind: 'PAID'; transactionId?: string; stlDate?: string } {
  const out: { kind: 'PAID'; transactionId?: string; stlDate?: string } = { kind: 'PAID' };
  const transactionId = str(answer.transactionId);
  if (transactionId) out.transactionId = transactionId;
  const stlDate = str(answer.stlDate);
  if (stlDate && /^[0-9]{8}$/.test(stlDate)) out.stlDate = stlDate;
  return out;
}

/** What we know of our own order, to tell whether a query answer is about it. */
export interface OrderFacts {
  orderNo: string;
  txnAmt: string;
  orderType?: string;
  /** The platform's id for the order, once an answer gave it. */
  transactionId?: string | null;
  /** Our orderTime (yyyyMMddHHmmss, local time as sent). */
  orderTime?: string;
}

/**
 * How far the platform's payTime may lie before our orderTime and still be trusted for releasing the product
 * (clock skew between the kiosk and the platform). The kiosk refuses new payments when its clock is off the
 * platform's by more than `payment.clockToleranceMs` (payment/platform-clock.ts), far less than this.
 */
export const PAY_TIME_SKEW_MS = 10 * 60_000;

/** payTime (MMddHHmmss, no year) as the instant nearest to `ref` (an answer near New Year belongs to either year). */
function payTimeNear(payTime: string, ref: Date): number | undefined {
  const m = /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(payTime);
  if (!m) return undefined;
  let best: number | undefined;
  for (const y of [ref.getFullYear() - 1, ref.getFullYear(), ref.getFullYear() + 1]) {
    const t = new Date(y, Number(m[1]) - 1, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime();
    // Stryker disable next-line EqualityOperator: equivalent, two years are never equally near one instant
    if (best === undefined || Math.abs(t - ref.getTime()) < Math.abs(best - ref.getTime())) best = t;
  }
  return best;
}

function parseWireTime(t: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(t);
  return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])) : undefined;
}

/**
 * Why a signed answer is about another order than ours, or undefined when every field that names an order fits:
 * orderNo, txnAmt, orderType, transactionId (once we know ours). This is what decides whether money the platform
 * reports it holds is ours to give back; no clock is read.
 */
export function notAboutOrder(answer: Record<string, WireValue> | undefined, o: OrderFacts): string | undefined {
  if (!answer) return undefined;
  const no = str(answer.orderNo);
  if (no && no !== o.orderNo) return `answer is about order ${no}, not ${o.orderNo}`;
  const amt = str(answer.txnAmt);
  if (amt && amt !== o.txnAmt) return `answer says txnAmt ${amt}, the order is ${o.txnAmt}`;
  const type = str(answer.orderType);
  if (type && o.orderType && type !== o.orderType) return `answer says orderType ${type}, the order is ${o.orderType}`;
  const tid = str(answer.transactionId);
  if (tid && o.transactionId && tid !== o.transactionId) return `answer is about transactionId ${tid}, the order is ${o.transactionId}`;
  return undefined;
}

/**
 * Why a paid answer about our order number is not trusted for *releasing the product*, or undefined: it says paid
 * more than PAY_TIME_SKEW_MS before our orderTime. That is either an older order that used the same number (a
 * lost, restored or cloned journal; whoever sent an orderNo first owns it at the platform, so a later order with our
 * number is refused with 16 and never shows up here, only an earlier one can), or a kiosk clock that was ahead of
 * the platform's when the order was made. Neither is a reason to release a product; neither is a reason to keep
 * money: the engine gives it back (payment/core.ts aboutOurs).
 */
export function payTimeDoubt(answer: Record<string, WireValue> | undefined, o: OrderFacts): string | undefined {
  const payTime = answer ? str(answer.payTime) : undefined;
  const ordered = o.orderTime ? parseWireTime(o.orderTime) : undefined;
  if (!payTime || !ordered) return undefined;
  const paidAt = payTimeNear(payTime, ordered);
  // Stryker disable next-line ConditionalExpression: \`undefined < n\` is false too; the test is for the type checker
  if (paidAt !== undefined && paidAt < ordered.getTime() - PAY_TIME_SKEW_MS) return `answer says paid at ${payTime}, before the order was made (${o.orderTime})`;
  return undefined;
}

type Decide<C extends CallName> = (code: string, answer: Record<string, WireValue>, expect?: Expectation) => OutcomeByCall[C];

function decideMicropay(code: string, answer: Record<string, WireValue>, expect?: Expectation): MicropayOutcome {
  if (code === '00') {
    const off = mismatch(answer, expect);
    if (off) return unknown(off);
    return paid(answer);
  }
  if (NOT_THIS_ORDER.includes(code)) return { kind: 'NOT_PAID', code, reason: reasonOf(code, answer), notOurs: true };
  if (DEFINITE_FAILURES.includes(code) || KNOWN_8_CHAR_REFUSALS.includes(code)) return { kind: 'NOT_PAID', code, reason: reasonOf(code, answer) };
  // The signed code rides along: '02' (customer is paying) is what the customer is told while they confirm.
  return { ...unknown(`respCode ${code} (${reasonOf(code, answer)}) is not final`), code };
}

const QUERY_STATES: Record<string, 'refunded' | 'closed' | 'cancelled' | 'failed'> = { '01': 'refunded', '03': 'closed', '04': 'cancelled', '06': 'failed' };
const ORIG_MEANING: Record<string, string> = { '01': 'moved to refund', '02': 'unknown or in progress', '03': 'closed', '04': 'cancelled', '06': 'failed' };

function origReason(orig: string, answer: Record<string, WireValue>): string {
  const detail = str(answer.origRespDescMsg) ?? str(answer.respMsg);
  // Stryker disable next-line StringLiteral: only 02 and the QUERY_STATES codes come here, each with its meaning
  const meaning = own(ORIG_MEANING, orig) ?? `origRespCode ${orig}`;
  return `${meaning}${detail ? `: ${detail}` : ''}`;
}

function decideQuery(code: string, answer: Record<string, WireValue>, expect?: Expectation): QueryOutcome {
  // 17: the platform has no such order (the micropay never arrived). The engine closes the order before trusting it.
  if (code === '17') return { kind: 'NOT_PAID', state: 'no-such-order', code, reason: reasonOf(code, answer) };
  if (code !== '00') return unknown(`query respCode ${code} (${reasonOf(code, answer)}): the query itself did not work`);
  const orig = str(answer.origRespCode);
  if (orig === undefined || orig === '') return unknown('query answered 00 without origRespCode');
  if (orig === '00') {
    const off = mismatch(answer, expect);
    if (off) return unknown(off);
    return paid(answer);
  }
  if (orig === '02') return { kind: 'PENDING', code: orig, reason: origReason(orig, answer) };
  const state = own(QUERY_STATES, orig);
  if (state) return { kind: 'NOT_PAID', state, code: orig, reason: origReason(orig, answer) };
  return unknown(`query origRespCode ${orig} is not a known state`);
}

function decideReversal(code: string, answer: Record<string, WireValue>): ReversalOutcome {
  if (code === '00') return { kind: 'DONE' };
  if (REQUEST_REFUSALS.includes(code) || REVERSAL_ALREADY_PAID.includes(code)) return { kind: 'REFUSED', code, reason: reasonOf(code, answer) };
  return unknown(`respCode ${code} (${reasonOf(code, answer)}) is not final`);
}

function decideRefund(code: string, answer: Record<string, WireValue>): RefundOutcome {
  if (code === '00') return { kind: 'ACCEPTED' };
  // The serial is someone else's refund (our re-send carries the same fields): not accepted, not ours.
  if (NOT_THIS_ORDER.includes(code)) return { kind: 'REFUSED', code, reason: reasonOf(code, answer), notOurs: true };
  if (REQUEST_REFUSALS.includes(code)) return { kind: 'REFUSED', code, reason: reasonOf(code, answer) };
  return unknown(`respCode ${code} (${reasonOf(code, answer)}) is not final`);
}

function decideRefundQuery(code: string, answer: Record<string, WireValue>): RefundQueryOutcome {
  // 17 (no such refund) stays UNKNOWN: re-issuing a refund on it could refund twice if the first arrives late.
  if (code !== '00') return unknown(`refund query respCode ${code} (${reasonOf(code, answer)}): the query itself did not work`);
  const orig = str(answer.origRespCode);
  const detail = str(answer.origRespDescMsg) ?? str(answer.respMsg) ?? '';
  if (orig === '00') return { kind: 'REFUNDED' };
  if (orig === '01') return { kind: 'FAILED', code: orig, reason: `refund failed${detail ? `: ${detail}` : ''}` };
  if (orig === '02') return { kind: 'PENDING', code: orig, reason: `refund in progress${detail ? `: ${detail}` : ''}` };
  return unknown(`refund query origRespCode ${orig ?? '(none)'} is not a known state`);
}

const DECIDE: { [C in CallName]: Decide<C> } = {
  micropay: decideMicropay,
  queryOrder: decideQuery,
  cancelOrder: decideReversal,
  closeOrder: decideReversal,
  refund: decideRefund,
  refundQuery: decideRefundQuery,
};

/**
 * Turns one exchange into the call's outcome. `verify` checks the answer's signature with the platform key
 * (e.g. `a => verifyResponse(a, platformKey)`). An answer whose signature does not verify is no answer.
 */
export function classify<C extends CallName>(call: C, exchange: Exchange, verify: (answer: Record<string, WireValue>) => Verified, expect?: Expectation): Classified<C> {
  if ('transportError' in exchange) {
    return { outcome: unknown(`no answer: ${exchange.transportError}`), cause: exchange.transportError };
  }
  const parsed = parseAnswer(exchange.httpStatus, exchange.body);
  if (!parsed.ok) return { outcome: unknown(parsed.cause), cause: parsed.cause };
  const answer = parsed.answer;
  let checked: Verified;
  try {
    checked = verify(answer);
  } catch (err) {
    checked = { valid: false, plaintext: '' };
    void err;
  }
  const base = { answer, signatureValid: checked.valid, answerPlaintext: checked.plaintext };
  if (typeof answer.signature !== 'string' || answer.signature === '') {
    const cause = 'answer is not signed';
    return { ...base, outcome: unknown(cause), cause };
  }
  if (!checked.valid) {
    const cause = 'answer signature does not verify with the platform key';
    return { ...base, outcome: unknown(cause), cause };
  }
  const code = answer.respCode;
  if (typeof code !== 'string' || code === '') {
    const cause = `answer has no respCode string (${JSON.stringify(code ?? null)})`;
    return { ...base, outcome: unknown(cause), cause };
  }
  if (code === RATE_LIMITED) {
    const cause = `respCode 37: ${reasonOf(code, answer)}; back off`;
    return { ...base, outcome: unknown(cause, true), cause };
  }
  const outcome = DECIDE[call](code, answer, expect);
  return outcome.kind === 'UNKNOWN' ? { ...base, outcome, cause: outcome.cause } : { ...base, outcome };
}
