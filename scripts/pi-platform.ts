// The facts `npm run test:pi` works from, kept apart from the steps that use them (scripts/test-pi.ts) so each is
// tested on x86: the two Raspberry Pi OS targets, where the apt mirror comes from, which test files run under
// emulation and why the others do not, how mocha's summary and the final JSON line read.

export const SUITE = 'trixie'; // Raspberry Pi OS is Debian 13 (trixie)

export interface PiArch {
  /** Debian's name (and debootstrap's --arch). */
  debian: 'arm64' | 'armhf';
  /** process.arch / node-gyp's --arch in that root. */
  node: 'arm64' | 'arm';
  /** qemu-user's binfmt entry, /proc/sys/fs/binfmt_misc/qemu-<name>. */
  qemu: string;
  /** Debian's cross toolchain prefix (crossbuild-essential-<debian>). */
  triplet: string;
}

export const ARCHES: Record<string, PiArch> = {
  arm64: { debian: 'arm64', node: 'arm64', qemu: 'aarch64', triplet: 'aarch64-linux-gnu' },
  armhf: { debian: 'armhf', node: 'arm', qemu: 'arm', triplet: 'arm-linux-gnueabihf' },
};

/** A kiosk root: Debian's own Node and npm, what a Pi needs to build native modules, the tools the tests use. */
export const ROOT_PACKAGES = ['nodejs', 'npm', 'python3', 'make', 'g++', 'ca-certificates', 'socat', 'openssl', 'procps'];

export class PiUsageError extends Error {}

export interface PiOptions {
  arch: PiArch;
  /** The folder holding one root per arch (<roots>/<arch>). */
  roots: string;
  /** An apt mirror given by hand; else this machine's. */
  mirror?: string;
  /** The whole suite instead of the subset. */
  all: boolean;
}

export const USAGE = `usage: npm run test:pi -- --arch arm64|armhf [--roots DIR] [--mirror URL] [--all]
  --arch    the Raspberry Pi OS userland to build and test for (arm64: the 64-bit OS; armhf: the 32-bit OS)
  --roots   folder of the Debian roots, one per arch (<DIR>/<arch>), made when missing and reused after
            (default: $KIOSK_PI_ROOTS, else /var/tmp/kiosk-pi-roots)
  --mirror  the Debian mirror for a new root (default: $KIOSK_PI_MIRROR, else this machine's apt sources)
  --all     the whole mocha suite instead of the stated subset (hours under emulation)
Needs root (debootstrap, chroot, mounts), qemu-user-static with binfmt, debootstrap and crossbuild-essential-<arch>.`;

export function parsePiArgs(argv: string[], env: NodeJS.ProcessEnv): PiOptions {
  let arch: string | undefined;
  let roots = env.KIOSK_PI_ROOTS || '/var/tmp/kiosk-pi-roots';
  let mirror = env.KIOSK_PI_MIRROR || undefined;
  let all = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new PiUsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--arch') arch = value();
    else if (a === '--roots') roots = value();
    else if (a === '--mirror') mirror = value();
    else if (a === '--all') all = true;
    else throw new PiUsageError(`unknown argument ${JSON.stringify(a)}`);
  }
  if (arch === undefined) throw new PiUsageError('--arch is required: arm64 or armhf');
  const target = ARCHES[arch];
  if (!target) throw new PiUsageError(`--arch must be arm64 or armhf, got ${JSON.stringify(arch)}`);
  if (mirror !== undefined && !/^https?:\/\/[^\s]+$/.test(mirror)) throw new PiUsageError(`--mirror must be an http(s) URL, got ${JSON.stringify(mirror)}`);
  return { arch: target, roots, all, ...(mirror ? { mirror } : {}) };
}

/**
 * The Debian archive this machine's apt uses (the first `deb` source whose URL ends in /debian), from the
 * contents of /etc/apt/sources.list (one-line format) and /etc/apt/sources.list.d/*.sources (deb822).
 */
export function aptMirror(files: { name: string; text: string }[]): string | undefined {
  const isArchive = (url: string) => /^https?:\/\/\S+\/debian\/?$/.test(url);
  for (const { name, text } of files) {
    if (name.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (key: string) => new RegExp(`^${key}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1]?.trim();
        if (/^enabled:\s*no\s*$/im.test(stanza)) continue;
        if (!(field('Types') ?? '').split(/\s+/).includes('deb')) continue;
        const url = (field('URIs') ?? '').split(/\s+/).find(isArchive);
        if (url) return url.replace(/\/$/, '');
      }
    } else if (name.endsWith('.list')) {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)/.exec(line);
        if (m && isArchive(m[1]!)) return m[1]!.replace(/\/$/, '');
      }
    }
  }
  return undefined;
}

/**
 * The test files run under emulation, each with what it proves there: what differs between this x86 machine and a
 * Pi's userland (native modules compiled for that CPU, Debian's own Node and OpenSSL, binary layouts, kernel calls
 * through the emulator). Emulated, Node runs about 15 times slower than here: the whole suite would take hours.
 */
export const SUBSET: Record<string, string> = {
  'journal/journal.test.js': "better-sqlite3 compiled for that CPU: every transition in one fsync'd transaction, WAL, migrations",
  'journal/quick-check.test.js': "SQLite's quick_check in a worker thread (the native module loaded twice in one process)",
  'journal/files.test.js': 'exact 64-bit inode numbers (the journal replaced under the daemon)',
  'kiosk/lock.test.js': "flock(2) from that CPU's libc through koffi's prebuilt binary for it",
  'kiosk/disk-full.test.js': 'SQLite on a full filesystem (a real 1 MiB tmpfs): ENOSPC reaches the journal as on the Pi',
  'kiosk/wal-keeper.test.js': "the journal's WAL checkpoints",
  'hardware/hid.test.js': 'input_event records of both layouts (16 bytes for 32-bit userland) through the decoder and driver',
  'hardware/scanner-pty.test.js': "@serialport/bindings-cpp's prebuilt binary for that CPU on a real pty",
  'umpay/vectors.test.js': "the published signature vectors through Debian's Node, built on the system OpenSSL",
};

/** How much slower the emulated Node runs than this machine's (measured ~15×; more under load): the tests' own
 *  hang bounds and timeouts are multiplied by it (KIOSK_TEST_SLOWDOWN, test/wait.ts). */
export const SLOWDOWN = 20;

export const NOT_PLACED = 'not placed yet in scripts/pi-platform.ts (added since the subset was chosen): npm test runs it on x86';

const WHY = {
  js: 'logic and protocol in JavaScript over modules the subset already loads on that CPU: no word size, layout or native call of its own; npm test runs it on x86, emulated it costs ~15x',
  processes: 'starts kiosk processes again and again (daemons, CLI commands), 10-20 s each under emulation; the run starts the daemon itself (kiosk demo --auto 7, five cold starts)',
  static: 'reads sources or docs, not the CPU: the same answer everywhere',
} as const;

// A key of WHY, or the file's own reason.
const LEFT: Record<string, string> = {
  'architecture.test.js': 'static',
  'docs-names.test.js': 'static',
  'mutation/stryker.test.js': 'static',
  'hardware/modules-docs.test.js': 'static',
  'config/reference.test.js': 'static',
  'field/test-pi.test.js': 'this script itself, on the machine that runs it',
  'crash/crash.test.js': '~140 engine processes killed and recovered: hours emulated; SQLite recovery is in journal/ and the demo',
  'bench/soak.test.js': 'a soak with daemon kills: a load test (npm run soak on a device), hours emulated',
  'field/install.test.js': 'install.sh (shell) into a temp root, ten installs and daemon restarts: processes',
  'field/pm2.test.js': 'pm2 restarting a killed daemon: the process manager, not the CPU',
  'field/systemd.test.js': 'needs systemd-analyze: a root in a chroot has no systemd',
  'field/ecosystem.test.js': 'processes',
  'hardware/serial-hangup.test.js': "bindings-cpp's binary on a real pty as scanner-pty.test.ts, which the subset runs; the hangup itself is the host kernel's under user-mode emulation",
  'hardware/hangup-binding.test.js': 'js',
  'fleet/e2e.test.js': 'a real Mosquitto and daemons: processes; the MQTT client is JavaScript',
  'kiosk/fsync.test.js': 'counts fsyncs with strace, and qemu-user cannot be traced: the count follows the code path',
  'umpay/java-rule.test.js': 'needs a JDK (skipped on x86 too without one)',
  'offline/drills.test.js': 'link outages on timers sized for a native CPU, with daemons: processes',
  'payment/drills.test.js': 'fault drills against the sandbox with timeouts sized for a native CPU',
  'cli/commands.test.js': 'processes',
  'cli/dev.test.js': 'processes',
  'cli/log-leak.test.js': 'processes',
  'cli/logs.test.js': 'processes',
  'cli/reconcile.test.js': 'processes',
  'cli/report-export.test.js': 'processes',
  'cli/scanner.test.js': 'processes',
  'cli/selftest.test.js': 'processes',
  'cli/settle.test.js': 'processes',
  'cli/status-doctor.test.js': 'processes',
  'cli/tech.test.js': 'processes',
  'cli/version.test.js': 'processes',
  'journal/cli.test.js': 'processes',
  'kiosk/cli.test.js': 'processes',
  'kiosk/control.test.js': 'processes',
  'kiosk/daemon-errors.test.js': 'processes',
  'kiosk/daemon.test.js': 'processes',
  'kiosk/demo.test.js': 'processes',
  'kiosk/journal-gone.test.js': 'processes',
  'sandbox/cli.test.js': 'processes',
  'start/imports.test.js': 'processes',
  'umpay/cli.test.js': 'processes',
  'umpay/docs-example.test.js': 'processes',
  'fleet/tls.test.js': 'processes',
  'fleet/watch.test.js': 'processes',
  'config/approve-confirm.test.js': 'js',
  'config/config.test.js': 'js',
  'config/display.test.js': 'js',
  'config/fleet.test.js': 'js',
  'fleet/client.test.js': 'js',
  'fleet/client-edges.test.js': 'js',
  'fleet/scanner-setup.test.js': 'js',
  'hardware/display.test.js': 'js',
  'hardware/keypad.test.js': 'js',
  'hardware/modules-gm.test.js': 'js',
  'hardware/modules-tagged.test.js': 'js',
  'hardware/outputs.test.js': 'js',
  'hardware/scanner-fuzz.test.js': 'js',
  'hardware/scanner.test.js': 'js',
  'journal/open.test.js': 'js',
  'journal/orderno.test.js': 'js',
  'journal/outbox.test.js': 'js',
  'journal/outbox-aging.test.js': 'js',
  'journal/reader.test.js': 'js',
  'journal/transitions.test.js': 'js',
  'journal/states.test.js': 'js',
  'kiosk/interaction.test.js': 'js',
  'kiosk/screens.test.js': 'js',
  'kiosk/settle-daily.test.js': 'js',
  'kiosk/vend.test.js': 'js',
  'log.test.js': 'js',
  'offline/link.test.js': 'js',
  'offline/status.test.js': 'js',
  'payment/clock-steps.test.js': 'js',
  'payment/edges.test.js': 'js',
  'payment/engine.test.js': 'js',
  'sandbox/client.test.js': 'js',
  'sandbox/sandbox.test.js': 'js',
  'umpay/authcode.test.js': 'js',
  'umpay/client.test.js': 'js',
  'umpay/messages.test.js': 'js',
  'umpay/outcome.test.js': 'js',
  'umpay/settle-download.test.js': 'js',
  'umpay/vendor.test.js': 'js',
  'cli/platform-clock.test.js': 'processes',
  'cli/update-event.test.js': 'processes',
  'field/mender.test.js': "the real Mender client (this machine's Debian package) running install.sh: processes, not the kiosk's CPU",
  'kiosk/clock-drill.test.js': 'eight daemons under libfaketime (an LD_PRELOAD of this machine): processes',
  'kiosk/mdb-daemon.test.js': 'processes',
  'kiosk/mdb-session.test.js': 'processes',
  'fleet/hostile.test.js': 'a real Mosquitto (an x86 process) against the MQTT client, which is JavaScript',
  'sandbox/tls.test.js': "TLS through the same system OpenSSL the vectors test already loads in Debian's Node on that CPU; the handshake is OpenSSL's",
  'kiosk/warm.test.js': 'the same TLS connection reuse as sandbox/tls, with the whole daemon on a fake clock: JavaScript over modules the subset loads',
  'kiosk/idle.test.js': 'js',
  'config/gateway-tls.test.js': 'js',
  'config/mdb.test.js': 'js',
  'dirs.test.js': 'js',
  'fleet/files.test.js': 'js',
  'fleet/protocol.test.js': 'js',
  'hardware/mdb.test.js': 'js',
  'payment/clock-money.test.js': 'js',
  'payment/settle-compare.test.js': 'js',
  'payment/settle-day.test.js': 'js',
  'umpay/platform-clock.test.js': 'js',
  'umpay/settle-parse.test.js': 'js',
  'payment/background-edges.test.js': 'js',
  'payment/reversal-unclear.test.js': 'js',
  'offline/link-gateway.test.js': 'js',
  'offline/link-status.test.js': 'js',
  'payment/clock-check.test.js': 'js',
  'payment/core-record.test.js': 'js',
  'payment/crash-points.test.js': 'js',
  'payment/customer-edges.test.js': 'js',
  'payment/customer.test.js': 'js',
  'payment/engine-face.test.js': 'js',
  'payment/refund.test.js': 'js',
  'payment/reversal.test.js': 'js',
  'payment/scheduler.test.js': 'js',
  'payment/vend-recovery.test.js': 'js',
  'umpay/canonical.test.js': 'js',
  'umpay/client-gateway.test.js': 'js',
  'umpay/client-wire.test.js': 'js',
  'umpay/codes.test.js': 'js',
  'umpay/keys.test.js': 'js',
  'umpay/messages-rules.test.js': 'js',
  'umpay/outcome-words.test.js': 'js',
  'umpay/platform-clock-words.test.js': 'js',
  'umpay/settle-download-wire.test.js': 'js',
  'umpay/settle-parse-parts.test.js': 'js',
  'umpay/settlement.test.js': 'js',
  'umpay/warm.test.js': 'js',
};

/**
 * Every other test file, each with why it is left out. A test file named in neither (added since) is left out too,
 * with NOT_PLACED as its reason, and the run names it: put it in one of the two.
 */
export const LEFT_OUT: Record<string, string> = Object.fromEntries(Object.entries(LEFT).map(([f, k]) => [f, k in WHY ? WHY[k as keyof typeof WHY] : k]));

export interface MochaCounts {
  passing: number;
  failing: number;
  pending: number;
}

/** The counts at the end of mocha's spec reporter output ("  12 passing (3s)", "  1 pending", "  2 failing"). */
export function mochaCounts(output: string): MochaCounts | undefined {
  const count = (word: string) => {
    const all = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))];
    return all.length ? Number(all[all.length - 1]![1]) : undefined;
  };
  const passing = count('passing');
  if (passing === undefined) return undefined;
  return { passing, failing: count('failing') ?? 0, pending: count('pending') ?? 0 };
}

export interface PiResult {
  arch: string;
  node: string;
  npmCiS: number;
  buildS: number;
  tests: MochaCounts;
  demo: string;
  coldStartRatio: number | null;
}

/** The one line the run ends with; seconds to 0.1 s, the ratio to 0.01. */
export function resultLine(r: PiResult): string {
  const s = (x: number) => Math.round(x * 10) / 10;
  return JSON.stringify({
    arch: r.arch,
    node: r.node,
    npmCiS: s(r.npmCiS),
    buildS: s(r.buildS),
    tests: r.tests,
    demo: r.demo,
    coldStartRatio: r.coldStartRatio === null ? null : Math.round(r.coldStartRatio * 100) / 100,
  });
}

/** The part of docs/tests.md generated from here (scripts/docs.ts puts it between its markers): which test files
 * run under emulation and why each other one does not. */
export function piSubsetTable(): string {
  const rows = (m: Record<string, string>) =>
    Object.entries(m)
      .sort(([x], [y]) => x.localeCompare(y))
      .map(([f, why]) => `| \`test/${f.replace(/\.js$/, '.ts')}\` | ${why} |`);
  const byReason = new Map<string, string[]>();
  for (const [f, why] of Object.entries(LEFT_OUT)) byReason.set(why, [...(byReason.get(why) ?? []), `\`${f.replace(/\.test\.js$/, '')}\``]);
  const left = [...byReason].sort((x, y) => y[1].length - x[1].length).map(([why, fs]) => `| ${fs.sort().join(', ')} | ${why} |`);
  return [
    `Run under emulation (${Object.keys(SUBSET).length} files):`,
    '',
    '| file | what it proves on that CPU |',
    '|---|---|',
    ...rows(SUBSET),
    '',
    `Left out (${Object.keys(LEFT_OUT).length} files, and any test file added since and not placed yet; \`--all\` runs them too), each with its reason:`,
    '',
    '| files (under `test/`) | why not under emulation |',
    '|---|---|',
    ...left,
    '',
  ].join('\n');
}
