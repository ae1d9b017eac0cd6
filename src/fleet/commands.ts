// The fleet's remote commands, their names and the arguments each takes: a leaf (no crypto, nothing of ours),
// so that `kiosk --help` (src/cli/commands.ts lists them) does not load the signing code of protocol.ts,
// which re-exports these for the kiosk's client and the operator's tools.

export const COMMAND_NAMES = ['status', 'doctor', 'reconcile', 'report', 'selftest', 'scanner-setup'] as const;
export type CommandName = (typeof COMMAND_NAMES)[number];

/** The arguments each command takes (their values are checked by the command); any other is refused by name. */
export const COMMAND_ARGS: Readonly<Record<CommandName, readonly string[]>> = {
  status: [],
  doctor: [],
  reconcile: [],
  report: ['day'],
  selftest: [],
  'scanner-setup': ['dryRun'],
};

/** Why a command's arguments are refused, or undefined when every one is known. */
export function unknownArgs(name: CommandName, args: Record<string, unknown>): string | undefined {
  const known = COMMAND_ARGS[name];
  const extra = Object.keys(args).filter((k) => !known.includes(k));
  if (extra.length === 0) return undefined;
  const takes = known.length ? `takes only ${known.join(', ')}` : 'takes no arguments';
  return `unknown argument${extra.length > 1 ? 's' : ''} ${extra.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}: ${name} ${takes}`;
}
