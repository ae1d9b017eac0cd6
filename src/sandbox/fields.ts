// The platform's field checks per call, in its order: an unknown field fails the signature check (`11`), a missing
// one is `13`, a malformed one `10`. PROTOCOL.md, "Calls".
import { classifyAuthCode } from '../umpay/authcode.js';
import { BACK_URL_PATTERN, BACK_URL_TEXT } from '../umpay/messages.js';
import type { CallName } from '../umpay/types.js';

interface FieldRule {
  max: number;
  required: boolean;
  pattern?: RegExp;
  what?: string;
}

const DIGITS14 = { pattern: /^[0-9]{14}$/, what: 'yyyyMMddHHmmss' };
const FEN = { pattern: /^[1-9][0-9]*$/, what: 'an integer amount in fen > 0' };
const SP = { max: 10, required: true, pattern: /^[A-Za-z0-9]+$/, what: 'letters and digits' };
const MER = { max: 8, required: true, pattern: /^[A-Za-z0-9]+$/, what: 'letters and digits' };
const ORDER_NO = { max: 64, required: true, pattern: /^[\x21-\x7e]+$/, what: 'printable ASCII without spaces' };

export const CALL_FIELDS: Record<CallName, Record<string, FieldRule>> = {
  micropay: {
    orderTime: { max: 16, required: true, ...DIGITS14 },
    acqSpId: SP,
    acqMerId: MER,
    orderNo: ORDER_NO,
    txnAmt: { max: 13, required: true, ...FEN },
    orderType: { max: 12, required: true, pattern: /^(alipay|wechat|unionpay)$/, what: 'alipay, wechat or unionpay' },
    authCode: { max: 32, required: true },
    goodsId: { max: 16, required: false },
    goodsInfo: { max: 128, required: false },
    backUrl: { max: 256, required: false, pattern: BACK_URL_PATTERN, what: BACK_URL_TEXT },
    merPriv: { max: 128, required: false },
    faceFlag: { max: 2, required: false, pattern: /^1$/, what: '1 (the only value defined)' },
    ledgerAccountFlag: { max: 2, required: false, pattern: /^1$/, what: '1 (the only value defined)' },
    goodsTag: { max: 32, required: false },
    subAppId: { max: 32, required: false },
    longitude: { max: 16, required: false, pattern: /^-?[0-9]{1,3}(\.[0-9]+)?$/, what: 'degrees, e.g. -83.2345' },
    latitude: { max: 16, required: false, pattern: /^-?[0-9]{1,3}(\.[0-9]+)?$/, what: 'degrees, e.g. -24.3094' },
  },
  queryOrder: { acqSpId: SP, acqMerId: MER, orderNo: ORDER_NO, transactionId: { max: 32, required: false } },
  cancelOrder: { acqSpId: SP, acqMerId: MER, orderNo: ORDER_NO },
  closeOrder: { acqSpId: SP, acqMerId: MER, orderNo: ORDER_NO },
  refund: {
    orderTime: { max: 16, required: true, ...DIGITS14 },
    acqSpId: SP,
    acqMerId: MER,
    origOrderNo: ORDER_NO,
    origTxnAmt: { max: 13, required: true, ...FEN },
    orderNo: ORDER_NO,
    txnAmt: { max: 13, required: true, ...FEN },
  },
  refundQuery: { acqSpId: SP, acqMerId: MER, orderNo: ORDER_NO },
};

export interface FieldProblem {
  respCode: '10' | '11' | '13' | '23';
  respMsg: string;
}

const blank = (v: unknown) => v === null || v === undefined || v === '';

/**
 * refund's `orderType`: the docs' field table and the vendor's Java demo leave it out, the docs' request example
 * carries it. `false` (default): an unknown field (`11`), like the table; `true`: accepted as optional.
 */
export interface FieldOptions {
  refundOrderType?: boolean;
}

const REFUND_ORDER_TYPE: FieldRule = { max: 12, required: false, pattern: /^(alipay|wechat|unionpay)$/, what: 'alipay, wechat or unionpay' };

function rulesOf(call: CallName, options: FieldOptions): Record<string, FieldRule> {
  return call === 'refund' && options.refundOrderType ? { ...CALL_FIELDS.refund, orderType: REFUND_ORDER_TYPE } : CALL_FIELDS[call];
}

/** The first problem with a request's fields (before the signature check for `11`/`13`), or null. */
export function structuralProblem(call: CallName, fields: Record<string, unknown>, options: FieldOptions = {}): FieldProblem | null {
  const rules = rulesOf(call, options);
  for (const key of Object.keys(fields)) {
    if (key !== 'signature' && !(key in rules)) return { respCode: '11', respMsg: `验签失败: unknown field ${key}` };
  }
  const missing = [...Object.keys(rules).filter((k) => rules[k]!.required), 'signature'].filter((k) => blank(fields[k]));
  if (missing.length) return { respCode: '13', respMsg: `必填字段为空: ${missing.join(',')}` };
  return null;
}

/** The first malformed field (after the signature check), or null. */
export function formatProblem(call: CallName, fields: Record<string, unknown>, options: FieldOptions = {}): FieldProblem | null {
  const rules = rulesOf(call, options);
  for (const [key, rule] of Object.entries(rules)) {
    const value = fields[key];
    if (blank(value)) continue;
    if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) return { respCode: '10', respMsg: `格式错误: ${key} must be a string` };
    const text = String(value);
    if (text.length > rule.max) return { respCode: '10', respMsg: `格式错误: ${key} longer than ${rule.max}` };
    if (rule.pattern && !rule.pattern.test(text)) return { respCode: '10', respMsg: `格式错误: ${key} must be ${rule.what}` };
  }
  if (call === 'micropay') {
    const c = classifyAuthCode(String(fields.authCode));
    if (!c.ok) return { respCode: '23', respMsg: `付款码不存在: ${c.reason}` };
    if (c.orderType !== fields.orderType) return { respCode: '10', respMsg: `格式错误: orderType ${String(fields.orderType)} does not match the payment code (${c.orderType})` };
  }
  return null;
}
