// JSON as the platform's Java side reads it: a number keeps the exact text it was sent with. fastjson parses
// `1.50` as BigDecimal (printed "1.50") and a long integer as BigInteger; JSON.parse would give 1.5 and round
// anything above 2^53, and the answer would no longer verify (PROTOCOL.md, "Verifying a response").
import { parse } from 'lossless-json';

/**
 * Parses JSON text. A number whose text a JS number reproduces exactly (`1`, `15`, `0.5`) becomes that number;
 * any other (`1.50`, `9007199254740993`, `1e2`) becomes a string holding its exact text, so that nothing
 * downstream (plaintext, transactionId, amounts) sees a changed value. Throws on malformed JSON and on a
 * duplicate key (an answer that says two things is not an answer).
 */
export function parseWireJson(text: string): unknown {
  return parse(text, null, (digits: string) => {
    const n = Number(digits);
    return String(n) === digits ? n : digits;
  });
}
