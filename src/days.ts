// Local calendar days as people name them (`yyyy-mm-dd`) and as the journal stores instants (ISO, UTC):
// shared by the technician commands (report, export, settle) and the daemon's fleet status.

/** `yyyy-mm-dd` (or yyyyMMdd) → the local day's [start, end) as ISO instants, and its yyyyMMdd. */
export function localDayRange(day: string): { fromIso: string; toIso: string; ymd: string } | undefined {
  const m = /^([0-9]{4})-?([0-9]{2})-?([0-9]{2})$/.exec(day);
  if (!m) return undefined;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const start = new Date(y, mo - 1, d);
  if (start.getFullYear() !== y || start.getMonth() !== mo - 1 || start.getDate() !== d) return undefined;
  const end = new Date(y, mo - 1, d + 1);
  return { fromIso: start.toISOString(), toIso: end.toISOString(), ymd: `${m[1]}${m[2]}${m[3]}` };
}
