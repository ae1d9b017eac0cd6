// The hand-made mutants of `npm run mutate` (scripts/mutate.ts): each is one deliberate bug of the kind that
// costs money or leaks a secret, and the few test files that must catch it. A mutant that survives means a
// test is missing. A mutant whose `find` text is gone from its file (a refactor) is reported "stale" and the
// run fails: rewrite it against the new code rather than deleting it.
// Results of the last run: docs/tests.md, "Mutation run".
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Mutant {
  /** Short, unique, kebab-case. */
  id: string;
  area: 'money' | 'parser' | 'logger';
  /** The source file mutated (repository-relative, under src/). */
  file: string;
  /** Exact text that occurs once in `file`. */
  find: string;
  /** What it becomes (same language, must still compile). */
  replace: string;
  /** The bug it models, one line. */
  bug: string;
  /** The test files that must catch it (repository-relative test/**.test.ts); only these run. */
  tests: string[];
}

export const MUTANTS: readonly Mutant[] = [
  // --- money: what an answer means (src/umpay) ---
  {
    id: 'micropay-paid-on-05',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: "  if (code === '00') {\n    const off = mismatch(answer, expect);",
    replace: "  if (code === '00' || code === '05') {\n    const off = mismatch(answer, expect);",
    bug: 'micropay 05 ("already paid", not final) is taken as success without a query',
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'micropay-unclear-as-failure',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: 'return { ...unknown(`respCode ${code} (${reasonOf(code, answer)}) is not final`), code };',
    replace: "return { kind: 'NOT_PAID', code, reason: reasonOf(code, answer) };",
    bug: 'an unclear micropay code (01 02 04 06 99 …) is shown as a failure instead of queried',
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'answer-about-other-order',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: 'if (expect.orderNo && orderNo && orderNo !== expect.orderNo)',
    replace: 'if (false && expect.orderNo && orderNo && orderNo !== expect.orderNo)',
    bug: "a signed 00 about another orderNo is taken as this order's payment",
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'unverified-answer-believed',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: '  if (!checked.valid) {',
    replace: '  if (!checked.valid && false) {',
    bug: 'an answer whose signature does not verify is believed',
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'query-paying-as-failed',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: "if (orig === '02') return { kind: 'PENDING', code: orig, reason: origReason(orig, answer) };",
    replace: "if (orig === '02') return { kind: 'NOT_PAID', state: 'failed', code: orig, reason: origReason(orig, answer) };",
    bug: 'a query saying the customer is still paying (origRespCode 02) ends the order as not paid',
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'refund-query-17-final',
    area: 'money',
    file: 'src/umpay/outcome.ts',
    find: 'if (code !== \'00\') return unknown(`refund query respCode',
    replace: "if (code === '17') return { kind: 'FAILED', code, reason: 'no such refund' };\n  if (code !== '00') return unknown(`refund query respCode",
    bug: 'a refund the platform does not know yet (17) counts as failed and is re-issued: refunded twice',
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'signature-not-checked',
    area: 'money',
    file: 'src/umpay/signature.ts',
    find: "valid: typeof sig === 'string' && verifyText(plaintext, sig, publicKey) }",
    replace: "valid: typeof sig === 'string' }",
    bug: 'verifyResponse accepts any signature string',
    tests: ['test/umpay/vectors.test.ts', 'test/umpay/client.test.ts'],
  },
  {
    id: 'orderType-not-checked',
    area: 'money',
    file: 'src/umpay/messages.ts',
    find: 'if (c.ok && c.orderType !== out.orderType) {',
    replace: 'if (false && c.ok && c.orderType !== out.orderType) {',
    bug: "a micropay is built with an orderType that does not match the payment code's wallet",
    tests: ['test/umpay/messages.test.ts'],
  },
  // --- parsers ---
  {
    id: 'json-numbers-rounded',
    area: 'parser',
    file: 'src/umpay/json.ts',
    find: 'return String(n) === digits ? n : digits;',
    replace: 'return n;',
    bug: 'answer JSON numbers lose their text (1.50 → 1.5, long ids rounded): signatures fail, ids change',
    tests: ['test/umpay/vectors.test.ts', 'test/umpay/vendor.test.ts'],
  },
  {
    id: 'http-error-body-parsed',
    area: 'parser',
    file: 'src/umpay/outcome.ts',
    find: 'if (httpStatus < 200 || httpStatus > 299)',
    replace: 'if (httpStatus < 200 || httpStatus > 599)',
    bug: "the JSON body of an HTTP 5xx error page is read as the platform's answer",
    tests: ['test/umpay/outcome.test.ts'],
  },
  {
    id: 'wechat-length-loose',
    area: 'parser',
    file: 'src/umpay/authcode.ts',
    find: "return len === 18 ? { ok: true, orderType: 'wechat' }",
    replace: "return len >= 18 ? { ok: true, orderType: 'wechat' }",
    bug: 'a 19+ digit code with a WeChat prefix is taken as a payment code and sent',
    tests: ['test/umpay/authcode.test.ts'],
  },
  {
    id: 'kiosk-takes-any-digits',
    area: 'parser',
    file: 'src/kiosk/interaction.ts',
    find: 'if (!kind.ok) return this.bad(kind.reason);',
    replace: 'if (false) return this.bad(kind.reason);',
    bug: 'a scanned digit string that is no payment code goes on to the payment engine',
    tests: ['test/kiosk/interaction.test.ts'],
  },
  {
    id: 'scanner-code-length-loose',
    area: 'parser',
    file: 'src/hardware/scanner.ts',
    find: 'if (text.length > this.max) {',
    replace: 'if (text.length > this.max + 2) {',
    bug: 'the scanner takes a code longer than maxLineLength (the second, per-code length check)',
    tests: ['test/hardware/scanner.test.ts'],
  },
  {
    id: 'scanner-reset-keeps-half-line',
    area: 'parser',
    file: 'src/hardware/scanner.ts',
    find: '  reset(): void {\n    this.pending = Buffer.alloc(0);\n',
    replace: '  reset(): void {\n',
    bug: 'half a code read before the port closed joins the next scan',
    tests: ['test/hardware/scanner.test.ts'],
  },
  {
    id: 'scanner-overlong-sticks',
    area: 'parser',
    file: 'src/hardware/scanner.ts',
    find: '    if (this.overlong) {\n      this.overlong = false;\n',
    replace: '    if (this.overlong) {\n',
    bug: 'after one overlong line every later line is dropped as too long',
    tests: ['test/hardware/scanner.test.ts'],
  },
  {
    id: 'config-fraction-accepted',
    area: 'parser',
    file: 'src/config/fields.ts',
    find: "    .int({ error: `must be a whole number${unit ? ` (${unit})` : ''}, got a fraction` })\n",
    replace: '',
    bug: 'a whole-number config field (ms, pins, lengths) accepts 1500.5',
    tests: ['test/config/config.test.ts'],
  },
  {
    id: 'config-wire-rule-skipped',
    area: 'parser',
    file: 'src/config/fields.ts',
    find: 'if (problem) ctx.addIssue(',
    replace: 'if (false && problem) ctx.addIssue(',
    bug: 'merchant ids are not checked by the protocol rules (acqSpId "X471790403" passes, every call fails)',
    tests: ['test/config/config.test.ts'],
  },
  {
    id: 'config-unknown-key-ignored',
    area: 'parser',
    file: 'src/config/fields.ts',
    find: 'return z.strictObject(shape, {',
    replace: 'return z.looseObject(shape, {',
    bug: 'a misspelt config key is ignored and its default used silently',
    tests: ['test/config/config.test.ts'],
  },
  {
    id: 'run-id-10-bits',
    area: 'money',
    file: 'src/journal/orderno.ts',
    find: 'out += ALPHABET[bytes[i]! & 31];',
    replace: 'out += ALPHABET[bytes[i]! & 1];',
    bug: 'run ids carry 10 bits instead of 50: a restored or cloned journal can repeat an order number',
    tests: ['test/journal/orderno.test.ts', 'test/journal/journal.test.ts'],
  },
  // --- money: the payment engine's decisions and the journal (src/payment, src/journal) ---
  {
    id: 'release-while-paying',
    area: 'money',
    file: 'src/payment/customer.ts',
    find: "if (q.kind === 'PAID') {\n        if (this.clock.mono() < deadline)",
    replace: "if (q.kind === 'PAID' || q.kind === 'PENDING') {\n        if (this.clock.mono() < deadline)",
    bug: 'the product is released while the query still says the customer is confirming (not paid)',
    tests: ['test/payment/engine.test.ts', 'test/payment/drills.test.ts'],
  },
  {
    id: 'customer-window-ignored',
    area: 'money',
    file: 'src/payment/customer.ts',
    find: 'const deadline = scan.mono + this.timing.customerWindowMs;',
    replace: 'const deadline = scan.mono + 6 * this.timing.customerWindowMs;',
    bug: 'an unclear payment is not reversed when the customer window ends: the customer keeps waiting',
    tests: ['test/payment/engine.test.ts', 'test/payment/clock-steps.test.ts'],
  },
  {
    id: 'refused-reversal-as-done',
    area: 'money',
    file: 'src/payment/background.ts',
    find: "if (out.kind === 'DONE') {",
    replace: "if (out.kind === 'DONE' || out.kind === 'REFUSED') {",
    bug: 'a refused cancel/close counts as reversed: an order the platform has paid is never refunded',
    tests: ['test/payment/engine.test.ts', 'test/payment/drills.test.ts'],
  },
  {
    id: 'paid-undelivered-kept',
    area: 'money',
    file: 'src/payment/background.ts',
    find: "      case 'paid':\n        this.core.startRefund(",
    replace: "      case 'paid':\n        return { kind: 'wait', why: 'paid' };\n        this.core.startRefund(",
    bug: 'a paid order whose product never came out is not refunded',
    tests: ['test/payment/engine.test.ts', 'test/payment/drills.test.ts'],
  },
  {
    id: 'authCode-kept-when-final',
    area: 'money',
    file: 'src/journal/journal.ts',
    find: "sets.push('final = 1', 'auth_code = NULL');",
    replace: "sets.push('final = 1');",
    bug: 'the payment code (a bearer token) stays in the journal after the order is final',
    tests: ['test/journal/journal.test.ts'],
  },
  // --- logger: a payment code is a bearer token ---
  {
    id: 'mask-shows-8-digits',
    area: 'logger',
    file: 'src/umpay/authcode.ts',
    find: 'code.length >= 12 ? code.slice(-4)',
    replace: 'code.length >= 12 ? code.slice(-8)',
    bug: 'masked payment codes show 8 digits instead of 4',
    tests: ['test/umpay/authcode.test.ts', 'test/log.test.ts'],
  },
  {
    id: 'mask-text-misses-16-digit',
    area: 'logger',
    file: 'src/log.ts',
    find: 'text.replace(/[0-9]{16,24}/g',
    replace: 'text.replace(/[0-9]{18,24}/g',
    bug: '16–17 digit Alipay codes inside message text are logged in full',
    tests: ['test/log.test.ts'],
  },
  {
    id: 'authcode-field-not-secret',
    area: 'logger',
    file: 'src/log.ts',
    find: "new Set(['authCode', 'authcode',",
    replace: "new Set(['authcode',",
    bug: 'an authCode field holding a code that does not classify (a misread scan) is logged in full',
    tests: ['test/log.test.ts'],
  },
  {
    id: 'error-message-unmasked',
    area: 'logger',
    file: 'src/log.ts',
    find: 'message: maskText(value.message)',
    replace: 'message: value.message',
    bug: "a payment code inside a logged Error's message is written in full",
    tests: ['test/log.test.ts'],
  },
  {
    id: 'log-msg-unmasked',
    area: 'logger',
    file: 'src/log.ts',
    find: "args.map((a) => (typeof a === 'string' ? maskText(a) : a))",
    replace: 'args.map((a) => a)',
    bug: "a payment code in a log line's message text is written in full",
    tests: ['test/log.test.ts'],
  },
];

/** What is wrong with a mutant's shape (ids, files, tests), independent of the current source text. */
export function structureProblems(list: readonly Mutant[], root: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const m of list) {
    const at = `mutant ${m.id}`;
    if (!/^[a-z][a-zA-Z0-9]*(-[a-zA-Z0-9]+)*$/.test(m.id)) out.push(`${at}: id must be kebab-case (wire names keep their case)`);
    if (seen.has(m.id)) out.push(`${at}: id used twice`);
    seen.add(m.id);
    if (!/^src\/.+\.ts$/.test(m.file)) out.push(`${at}: file ${m.file} is not a .ts file under src/`);
    else if (!existsSync(join(root, m.file))) out.push(`${at}: file ${m.file} does not exist`);
    if (m.find === '' || m.find === m.replace) out.push(`${at}: find must be non-empty and differ from replace`);
    if (!m.bug.trim() || m.bug.includes('\n')) out.push(`${at}: bug must be one non-empty line`);
    if (m.tests.length === 0 || m.tests.length > 4) out.push(`${at}: name 1 to 4 test files (only those run)`);
    for (const t of m.tests) {
      if (!/^test\/.+\.test\.ts$/.test(t)) out.push(`${at}: ${t} is not a test/**.test.ts file`);
      else if (!existsSync(join(root, t))) out.push(`${at}: test ${t} does not exist`);
    }
  }
  return out;
}

/** Why a mutant cannot be applied to the current source (its text is gone or ambiguous), or undefined. */
export function staleness(m: Mutant, root: string): string | undefined {
  const path = join(root, m.file);
  if (!existsSync(path)) return `${m.file} no longer exists`;
  const n = readFileSync(path, 'utf8').split(m.find).length - 1;
  if (n === 0) return `its text is no longer in ${m.file}`;
  if (n > 1) return `its text occurs ${n} times in ${m.file}`;
  return undefined;
}
