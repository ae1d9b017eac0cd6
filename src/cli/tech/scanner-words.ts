// The scanner module in plain words, for kiosk status, kiosk doctor and kiosk scanner show.
import type { Config } from '../../config/index.js';
import type { ModuleStatus } from '../../hardware/modules/session.js';

/** The module in plain words for status, doctor and show. */
export function statusWords(m: ModuleStatus, config: Config): string {
  const who = m.identity ? `${m.module} ${m.identity.model}${m.identity.firmware ? ` (firmware ${m.identity.firmware})` : ''}` : m.module;
  const match = m.profileMatch === true ? 'matches the profile' : m.profileMatch === false ? `does NOT match the profile: ${(m.differences ?? []).join('; ')}` : m.setup?.skipped ? 'not set up (unknown model)' : 'not checked';
  const last = m.setup ? `; last setup ${m.setup.at}${m.setup.written.length ? `, wrote ${m.setup.written.join(', ')}` : ', nothing written'}` : '';
  const trig = config.scanner.trigger === 'command' ? `; command trigger, ${m.triggers} read window(s) started` : '';
  const what = m.state === 'ready' || m.profileMatch === false ? match : (m.error ?? m.state);
  return `${who}: ${what}${last}; flash saves ${m.saves}${trig}`;
}
