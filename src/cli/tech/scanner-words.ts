// The scanner module in plain words, for kiosk status, kiosk doctor and kiosk scanner show.
import type { Config } from '../../config/index.js';
import type { ModuleStatus } from '../../hardware/modules/session.js';
import type { Identity, SettingReport } from '../../hardware/modules/index.js';
import { table } from './format.js';

/** The module in plain words for status, doctor and show. */
export function statusWords(m: ModuleStatus, config: Config): string {
  const who = m.identity ? `${m.module} ${m.identity.model}${m.identity.firmware ? ` (firmware ${m.identity.firmware})` : ''}` : m.module;
  const match = m.profileMatch === true ? 'matches the profile' : m.profileMatch === false ? `does NOT match the profile: ${(m.differences ?? []).join('; ')}` : m.setup?.skipped ? 'not set up (unknown model)' : 'not checked';
  const last = m.setup ? `; last setup ${m.setup.at}${m.setup.written.length ? `, wrote ${m.setup.written.join(', ')}` : ', nothing written'}` : '';
  const trig = config.scanner.trigger === 'command' ? `; command trigger, ${m.triggers} read window(s) started` : '';
  const what = m.state === 'ready' || m.profileMatch === false ? match : (m.error ?? m.state);
  return `${who}: ${what}${last}; flash saves ${m.saves}${trig}`;
}

/** A setup's outcome as a table: each setting as is → to be and what was done. */
export function setupWords(id: Identity, r: { settings: SettingReport[]; written: string[]; saved: boolean; skipped?: string; problems: string[] }, applied: boolean): string {
  const lines = [`${id.family} ${id.model}${id.firmware ? ` (firmware ${id.firmware})` : ''}`];
  if (r.skipped) return lines.concat(r.skipped, '').join('\n');
  const label: Record<SettingReport['result'], string> = { ok: '', written: 'written', 'not-written': 'NOT written', differs: 'differs', refused: 'refused' };
  const rows = r.settings.filter((x) => x.result !== 'refused');
  lines.push(table(['setting', 'is', 'to be', ''], rows.map((x) => (x.result === 'ok' ? [x.setting, 'ok', '', ''] : [x.setting, x.is ?? '?', x.want, label[x.result]]))).trimEnd());
  if (applied) lines.push(r.written.length ? `${r.written.length} setting(s) written${r.saved ? ', saved to flash' : ''}` : 'nothing to write');
  // Refused settings say why as they are; the others differ (a dry run: not written yet) or still differ after writing.
  const refused = new Set(r.settings.filter((x) => x.result === 'refused').map((x) => `${x.setting}: ${x.why}`));
  lines.push(...r.problems.map((p) => (refused.has(p) ? p : `${applied ? 'STILL DIFFERENT' : 'differs'}: ${p}`)));
  return lines.join('\n') + '\n';
}
