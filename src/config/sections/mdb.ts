// mdb: the vending machine's own cashless port, MDB through a Qibixx MDB Pi HAT or MDB-USB (docs/mdb.md). Its
// presence turns it on: the machine's controller (VMC) names the product and its price, the kiosk approves the
// vend only for a verified payment, and the machine's report is the delivery evidence. Absent: the approve relay.
import * as z from 'zod';
import { defineSection } from '../rules.js';
import { devicePath, doc, int, ms, oneOf, section, str, typeName } from '../fields.js';

export const MDB_DRIVERS = ['hat', 'sim'] as const;
export const MDB_MODES = ['always-idle', 'session'] as const;

const productName = str({ min: 1, max: 16, pattern: /^[\x20-\x7d¥]*$/, patternText: 'printable ASCII (the display shows it)' });

export const mdbSchema = section({
  driver: doc(oneOf(MDB_DRIVERS).default('hat'), '`hat` (the HAT or MDB-USB on a serial port) or `sim` (a simulated machine in the process: the demo).'),
  path: doc(devicePath('/dev/serial0 or /dev/ttyACM0').default('/dev/serial0'), 'The HAT on the Pi\'s UART: `/dev/serial0`; the MDB-USB: `/dev/ttyACM0` (or a udev symlink). It may be absent at start: the kiosk shows a fault and keeps trying.'),
  baudRate: doc(int(1200, 4_000_000).default(115200), 'The HAT\'s line speed (Qibixx: 115200 8N1).'),
  mode: doc(
    oneOf(MDB_MODES).default('always-idle'),
    '`always-idle`: the customer chooses on the machine first, the kiosk is asked for that product\'s price (`pricing` is not used). `session`: for a machine without always-idle, the customer pays the `pricing` amount first and the kiosk opens a session with that credit (`C,START`); only a selection at exactly that price is approved.',
  ),
  decimals: doc(int(0, 3).default(2), 'Decimal places of the machine\'s amounts (its scale: 2 means `1.50` is ¥1.50). Amounts are fen inside, text on the wire, never a float.'),
  approvalWindowMs: doc(ms(1000, 600000).default(60000), 'The longest a selection waits for an approval: after it the kiosk denies (`C,STOP`); a payment that succeeds later is refunded. Keep it below the machine\'s own timeout.'),
  vendResultMs: doc(ms(1000, 600000).default(60000), 'After an approval, how long the kiosk waits for the machine\'s report (`c,VEND,SUCCESS` or `c,ERR,VEND`); no report: nothing is assumed to have come out and the payment is refunded.'),
  products: doc(
    z.record(z.string().regex(/^[0-9A-Za-z_-]{1,16}$/, { error: 'a product number: 1–16 letters, digits, _ or -' }), productName, { error: (iss) => `must be an object of product number → name, got ${typeName(iss.input)}` }).default({}),
    'Names for the display, by the machine\'s product number: `{"12": "Cola"}`. A product without a name is shown by its number.',
  ),
});

export type MdbConfig = z.output<typeof mdbSchema>;

export const mdb = defineSection(mdbSchema.optional(), [
  {
    doc: 'With an `mdb` section the machine releases products over MDB: `approve.driver` must be `none`.',
    check(c) {
      if (!c.present('mdb')) return;
      const d = c.str('approve.driver');
      if (d && d !== 'none') c.add('approve.driver', `with an mdb section the vending machine releases the product (C,VEND), not a relay: set approve.driver to "none" (it is "${d}")`);
    },
  },
  {
    doc: 'The scanner and the HAT cannot share a serial port.',
    check(c) {
      if (!c.present('mdb') || c.str('mdb.driver') !== 'hat') return;
      const p = c.str('mdb.path');
      if (p && c.str('scanner.driver') === 'serial' && c.str('scanner.path') === p) c.add('mdb.path', `${p} is the scanner's port (scanner.path): the HAT needs its own`);
    },
  },
]);
