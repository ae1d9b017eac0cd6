// The MDB end-to-end tests' rig: the real daemon (`kiosk run`, a child process) with its HAT driver on a real pty
// (socat) and the simulated vending machine + HAT (src/hardware/sim/mdb-sim.ts) on the far end, the scanner on a
// second pty, the sandbox gateway over HTTP; and what the tests read back: the screen, the journal, the machine.
import { createWriteStream, type WriteStream } from 'node:fs';
import { openJournal } from '../../src/journal/journal.js';
import { VmcSim } from '../../src/hardware/sim/mdb-sim.js';
import { PtyPair } from '../hardware/pty.js';
import { until } from '../wait.js';
import { DaemonFixture, spawnDaemon, type DaemonProcess } from './daemon-helpers.js';
import { run as mdbCli } from '../../src/cli/mdb.js';
import { captureIo } from '../../src/cli/tech/format.js';

export class MdbRig {
  readonly fx = new DaemonFixture();
  readonly vmc = new VmcSim();
  readonly scannerPty = new PtyPair();
  readonly hatPty = new PtyPair();
  daemon!: DaemonProcess;
  private feeder: WriteStream | undefined;
  private detach: () => void = () => undefined;

  /** Starts it all; `config(hat)` is the config beside the scanner's (the `mdb` section with `path: hat`, …). */
  async start(config: (hat: string) => Record<string, unknown>): Promise<this> {
    await this.fx.start();
    await this.scannerPty.start();
    await this.hatPty.start();
    this.detach = this.hatPty.attach(this.vmc);
    this.fx.writeConfig({ scanner: { driver: 'serial', path: this.scannerPty.device, baudRate: 9600, terminator: 'CR', reopenMinMs: 50, reopenMaxMs: 200 }, ...config(this.hatPty.device) });
    await this.startDaemon();
    this.feeder = createWriteStream(this.scannerPty.feeder, { flags: 'w' });
    this.feeder.on('error', () => {});
    return this;
  }

  /**
   * The daemon, once ready and the machine has its reader enabled (the driver's `C,1` on open), and, when the machine
   * answered that (not mid-vend), once the daemon has read the answer: read late (a loaded machine), its
   * `c,STATUS,INACTIVE` would end the first customer's session.
   */
  async startDaemon(): Promise<void> {
    this.daemon = spawnDaemon(this.fx.configFile);
    await this.daemon.waitFor((l) => l.event === 'ready', 'ready');
    await until('the HAT enabled', () => (this.vmc.state !== 'inactive' ? true : undefined), { deadlineMs: 5000, everyMs: 10 });
    if (this.vmc.state === 'enabled') await until("the HAT's answer to C,1 read by the daemon", async () => ((await this.hatLines()).some((l) => l.dir === 'in' && l.line === 'c,STATUS,ENABLED') ? true : undefined), { deadlineMs: 5000, everyMs: 20 });
  }

  /** The HAT's last lines as the running daemon has them (`kiosk mdb status --json`). */
  async hatLines(): Promise<{ dir: string; line: string }[]> {
    const io = captureIo();
    if ((await mdbCli(['status', '--json', '--config', this.fx.configFile], io)) !== 0) return [];
    return (JSON.parse(io.stdout()) as { lines: { dir: string; line: string }[] }).lines;
  }

  scan(code: string): void {
    this.feeder!.write(code + '\r');
  }

  /** The display as the daemon last logged it, lines joined with " / ". */
  screen(): string | undefined {
    const shown = this.daemon.lines.filter((l) => Array.isArray(l.display));
    return (shown.at(-1)?.display as string[] | undefined)?.join(' / ');
  }

  waitScreen(text: string): Promise<true> {
    return until(`screen "${text}"`, () => (this.screen() === text ? true : undefined), { deadlineMs: 8000, everyMs: 10 });
  }

  /** The next order the daemon journals (its log line). */
  async nextOrderNo(): Promise<string> {
    return String((await this.daemon.waitFor((l) => l.event === 'order', 'order journaled')).orderNo);
  }

  order(orderNo: string) {
    const j = openJournal(this.fx.journalPath, { readonly: true });
    try {
      return { order: j.getPublic(orderNo)!, events: j.events(orderNo) };
    } finally {
      j.close();
    }
  }

  final(orderNo: string) {
    return until(`order ${orderNo} final`, () => (this.order(orderNo).order.final ? this.order(orderNo) : undefined), { deadlineMs: 20_000, everyMs: 50 });
  }

  /** The host commands the machine has read since `from` (an index into vmc.received). */
  sent(from: number): string[] {
    return this.vmc.received.slice(from);
  }

  async dispose(): Promise<void> {
    this.feeder?.destroy();
    this.detach();
    await this.daemon?.stop('SIGKILL');
    await this.scannerPty.dispose();
    await this.hatPty.dispose();
    await this.fx.dispose();
  }
}
