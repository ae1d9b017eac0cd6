// Typed builders for the six calls: every field checked against PROTOCOL.md before anything is signed.
// The output holds only the interface's own fields (an extra field breaks the platform's signature check).
import { classifyAuthCode, maskAuthCode } from './authcode.js';
import { signingHazard } from './canonical.js';
import type {
  CallName,
  CancelOrderFields,
  CloseOrderFields,
  Merchant,
  MicropayFields,
  QueryOrderFields,
  RefundFields,
  RefundQueryFields,
} from './types.js';

export class FieldError extends Error {
  readonly code = 'E_FIELD';
  constructor(
    readonly call: CallName,
    readonly field: string,
    /** As given, except a payment code, which is masked. */
    readonly value: string,
    /** What is wrong, without the call, field and value. */
    readonly reason: string,
  ) {
    super(`${call}: field ${field}${value ? ` (${value})` : ''}: ${reason}`);
    this.name = 'FieldError';
  }
}

/** Path of each call under the base URL. */
export const PATHS: Readonly<Record<CallName, string>> = Object.freeze({
  micropay: '/pay/micropay',
  queryOrder: '/pay/queryOrder',
  cancelOrder: '/pay/cancelOrder',
  closeOrder: '/pay/closeOrder',
  refund: '/pay/refund',
  refundQuery: '/pay/refundQuery',
});

export interface FieldsByCall {
  micropay: MicropayFields;
  queryOrder: QueryOrderFields;
  cancelOrder: CancelOrderFields;
  closeOrder: CloseOrderFields;
  refund: RefundFields;
  refundQuery: RefundQueryFields;
}

type Check = (value: string, fail: (message: string) => never) => void;
interface FieldSpec {
  max: number; // as the platform documents it; counted in UTF-8 bytes (conservative for Chinese text)
  required: boolean;
  check?: Check;
}

const ORDER_TIME: Check = (v, fail) => {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(v);
  if (!m) return fail('must be yyyyMMddHHmmss (14 digits)');
  const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  // Real when the calendar gives the same text back (30 February, 24:00 or a 60th second roll over into another).
  const back = new Date(Date.UTC(y, mo - 1, d, h, mi, s)).toISOString().slice(0, 19).replace(/[-T:]/g, '');
  if (back !== v || y < 2000) fail('is not a real date and time (yyyyMMddHHmmss)');
};
const FEN: Check = (v, fail) => {
  if (!/^[1-9][0-9]*$/.test(v)) fail('must be a whole number of fen > 0, digits only, no leading zero');
};
// Merchant order numbers are ours: keep them to characters that cannot confuse the `k=v&` plaintext.
const ORDER_NO: Check = (v, fail) => {
  if (!/^[A-Za-z0-9_-]+$/.test(v)) fail('only letters, digits, "_" and "-" are allowed');
};
// The docs define only "1" (face payment / split order); leave the field out otherwise.
const FLAG: Check = (v, fail) => {
  if (v !== '1') fail('must be "1" (the only value the platform defines; leave the field out otherwise)');
};
/**
 * backUrl, one rule for the client and the sandbox. The docs: starts with http://, then letters, digits and
 * / & % ? = only. Read literally no host name fits (it has a "."), so "." "-" ":" are allowed as well; still no
 * spaces, "#", non-ASCII or URL-encoded text (the docs refuse %3C and the like too, which we cannot tell apart
 * from a harmless %, so "%" stays allowed as documented).
 */
export const BACK_URL_PATTERN = /^http:\/\/[A-Za-z0-9/&%?=.:-]+$/;
export const BACK_URL_TEXT = 'http:// then letters, digits, / & % ? = (and . - : for the host and port)';
const BACK_URL: Check = (v, fail) => {
  if (!BACK_URL_PATTERN.test(v)) fail(`must be ${BACK_URL_TEXT}`);
};
// Free text: must sign the same under both of the vendor's rules (PROTOCOL.md, "Signing a request").
const FREE_TEXT: Check = (v, fail) => {
  const hazard = signingHazard(v);
  if (hazard) fail(hazard);
};
// Coordinates as the docs' examples print them (-83.2345).
const COORDINATE: Check = (v, fail) => {
  if (!/^-?[0-9]{1,3}(\.[0-9]{1,12})?$/.test(v)) fail('must be a decimal number of degrees, e.g. -83.2345');
};
const ORDER_TYPE: Check = (v, fail) => {
  if (v !== 'wechat' && v !== 'alipay' && v !== 'unionpay') fail('must be wechat, alipay or unionpay');
};
const AUTH_CODE: Check = (v, fail) => {
  const c = classifyAuthCode(v);
  if (!c.ok) fail(`not a payment code: ${c.reason}`);
};
const ACQ_SP_ID: Check = (v, fail) => {
  // Stryker disable next-line Regex: equivalent, the 10-byte maximum already holds it to the anchors
  if (!/^Y[A-Za-z0-9]{9}$/.test(v)) fail('must be 10 letters/digits starting with Y');
};
const ACQ_MER_ID: Check = (v, fail) => {
  // Stryker disable next-line Regex: equivalent, the 8-byte maximum already holds it to the anchors
  if (!/^[A-Za-z0-9]{8}$/.test(v)) fail('must be 8 letters/digits');
};

const MERCHANT_SPEC: Record<keyof Merchant, FieldSpec> = {
  acqSpId: { max: 10, required: true, check: ACQ_SP_ID },
  acqMerId: { max: 8, required: true, check: ACQ_MER_ID },
};

/** Each call's own fields besides acqSpId/acqMerId/signature, in the spec's order. */
const CALL_SPEC: { [C in CallName]: Record<keyof FieldsByCall[C], FieldSpec> } = {
  micropay: {
    orderTime: { max: 16, required: true, check: ORDER_TIME },
    orderNo: { max: 64, required: true, check: ORDER_NO },
    txnAmt: { max: 13, required: true, check: FEN },
    orderType: { max: 12, required: true, check: ORDER_TYPE },
    authCode: { max: 32, required: true, check: AUTH_CODE },
    // Optional in the current docs (mandatory in older ones); the Java demo omits both.
    goodsId: { max: 16, required: false, check: FREE_TEXT },
    goodsInfo: { max: 128, required: false, check: FREE_TEXT },
    backUrl: { max: 256, required: false, check: BACK_URL },
    merPriv: { max: 128, required: false, check: FREE_TEXT },
    faceFlag: { max: 2, required: false, check: FLAG },
    ledgerAccountFlag: { max: 2, required: false, check: FLAG },
    goodsTag: { max: 32, required: false, check: FREE_TEXT },
    subAppId: { max: 32, required: false, check: FREE_TEXT },
    longitude: { max: 16, required: false, check: COORDINATE },
    latitude: { max: 16, required: false, check: COORDINATE },
  },
  queryOrder: {
    orderNo: { max: 64, required: true, check: ORDER_NO },
    transactionId: { max: 32, required: false, check: ORDER_NO },
  },
  cancelOrder: { orderNo: { max: 64, required: true, check: ORDER_NO } },
  closeOrder: { orderNo: { max: 64, required: true, check: ORDER_NO } },
  // No orderType: the field table and the vendor's Java demo (API3_6) leave it out; only the docs' example
  // carries it, and a field not in the interface fails the signature check (PROTOCOL.md, refund).
  refund: {
    orderTime: { max: 16, required: true, check: ORDER_TIME },
    origOrderNo: { max: 64, required: true, check: ORDER_NO },
    origTxnAmt: { max: 13, required: true, check: FEN },
    orderNo: { max: 64, required: true, check: ORDER_NO },
    txnAmt: { max: 13, required: true, check: FEN },
  },
  refundQuery: { orderNo: { max: 64, required: true, check: ORDER_NO } },
};

/** The wire field names each call sends (signature excluded), for callers that map flags or columns. */
export const CALL_FIELDS: Readonly<{ [C in CallName]: readonly string[] }> = Object.freeze(
  Object.fromEntries(
    (Object.keys(CALL_SPEC) as CallName[]).map((c) => [c, ['acqSpId', 'acqMerId', ...Object.keys(CALL_SPEC[c])]]),
  ) as unknown as { [C in CallName]: readonly string[] },
);

/** Fields each call must have (the rest are optional). */
export const REQUIRED_FIELDS: Readonly<{ [C in CallName]: readonly string[] }> = Object.freeze(
  Object.fromEntries(
    (Object.keys(CALL_SPEC) as CallName[]).map((c) => [
      c,
      ['acqSpId', 'acqMerId', ...Object.entries(CALL_SPEC[c] as Record<string, FieldSpec>).filter(([, s]) => s.required).map(([k]) => k)],
    ]),
  ) as unknown as { [C in CallName]: readonly string[] },
);

function shown(field: string, value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  if (field === 'authCode') return maskAuthCode(text);
  return text.length > 80 ? `${JSON.stringify(text.slice(0, 80))}…` : JSON.stringify(text);
}

function checkField(call: CallName, field: string, value: unknown, spec: FieldSpec, out: Record<string, string>): void {
  const fail = (message: string): never => {
    throw new FieldError(call, field, shown(field, value), message);
  };
  if (value === undefined || value === null || value === '') {
    if (spec.required) fail('is missing');
    return; // empty optional fields are neither signed nor sent
  }
  if (typeof value !== 'string') fail(`must be a string, got ${typeof value}`);
  const text = value as string;
   
  if (/[\u0000-\u001f\u007f]/.test(text)) fail('contains a control character');
  if (text !== text.trim()) fail('has leading or trailing spaces');
  // Stryker disable next-line StringLiteral: equivalent, UTF-8 is byteLength's default
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > spec.max) fail(`too long: ${bytes} bytes, at most ${spec.max}`);
  // Stryker disable next-line OptionalChaining: equivalent, every field has a check
  spec.check?.(text, fail);
  out[field] = text;
}

/**
 * What is wrong with one value of a wire field, by the same rules buildRequest applies (undefined: fine).
 * For checking configuration ahead of any call (merchant ids, goodsId/goodsInfo) with the protocol's own rules.
 */
export function wireFieldProblem(call: CallName, field: string, value: unknown): string | undefined {
  const callSpec = CALL_SPEC[call] as Record<string, FieldSpec>;
  // Own entries only: "toString" or "constructor" is no field.
  const spec = Object.hasOwn(MERCHANT_SPEC, field) ? MERCHANT_SPEC[field as keyof Merchant] : Object.hasOwn(callSpec, field) ? callSpec[field] : undefined;
  if (!spec) return `is not a field of ${call}`;
  try {
    checkField(call, field, value, spec, {});
    return undefined;
  } catch (err) {
    // Stryker disable next-line ConditionalExpression: equivalent, checkField throws nothing else
    if (err instanceof FieldError) return err.reason;
    throw err;
  }
}

/** Validates a call's fields and returns exactly the wire fields to sign and send (empty ones dropped). */
export function buildRequest<C extends CallName>(call: C, merchant: Merchant, fields: FieldsByCall[C]): Record<string, string> {
  const spec = CALL_SPEC[call] as Record<string, FieldSpec>;
  const given = (fields ?? {}) as unknown as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(spec, key)) {
      const hint = key === 'acqSpId' || key === 'acqMerId' ? ' (it comes from the merchant configuration)' : key === 'signature' ? ' (added when signing)' : '';
      throw new FieldError(call, key, shown(key, given[key]), `is not a field of ${call}${hint}; allowed: ${Object.keys(spec).join(', ')}`);
    }
  }
  const out: Record<string, string> = {};
  const m = (merchant ?? {}) as unknown as Record<string, unknown>;
  for (const [key, s] of Object.entries(MERCHANT_SPEC)) checkField(call, key, m[key], s, out);
  for (const [key, s] of Object.entries(spec)) checkField(call, key, given[key], s, out);
  // Stryker disable next-line ConditionalExpression: equivalent, the other calls have no authCode to classify
  if (call === 'micropay') {
    const c = classifyAuthCode(out.authCode!);
    if (c.ok && c.orderType !== out.orderType) {
      throw new FieldError(call, 'orderType', JSON.stringify(out.orderType), `does not match the payment code, which is a ${c.orderType} code (${maskAuthCode(out.authCode)})`);
    }
  }
  if (call === 'refund' && BigInt(out.txnAmt!) > BigInt(out.origTxnAmt!)) {
    throw new FieldError(call, 'txnAmt', JSON.stringify(out.txnAmt), `refund amount exceeds the original amount origTxnAmt=${out.origTxnAmt}`);
  }
  return out;
}

export const buildMicropay = (merchant: Merchant, fields: MicropayFields) => buildRequest('micropay', merchant, fields);
export const buildQueryOrder = (merchant: Merchant, fields: QueryOrderFields) => buildRequest('queryOrder', merchant, fields);
export const buildCancelOrder = (merchant: Merchant, fields: CancelOrderFields) => buildRequest('cancelOrder', merchant, fields);
export const buildCloseOrder = (merchant: Merchant, fields: CloseOrderFields) => buildRequest('closeOrder', merchant, fields);
export const buildRefund = (merchant: Merchant, fields: RefundFields) => buildRequest('refund', merchant, fields);
export const buildRefundQuery = (merchant: Merchant, fields: RefundQueryFields) => buildRequest('refundQuery', merchant, fields);

/**
 * `yyyyMMddHHmmss` in local time (the platform's clock is Beijing time; the kiosk runs in that zone): the one
 * formatter of orderTime (and, by its first 8 digits, of the platform's day) for the kiosk and the sandbox.
 */
export function formatOrderTime(at: Date | number): string {
  // Stryker disable next-line ConditionalExpression: equivalent, new Date(a Date) is the same instant
  const date = typeof at === 'number' ? new Date(at) : at;
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(date.getFullYear(), 4)}${p(date.getMonth() + 1)}${p(date.getDate())}${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}
