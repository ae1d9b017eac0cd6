// A simulated vending machine controller (VMC) behind a simulated MDB HAT, speaking the HAT's line protocol
// (src/hardware/mdb.ts) from the HAT's side: it reads the host's commands and writes the HAT's lines. It sits on
// the far end of a real pty (tests, `kiosk dev --mdb`) or directly behind SimMdb (the demo). What a machine does
// is driven from outside: select a product, time out, cancel, report a vend's success or failure, reset
// mid-session, send garbage. Every host command is kept (`received`) so tests can prove what was never sent.
import { EventEmitter } from 'node:events';
import type { Clock } from '../../clock.js';
import { systemClock } from '../../clock.js';
import { LineSplitter, parseMdbLine, type MdbCommand, type MdbDevice } from '../mdb.js';

export type VmcState = 'inactive' | 'enabled' | 'requested' | 'approved' | 'session';
/** What the machine does once a vend is approved: report success, failure, or wait for succeed()/fail(). */
export type VendOutcome = 'success' | 'failure' | 'hold';

export interface VmcSimOptions {
  /** Default 'success'. */
  outcome?: VendOutcome;
  /** How long the "motor" runs before the machine reports (ms); 0: at once. */
  vendMs?: number;
  clock?: Clock;
}

/** Events: 'output' (Buffer) the HAT's bytes to the host; 'command' (line) every host line; 'approved' (amount). */
export class VmcSim extends EventEmitter {
  state: VmcState = 'inactive';
  outcome: VendOutcome;
  /** The outcome of the next approved vend only (a jam on the panel), then `outcome` again. */
  nextOutcome: VendOutcome | undefined;
  readonly received: string[] = [];
  /** Approvals (C,VEND) that came when no vend was requested (after C,STOP, a cancel, a timeout): must stay empty. */
  readonly approvalsOutOfTurn: string[] = [];
  private pending: { amount: string; productId: string } | null = null;
  private credit: string | null = null;
  private readonly lines = new LineSplitter();
  private readonly clock: Clock;

  constructor(private readonly o: VmcSimOptions = {}) {
    super();
    this.outcome = o.outcome ?? 'success';
    this.clock = o.clock ?? systemClock;
  }

  /** Bytes from the host. */
  receive(chunk: Buffer): void {
    for (const line of this.lines.push(chunk)) if (line.trim()) this.command(line.trim());
  }

  /** One host line. */
  command(line: string): void {
    this.received.push(line);
    this.emit('command', line);
    const f = line.split(',');
    if (line === 'C,1') {
      // A host that restarted mid-vend enables an enabled HAT: the machine's session goes on (docs/mdb.md: not
      // confirmed for the real HAT).
      if (this.state !== 'inactive' && this.state !== 'enabled') return;
      // The HAT is on; the VMC polls, resets and enables the reader.
      this.state = 'enabled';
      this.pending = null;
      this.say('c,STATUS,INACTIVE', 'c,STATUS,DISABLED', 'c,STATUS,ENABLED');
    } else if (line === 'C,0') {
      this.state = 'inactive';
      this.pending = null;
      this.say('c,STATUS,INACTIVE');
    } else if (line === 'C,STOP') {
      if (this.state === 'requested' || this.state === 'session') this.end();
    } else if (f[0] === 'C' && f[1] === 'VEND') {
      if (this.state !== 'requested' || !this.pending) {
        this.approvalsOutOfTurn.push(line);
        return;
      }
      this.state = 'approved';
      const outcome = this.nextOutcome ?? this.outcome;
      this.nextOutcome = undefined;
      this.emit('approved', f[2]);
      if (outcome === 'hold') return;
      const report = () => (outcome === 'success' ? this.succeed() : this.fail());
      if (this.o.vendMs) this.clock.setTimeout(report, this.o.vendMs);
      else report();
    } else if (f[0] === 'C' && f[1] === 'START' && f[2]) {
      if (this.state !== 'enabled') return;
      this.state = 'session';
      this.credit = f[2];
    }
  }

  /** A customer chooses a product on the machine: the VMC asks the reader for `amount` (decimal text). */
  select(amount: string, productId: string): void {
    this.pending = { amount, productId };
    this.state = 'requested';
    this.say(`c,STATUS,VEND,${amount},${productId}`);
  }

  /** The customer cancels on the machine, or the VMC's own approval timeout ends the session. */
  cancel(): void {
    this.end();
  }

  /** The machine reports the approved vend done. */
  succeed(): void {
    this.pending = null;
    this.state = 'enabled';
    this.say('c,VEND,SUCCESS', 'c,STATUS,IDLE', 'c,STATUS,ENABLED');
  }

  /** The machine reports the approved product did not come out. */
  fail(): void {
    this.pending = null;
    this.state = 'enabled';
    this.say('c,ERR,VEND 3', 'c,STATUS,IDLE', 'c,STATUS,ENABLED');
  }

  /** The VMC resets mid-session (power glitch, door opened): the reader goes through inactive to enabled. */
  reset(): void {
    this.pending = null;
    this.credit = null;
    this.state = 'enabled';
    this.say('c,STATUS,INACTIVE', 'c,STATUS,DISABLED', 'c,STATUS,ENABLED');
  }

  /** Raw bytes, as noise or a confused HAT would send them. */
  garbage(text: string): void {
    this.emit('output', Buffer.from(text, 'latin1'));
  }

  /** The product chosen and its price, while the machine asks for (or vends) it. */
  get selection(): { amount: string; productId: string } | null {
    return this.pending ? { ...this.pending } : null;
  }

  /** The credit of a session opened with C,START (session mode). */
  get sessionCredit(): string | null {
    return this.credit;
  }

  private end(): void {
    this.pending = null;
    this.credit = null;
    this.state = 'enabled';
    this.say('c,STATUS,IDLE', 'c,STATUS,ENABLED');
  }

  private say(...lines: string[]): void {
    for (const l of lines) this.emit('output', Buffer.from(`${l}\r\n`, 'latin1'));
  }
}

/** mdb.driver 'sim': the HAT and the machine in this process (the demo). Same events as the serial driver. */
export class SimMdb extends EventEmitter implements MdbDevice {
  readonly path = 'sim';
  private open_ = false;
  private readonly lines = new LineSplitter();

  constructor(readonly vmc: VmcSim = new VmcSim()) {
    super();
    vmc.on('output', (b: Buffer) => {
      if (!this.open_) return;
      for (const line of this.lines.push(b)) {
        const msg = parseMdbLine(line);
        this.emit('line', { dir: 'in', line: msg.kind === 'garbage' ? msg.line : line.trim() });
        this.emit('message', msg);
      }
    });
  }

  get connected(): boolean {
    return this.open_;
  }

  async open(): Promise<void> {
    this.open_ = true;
    this.emit('connected', { path: this.path });
    this.send('C,1');
  }

  send(command: MdbCommand): boolean {
    if (!this.open_) return false;
    this.emit('line', { dir: 'out', line: command });
    // The machine answers after this call returns, as a real one would.
    queueMicrotask(() => this.vmc.command(command));
    return true;
  }

  async close(): Promise<void> {
    this.open_ = false;
  }
}
