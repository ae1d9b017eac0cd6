// journal: where the SQLite journal lives (its folder is checked in validate.ts).
import { defineSection } from '../rules.js';
import { doc, filePath, section } from '../fields.js';

export const journal = defineSection(
  section({
    path: doc(filePath(), 'The SQLite journal (its folder must exist: `/var/lib/kiosk`).'),
  }),
);
