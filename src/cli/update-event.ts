// `kiosk update-event --outcome installed|committed|rolled-back|failed --release ID [--previous ID] [--why TEXT]`:
// an update's outcome as a fleet event (type `update`) in the journal's outbox, which the daemon publishes in
// order with the others. The Mender update module (device/mender/kiosk-release) runs it at each step, as the
// kiosk user (/usr/local/bin/kiosk): root would leave SQLite's -wal and -shm files the daemon cannot open.
// Exit 0 recorded, or nothing to record to (no fleet section, no journal yet: said so); 2 bad input.
import { existsSync } from 'node:fs';
import { parseCommand, UsageError } from './args.js';
import { runCommand, techConfig, writeJournal } from './tech/context.js';
import { EXIT, processIo, type Io } from './tech/format.js';
import { recordFleetEvent } from '../kiosk/fleet.js';
import { installedReleases } from '../release.js';
import { UPDATE_OUTCOMES, type UpdateEventData, type UpdateOutcome } from '../fleet/protocol.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const MAX_WHY = 500;

export async function main(argv: string[]): Promise<number> {
  return run(argv, processIo);
}

export async function run(argv: readonly string[], io: Io): Promise<number> {
  return runCommand(io, () => updateEvent(argv, io));
}

function updateEvent(argv: readonly string[], io: Io): number {
  const args = parseCommand('update-event', argv);
  const outcome = args.flags.outcome;
  if (typeof outcome !== 'string' || !(UPDATE_OUTCOMES as readonly string[]).includes(outcome)) {
    throw new UsageError(`--outcome must be one of ${UPDATE_OUTCOMES.join(', ')}, got ${JSON.stringify(outcome)}`);
  }
  const release = String(args.flags.release ?? '');
  if (!ID.test(release)) throw new UsageError(`--release must be a release id (letters, digits, . _ + -), got ${JSON.stringify(release)}`);
  const previous = typeof args.flags.previous === 'string' && args.flags.previous !== '' ? args.flags.previous : null;
  if (previous !== null && !ID.test(previous)) throw new UsageError(`--previous must be a release id, got ${JSON.stringify(previous)}`);
  // A reason is the last line of a script's output: one line, bounded, nothing that would break a dashboard.
  const whyRaw = typeof args.flags.why === 'string' ? args.flags.why.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() : '';
  const why = whyRaw ? (whyRaw.length > MAX_WHY ? `${whyRaw.slice(0, MAX_WHY)}…` : whyRaw) : null;
  const { config } = techConfig(args, io);
  const data: UpdateEventData = { outcome: outcome as UpdateOutcome, release, previous, running: installedReleases().current?.id ?? null, why };
  if (!config.fleet) {
    io.out(`update ${outcome} (${release}): not recorded, the config has no fleet section\n`);
    return EXIT.OK;
  }
  if (!existsSync(config.journal.path)) {
    io.out(`update ${outcome} (${release}): not recorded, no journal yet at ${config.journal.path}\n`);
    return EXIT.OK;
  }
  const journal = writeJournal(config.journal.path);
  try {
    recordFleetEvent(config, journal, 'update', { ...data });
  } finally {
    journal.close();
  }
  io.out(`update ${outcome} (${release}): recorded for the fleet\n`);
  return EXIT.OK;
}
