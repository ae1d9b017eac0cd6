// gateway: where the platform is and how long we wait for it.
import { defineSection } from '../rules.js';
import { doc, ms, section, str } from '../fields.js';
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
  }),
  [
    {
      check(c) {
        const connect = c.int('gateway.connectTimeoutMs');
        const total = c.int('gateway.timeoutMs');
        if (connect !== undefined && total !== undefined && connect > total) c.add('gateway.connectTimeoutMs', `must not exceed gateway.timeoutMs (${total})`);
      },
    },
  ],
);
