// approve: the vend relay pulsed when a payment is verified.
import { defineSection } from '../rules.js';
import { approveConfirmSchema } from '../approve-confirm.js';
import { bcm, bool, doc, ms, oneOf, section } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.approve;

export const APPROVE_DRIVERS = ['gpio', 'sim', 'none'] as const;

export const approve = defineSection(
  section({
    driver: doc(oneOf(APPROVE_DRIVERS).default(D.driver), '`gpio` (the vend relay), `sim`, or `none` (no relay: the order is marked delivered at once).'),
    pin: doc(bcm().default(D.pin), 'BCM pin of the relay driver.'),
    pulseMs: doc(ms(20, 10000).default(D.pulseMs), 'How long the output is on per approved payment.'),
    activeLow: doc(bool().default(D.activeLow), '`true` for relay boards that switch on a low input.'),
    // Absent: no sensor, delivered when the pulse ends.
    confirm: approveConfirmSchema.optional(),
  }).prefault({}),
  [
    {
      doc: 'A vend sensor (`approve.confirm`) needs `approve.driver` `gpio` or `sim`.',
      check(c) {
        if (c.present('approve.confirm') && c.str('approve.driver') === 'none') {
          c.add('approve.confirm', 'a vend sensor needs approve.driver "gpio" (or "sim"): with "none" nothing is released to sense');
        }
      },
    },
  ],
);
