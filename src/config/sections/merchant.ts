// merchant: who we are to the platform. Checked by the protocol's own field rules (src/umpay/messages.ts).
import { defineSection } from '../rules.js';
import { doc, filePath, section, wire } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

export const merchant = defineSection(
  section({
    acqSpId: doc(wire('micropay', 'acqSpId'), 'Service-provider id from the platform (test: `Y471790403`).', { allowed: '10 letters/digits starting with `Y`' }),
    acqMerId: doc(wire('micropay', 'acqMerId'), 'Merchant id (test: `41509208`).', { allowed: '8 letters/digits' }),
    privateKey: doc(
      filePath(),
      'Merchant private key file (PKCS#8 DER `.p8`, PEM, or bare base64). Must be mode 600 (owner only): the kiosk refuses otherwise and says `chmod 600 FILE`.',
    ),
    goodsId: doc(wire('micropay', 'goodsId').default(DEFAULTS.merchant.goodsId), 'goodsId sent with each payment; optional in the platform\'s current docs, left out when empty.', { allowed: '≤ 16 bytes' }),
    goodsInfo: doc(
      wire('micropay', 'goodsInfo').default(DEFAULTS.merchant.goodsInfo),
      'goodsInfo sent with each payment, shown to the payer; left out when empty. Must not contain `", "` (comma then space), `{` or `}`: the vendor\'s Java demo signs such text differently from its documented rule, and which rule the production server applies is not documented (PROTOCOL.md). Same for `pricing.items.*.goodsInfo/goodsId`.',
      { allowed: '≤ 128 bytes (UTF-8)' },
    ),
  }),
);
