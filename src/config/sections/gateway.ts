// gateway: where the platform is and how long we wait for it.
import { defineSection } from '../rules.js';
import { bool, doc, ms, section, str } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

const D = DEFAULTS.gateway;

function baseUrl() {
  return str({ min: 1 })
    .superRefine((v, ctx) => {
      let url: URL;
      try {
        url = new URL(v);
      } catch {
        return ctx.addIssue({ code: 'custom', message: 'is not a valid URL (e.g. http://provider.umfintech.com/entry-provider-plat-client)' });
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must start with http:// or https://' });
      else if (url.search || url.hash) ctx.addIssue({ code: 'custom', message: 'must not contain a query or fragment (the call paths are appended to it)' });
    })
    .transform((v) => v.replace(/\/+$/, ''));
}

export const gateway = defineSection(
  section({
    baseUrl: doc(baseUrl(), 'Platform base URL; call paths (`/pay/micropay`…) are appended.', { allowed: '`http://` or `https://`, no query' }),
    platformCert: doc(str({ min: 1 }), 'Platform certificate (X.509 DER/PEM) or public key; checks every answer\'s signature. Its dates are ignored on purpose.'),
    connectTimeoutMs: doc(ms(100, 60000).default(D.connectTimeoutMs), 'Give up connecting after this (≤ `timeoutMs`).'),
    timeoutMs: doc(ms(500, 120000).default(D.timeoutMs), 'Give up on one call after this (shorter than `payment.customerWindowMs`); the order is then queried, never guessed.'),
    ca: doc(str({ min: 1 }).optional(), 'https only: the CA certificate(s) (PEM) the gateway\'s TLS certificate must chain to, instead of the system\'s list (e.g. `kiosk sandbox --tls` prints its `caFile`).'),
    keepWarm: doc(
      bool().default(D.keepWarm),
      'Keep one connection to the gateway open while idle (a TCP/TLS connect, never a request), so the customer after a quiet spell waits for no handshake. When the gateway closes it, another is opened, at most once a minute: ≤ 1,440 connects a day, about 2.5–7 MB a day on https at worst (docs/performance.md). `false`: the connection is opened when a customer starts (key press, scan, a selection on the vending machine over MDB).',
    ),
  }),
  [
    {
      check(c) {
        const connect = c.int('gateway.connectTimeoutMs');
        const total = c.int('gateway.timeoutMs');
        if (connect !== undefined && total !== undefined && connect > total) c.add('gateway.connectTimeoutMs', `must not exceed gateway.timeoutMs (${total})`);
      },
    },
    {
      check(c) {
        const base = c.str('gateway.baseUrl');
        if (c.present('gateway.ca') && base !== undefined && !base.startsWith('https:')) c.add('gateway.ca', `only used with an https:// gateway.baseUrl (it is ${base.split(':')[0]}://)`);
      },
    },
  ],
);
