// deviceId: the kiosk's name, a field at the top level.
import { defineSection } from '../rules.js';
import { doc, str } from '../fields.js';

export const deviceId = defineSection(
  doc(
    str({ min: 1, max: 16, pattern: /^[A-Za-z0-9_-]+$/, patternText: 'letters, digits, "-" or "_" (it goes into every orderNo)' }),
    'This kiosk\'s name; part of every orderNo. Unique in the fleet.',
  ),
);
