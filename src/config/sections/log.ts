// log: how much the daemon says.
import { defineSection } from '../rules.js';
import { doc, oneOf, section } from '../fields.js';
import { DEFAULTS } from '../defaults.js';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const log = defineSection(
  section({
    level: doc(oneOf(LOG_LEVELS).default(DEFAULTS.log.level), 'How much the daemon logs.'),
  }).prefault({}),
);
