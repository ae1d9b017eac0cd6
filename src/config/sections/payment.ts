// payment: the customer's window and the engine's pacing.
import { defineSection } from '../rules.js';
import { doc, int, MAX_FEN, ms, section } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.payment;

export const payment = defineSection(
  section({
    customerWindowMs: doc(ms(5000, 600000).default(D.customerWindowMs), 'Longest a customer waits for an unclear payment before it is reversed.'),
    queryIntervalMs: doc(ms(500, 60000).default(D.queryIntervalMs), 'Pause between status queries of an unclear order (< `customerWindowMs`).'),
    codeValidityMs: doc(ms(5000, 600000).default(D.codeValidityMs), 'How long a scanned payment code is taken to stay usable.'),
    recoveryConcurrency: doc(int(1, 32).default(D.recoveryConcurrency), 'Unfinished orders resumed in parallel after a restart.'),
    maxAmountFen: doc(int(1, MAX_FEN, 'fen').default(D.maxAmountFen), 'Ceiling for any one payment, whatever the pricing says.'),
    clockToleranceMs: doc(
      ms(5000, 172_800_000).default(D.clockToleranceMs),
      "Farthest this kiosk's clock may be from the payment platform's (the Date header of its answers) before new payments are refused (fault F05). Wider only for drills: the money is given back whatever the clocks say, but products are not released on an answer that looks older than the order.",
    ),
  }).prefault({}),
  [
    {
      check(c) {
        const window = c.int('payment.customerWindowMs');
        const timeout = c.int('gateway.timeoutMs');
        const interval = c.int('payment.queryIntervalMs');
        if (window === undefined) return;
        // A micropay answer may take the whole timeout: the customer must still be there to get the product.
        if (timeout !== undefined && timeout >= window) {
          c.add('gateway.timeoutMs', `must be shorter than payment.customerWindowMs (${window}): a paid answer arriving after the customer left would release the product to nobody`);
        }
        if (interval !== undefined && interval >= window) {
          c.add('payment.queryIntervalMs', `must be shorter than payment.customerWindowMs (${window}) so an unclear payment is queried at least once`);
        }
      },
    },
  ],
);
