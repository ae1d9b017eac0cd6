// pricing: what a customer pays (one price, a menu typed on the keypad, or an amount typed).
import * as z from 'zod';
import { defineSection } from '../rules.js';
import { ALWAYS, doc, fen, ms, oneOf, section, typeName, wire } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

export const PRICING_MODES = ['fixed', 'menu', 'keyed'] as const;

const item = () =>
  z.strictObject(
    {
      amountFen: fen(),
      goodsInfo: wire('micropay', 'goodsInfo').optional(),
      goodsId: wire('micropay', 'goodsId').optional(),
    },
    {
      error: (iss) => (iss.code === 'unrecognized_keys' ? 'unknown key' : `must be an object {amountFen, goodsInfo?, goodsId?}, got ${typeName(iss.input)}`),
    },
  );

const items = () =>
  z
    .record(z.string(), item(), { error: (iss) => `must be an object of item number → {amountFen, goodsInfo?, goodsId?}, got ${typeName(iss.input)}` })
    .superRefine((all, ctx) => {
      for (const num of Object.keys(all)) {
        if (!/^[0-9]{1,3}$/.test(num)) ctx.addIssue({ code: 'custom', path: [num], message: 'item numbers are 1 to 3 digits, as typed on the keypad' });
      }
    }, ALWAYS);

export const pricing = defineSection(
  section({
    mode: doc(oneOf(PRICING_MODES), '`fixed` (one price), `menu` (item number typed, then scan), `keyed` (amount typed, `#` confirms, `*` clears).'),
    amountFen: doc(fen().optional(), 'The price (1 … `payment.maxAmountFen`).', { required: 'R if `fixed`' }),
    items: doc(
      items().default({ ...DEFAULTS.pricing.items }),
      '`{"<1–3 digit item number>": {"amountFen": 300, "goodsInfo": "…", "goodsId": "…"}}`; goodsInfo/goodsId default to the merchant\'s.',
      { required: 'R if `menu`' },
    ),
    maxAmountFen: doc(fen().optional(), '`keyed`: the largest amount a customer may type (≤ `payment.maxAmountFen`).', { default: '`payment.maxAmountFen`' }),
    entryTimeoutMs: doc(ms(1000, 600000).default(DEFAULTS.pricing.entryTimeoutMs), 'An unfinished keypad entry returns to idle after this.'),
  }),
  [
    {
      check(c) {
        const mode = c.str('pricing.mode');
        const max = c.int('payment.maxAmountFen');
        if (mode === 'fixed' && !c.present('pricing.amountFen')) c.add('pricing.amountFen', 'missing (required with mode "fixed")');
        const itemsFound = c.value('pricing.items') as Record<string, unknown> | undefined;
        if (mode === 'menu' && itemsFound && Object.keys(itemsFound).length === 0) {
          c.add('pricing.items', 'missing: mode "menu" needs items, e.g. {"1": {"amountFen": 300, "goodsInfo": "Water"}}');
        }
        if (max === undefined) return;
        const over = (path: Array<string | number>) => {
          const v = c.int(path);
          if (v !== undefined && v > max) c.add(path, `must be between 1 and ${max} fen (payment.maxAmountFen)`);
        };
        over(['pricing', 'amountFen']);
        over(['pricing', 'maxAmountFen']);
        for (const num of Object.keys(itemsFound ?? {})) over(['pricing', 'items', num, 'amountFen']);
      },
    },
  ],
);
