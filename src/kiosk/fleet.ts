// The daemon's side of the fleet: what the status, metrics and remote commands are made of, and which
// daemon events become outbox events (faults). Order events are written by the journal's transition
// transactions themselves (src/journal/outbox.ts); this only kicks the publisher after them.
import { statSync } from 'node:fs';
import type { Config } from '../config/index.js';
import type { FleetConfig } from '../config/fleet.js';
import type { Logger } from '../log.js';
import type { Journal } from '../journal/journal.js';
import { isFinal } from '../journal/journal.js';
import { Outbox as OutboxClass, type Outbox } from '../journal/outbox.js';
import type { PaymentEngine, TransitionEvent } from '../payment/engine.js';
import type { LinkChange, LinkMonitor } from '../payment/link.js';
import type { Hardware } from '../hardware/index.js';
import type { Interaction } from './interaction.js';
import { FleetClient, type FleetHost } from '../fleet/client.js';
import { localDayRange } from '../days.js';
import { installedReleases, releaseInfo } from '../release.js';
import type { DaemonStatus, ReconcileSummary } from './control.js';
import { zoneNote, type ClockReading } from '../umpay/platform-clock.js';

/** The parts of the running daemon the fleet reads (no reference to the Daemon class: no cycle). */
export interface FleetParts {
  config: Config & { fleet: FleetConfig };
  log: Logger;
  journal: Journal;
  outbox: Outbox;
  engine: PaymentEngine;
  link: LinkMonitor;
  hardware: Hardware;
  interaction: Interaction;
  /** The kiosk's clock against the payment platform's (src/umpay/platform-clock.ts). */
  platformClock: { reading(): ClockReading };
  status(): DaemonStatus;
  reconcile(): Promise<ReconcileSummary>;
  /** The remote `doctor`: `kiosk doctor --json` on the daemon's config file, handed in by `kiosk run` (the CLI). */
  doctor?: () => Promise<Record<string, unknown>>;
  /**
   * The scanner module's setup on demand (src/kiosk/scanner-setup.ts), shared with the control socket: one at a time.
   */
  scannerSetup(args: Record<string, unknown>): Promise<unknown>;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** The status's `clock`: ok, unknown or wrong, by how much (ms, + fast), and why. */
const clockSummary = (r: ClockReading): { state: string; offsetMs?: number; detail: string } => ({
  state: r.state,
  ...(r.offsetMs !== undefined ? { offsetMs: r.offsetMs } : {}),
  detail: r.zoneIsPlatform ? r.detail : `${r.detail}; ${zoneNote(r)}`,
});
const localDay = (d: Date): string => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export function startFleet(p: FleetParts): FleetClient {
  const { journal, outbox, engine, log } = p;
  const self = releaseInfo();
  const version = self.version;
  // Read once: a switch of the links restarts the daemon, which reads them again.
  const release = { id: self.id, previous: installedReleases(self).previous?.id ?? null };
  // Metrics of the current interval.
  let finals: Record<string, number> = {};
  let verdictMs: number[] = [];
  let processingSince: number | undefined;

  const takings = (day: string) => {
    const range = localDayRange(day)!;
    let count = 0;
    let amountFen = 0;
    for (const r of journal.dayReport(range.fromIso, range.toIso)) {
      if (r.state !== 'delivered') continue;
      count += r.count;
      amountFen += r.amountFen;
    }
    return { day, count, amountFen };
  };

  const journalBytes = (): number => {
    let n = 0;
    for (const side of ['', '-wal']) {
      try {
        n += statSync(journal.file + side).size;
      } catch {
        /* no WAL right now */
      }
    }
    return n;
  };

  const host: FleetHost = {
    status: () => {
      const counts = journal.countsByState();
      const d = outbox.depth();
      return {
        version,
        release,
        uptimeS: Math.round(process.uptime()),
        link: p.link.state,
        scanner: { connected: p.hardware.scanner.connected, device: p.config.scanner.driver === 'serial' ? p.config.scanner.path : p.config.scanner.driver },
        interaction: p.interaction.state.name,
        attention: counts.attention ?? 0,
        unfinished: journal.unfinishedSummary().count,
        lastPaymentAt: journal.lastPayment()?.createdAt ?? null,
        today: takings(localDay(new Date())),
        outbox: { count: d.count, dropped: d.dropped },
        clock: clockSummary(p.platformClock.reading()),
      };
    },
    metrics: () => {
      const sorted = verdictMs.sort((a, b) => a - b);
      const m = {
        intervalMs: p.config.fleet.metricsIntervalMs,
        outcomes: finals,
        customerMs: { n: sorted.length, p50: percentile(sorted, 50), p95: percentile(sorted, 95), max: sorted.length ? sorted[sorted.length - 1]! : null },
        engine: { ...engine.stats, background: engine.pending },
        link: p.link.state,
        journalBytes: journalBytes(),
      };
      finals = {};
      verdictMs = [];
      return m;
    },
    commands: {
      status: async () => ({ ...host.status(), daemon: p.status() }),
      reconcile: async () => p.reconcile(),
      report: async (args) => {
        const day = typeof args.day === 'string' ? args.day : localDay(new Date());
        const range = localDayRange(day);
        if (!range) throw new Error(`day must be YYYY-MM-DD, got ${JSON.stringify(args.day)}`);
        return { day, rows: journal.dayReport(range.fromIso, range.toIso), takings: takings(day) };
      },
      doctor: async () => {
        if (!p.doctor) throw new Error('not available: the daemon was started without a config file name');
        return p.doctor();
      },
      // Without the relay (it releases a product) and without a lamp sequence (a customer may be in front of
      // the kiosk): the devices' and the journal's state as the daemon sees them. quick_check reads the whole
      // journal: in a worker thread, so that a customer paying meanwhile is not held for it.
      selftest: async () => {
        const integrity = await journal.quickCheckOffThread();
        const checks = [
          scannerCheck(p.hardware.scanner, p.config.scanner.trigger),
          { name: 'indicator', ok: true, detail: `showing ${String((p.hardware.indicator as { pattern?: string }).pattern ?? 'unknown')}` },
          { name: 'approve', ok: true, detail: 'not pulsed remotely (it releases a product): kiosk selftest --approve on site' },
          { name: 'journal', ok: integrity === 'ok', detail: `quick_check: ${integrity}` },
          { name: 'link', ok: p.link.state !== 'offline', detail: p.link.state },
          { name: 'platform clock', ok: p.platformClock.reading().state !== 'wrong', detail: p.platformClock.reading().detail },
        ];
        return { ok: checks.every((c) => c.ok), checks };
      },
      'scanner-setup': (args) => p.scannerSetup(args),
    },
  };

  const client = new FleetClient({ fleet: p.config.fleet, deviceId: p.config.deviceId, outbox, host, log });

  // Status on changes, at most once a second (a burst of payments is one update).
  let statusTimer: NodeJS.Timeout | undefined;
  const statusSoon = (): void => {
    if (statusTimer) return;
    statusTimer = setTimeout(() => {
      statusTimer = undefined;
      client.publishStatus();
    }, 1000);
    statusTimer.unref();
  };
  const fault = (data: Record<string, unknown>): void => {
    try {
      outbox.append('fault', data);
      client.kick();
    } catch (err) {
      log.warn({ event: 'fleet-outbox-error', err }, 'could not record a fault for the fleet');
    }
  };

  engine.on('transition', (t: TransitionEvent) => {
    if (isFinal(t.to) || t.to === 'attention' || t.from === 'attention') {
      client.kick();
      statusSoon();
    }
    if (isFinal(t.to)) finals[t.to] = (finals[t.to] ?? 0) + 1;
  });
  engine.on('attention', (a: { orderNo: string; reason: string }) => {
    // Transitions into `attention` are order events already; these are the others (relay failed,
    // delivery uncertain, an internal error), which an operator must hear about too.
    const o = journal.getPublic(a.orderNo);
    if (o?.state !== 'attention') fault({ source: 'engine', orderNo: a.orderNo, detail: a.reason.slice(0, 300) });
  });
  p.interaction.on('state', (s: { name: string }) => {
    if (s.name === 'processing') processingSince = performance.now();
  });
  p.interaction.on('payment', () => {
    if (processingSince !== undefined) verdictMs.push(Math.round(performance.now() - processingSince));
    processingSince = undefined;
  });
  let scannerUp = p.hardware.scanner.connected;
  p.hardware.scanner.on('fault', (f: { reason: string }) => {
    if (!scannerUp) return;
    scannerUp = false;
    fault({ source: 'scanner', state: 'fault', detail: String(f.reason).slice(0, 200) });
    statusSoon();
  });
  p.hardware.scanner.on('connected', () => {
    if (scannerUp) return;
    scannerUp = true;
    fault({ source: 'scanner', state: 'connected' });
    statusSoon();
  });
  p.link.on('change', (c: LinkChange) => {
    if (c.to === 'offline' || c.from === 'offline') fault({ source: 'link', state: c.to, from: c.from, detail: c.cause.slice(0, 200) });
    statusSoon();
  });
  return client;
}

/**
 * The remote selftest's scanner line. An open port is not enough: a module that does not match the profile, does
 * not answer in command-trigger mode, or failed a setup takes no payments (the kiosk shows F01).
 */
export function scannerCheck(scanner: Pick<Hardware['scanner'], 'connected' | 'moduleStatus'>, trigger: Config['scanner']['trigger']): { name: 'scanner'; ok: boolean; detail: string } {
  if (!scanner.connected) return { name: 'scanner', ok: false, detail: 'not connected (unplugged or no permission: kiosk doctor)' };
  const m = scanner.moduleStatus;
  if (!m) return { name: 'scanner', ok: true, detail: 'connected' };
  const ok = m.state === 'ready' || (m.state === 'no-answer' && trigger !== 'command');
  const who = `${m.module}${m.identity ? ` ${m.identity.model}` : ''}`;
  return { name: 'scanner', ok, detail: `connected; module ${who}: ${m.state}${m.error ? ` (${m.error})` : ''}` };
}

/**
 * For a process other than the daemon (e.g. the daily reconciliation run): adds an event to the journal's
 * outbox, which the daemon publishes in order with the others (it reads the outbox every few seconds).
 * Does nothing and returns false when the config has no `fleet` section (nobody would ever send it).
 */
export function recordFleetEvent(config: Pick<Config, 'fleet'>, journal: Journal, type: string, data: Record<string, unknown>): boolean {
  if (!config.fleet) return false;
  new OutboxClass(journal).append(type, data);
  return true;
}
