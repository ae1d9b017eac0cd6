// scanner.setup: apply (read, compare, write only the differences, read back, save to flash only when something
// changed) or verify (never write: every difference is named). The same for every protocol: the drivers only
// read, write and save.
import { type CommandPort, type Identity, type ModuleDriver, type SettingName, type Settings } from './types.js';

export interface Difference {
  setting: SettingName;
  is: string | undefined;
  want: string;
}

export interface SetupResult {
  mode: 'apply' | 'verify' | 'dry-run';
  identity: Identity;
  /** Settings the model's map covers and the profile has a wish for. */
  checked: SettingName[];
  /** What differed before anything was written. */
  differences: Difference[];
  /** Wishes this model cannot take (no code for the value): left alone and reported. */
  refused: { setting: SettingName; want: string; why: string }[];
  /** Settings written (apply only). */
  written: SettingName[];
  /** Whether the module's flash was written (apply only, only when something changed). */
  saved: boolean;
  /** After apply: differences still there when read back (a failed write). Empty = matches the profile. */
  remaining: Difference[];
  /** Unknown model: identification only, nothing written. */
  skipped?: string;
}

/** One setting of a setup run: as found, as the kiosk wants it, and what was done. */
export interface SettingReport {
  setting: SettingName;
  is: string | null;
  want: string;
  /** ok: matched already; written: was different, written and read back; not-written: a write did not take;
   *  differs: not written (dry run, verify); refused: this model has no code for the value. */
  result: 'ok' | 'written' | 'not-written' | 'differs' | 'refused';
  why?: string;
}

/** A setup result per setting, for people and machines (kiosk scanner setup, the fleet's scanner-setup). */
export function settingReports(r: SetupResult, profile: Settings): SettingReport[] {
  const diff = new Map(r.differences.map((d) => [d.setting, d]));
  const left = new Set(r.remaining.map((d) => d.setting));
  const out: SettingReport[] = r.checked.map((setting) => {
    const d = diff.get(setting);
    const want = profile[setting]!;
    if (!d) return { setting, is: want, want, result: 'ok' };
    const result = r.mode !== 'apply' ? 'differs' : r.written.includes(setting) && !left.has(setting) ? 'written' : 'not-written';
    return { setting, is: d.is ?? null, want, result };
  });
  for (const x of r.refused) out.push({ setting: x.setting, is: null, want: x.want, result: 'refused', why: x.why });
  return out;
}

/** What is still not as the kiosk needs it after a setup, in plain words. */
export function setupProblems(r: SetupResult): string[] {
  return [...r.remaining.map(describeDifference), ...r.refused.map((x) => `${x.setting}: ${x.why}`)];
}

export function compare(want: Settings, is: Settings, names: SettingName[]): Difference[] {
  const out: Difference[] = [];
  for (const name of names) {
    const w = want[name];
    if (w === undefined) continue;
    if (is[name] !== w) out.push({ setting: name, is: is[name], want: w });
  }
  return out;
}

/** Plain words for one difference, e.g. "tail is CRLF, the kiosk needs CR". */
export function describeDifference(d: Difference): string {
  const base = `${d.setting} is ${d.is ?? 'unknown'}, the kiosk needs ${d.want}`;
  // The most common field failure, in plain words: the module ends codes differently from what the parser waits for.
  if (d.setting === 'tail') return `${base} (the module ends each code with ${d.is ?? 'an unknown tail'} but scanner.terminator is ${d.want}: codes would be lost)`;
  return base;
}

export async function runSetup(
  driver: ModuleDriver,
  port: CommandPort,
  id: Identity,
  profile: Settings,
  mode: 'apply' | 'verify' | 'dry-run',
): Promise<SetupResult> {
  const result: SetupResult = { mode, identity: id, checked: [], differences: [], refused: [], written: [], saved: false, remaining: [] };
  const names = driver.settingsFor(id);
  if (names.length === 0) {
    result.skipped = `no register map is known for ${driver.family} model ${id.model}: identified and triggered only, nothing written`;
    return result;
  }
  const wanted: Settings = {};
  for (const name of names) {
    const w = profile[name];
    if (w === undefined) continue;
    const why = driver.refuse?.(id, name, w);
    if (why) result.refused.push({ setting: name, want: w, why });
    else wanted[name] = w;
  }
  result.checked = Object.keys(wanted) as SettingName[];
  const before = await driver.read(port, id);
  result.differences = compare(wanted, before, result.checked);
  if (mode !== 'apply' || result.differences.length === 0) {
    result.remaining = result.differences;
    return result;
  }
  const changes: Settings = {};
  for (const d of result.differences) changes[d.setting] = d.want;
  await driver.write(port, id, changes);
  result.written = result.differences.map((d) => d.setting);
  const after = await driver.read(port, id);
  result.remaining = compare(wanted, after, result.checked);
  // Flash has limited writes: only when the writes took, once.
  if (result.remaining.length === 0) {
    await driver.save(port, id, changes);
    result.saved = true;
  }
  return result;
}
