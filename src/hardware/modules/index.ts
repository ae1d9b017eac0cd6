// The module drivers by family.
import { gmDriver } from './gm.js';
import { honeywellDriver } from './honeywell.js';
import { newlandDriver } from './newland.js';
import type { ModuleDriver, ModuleFamily } from './types.js';

export const MODULE_DRIVERS: Partial<Record<Exclude<ModuleFamily, 'plain'>, ModuleDriver>> = {
  gm: gmDriver,
  newland: newlandDriver,
  honeywell: honeywellDriver,
};

export * from './types.js';
export { runSetup, describeDifference, settingReports, setupProblems, type SetupResult, type Difference, type SettingReport } from './setup.js';
export { ModuleLink } from './link.js';
