// Simulated Honeywell and Newland modules (the ASCII menu protocols): settings by tag in a working and a saved
// table, queries answered with the echo and ACK, unknown tags with ENQ, bad values with NAK, the trigger and stop
// commands opening and closing the read window.
import { ACK, ENQ, NAK } from '../modules/tagged.js';
import { ModuleSim, type ModuleSimOptions, type SimMode } from './module-sim.js';

export interface TagSimOptions extends ModuleSimOptions {
  /** Initial settings by tag (both tables), over the defaults. */
  values?: Record<string, string>;
  model?: string;
  baudRate?: number;
}

abstract class TagSim extends ModuleSim {
  protected work: Map<string, string>;
  protected saved: Map<string, string>;
  protected inbox: Buffer = Buffer.alloc(0);
  readonly model: string;
  private readonly baud: number;

  constructor(
    opts: TagSimOptions,
    defaults: Record<string, string>,
    model: string,
    private readonly valid: Record<string, RegExp>,
  ) {
    super(opts);
    this.saved = new Map(Object.entries({ ...defaults, ...(opts.values ?? {}) }));
    this.work = new Map(this.saved);
    this.model = opts.model ?? model;
    this.baud = opts.baudRate ?? 9600;
  }

  get baudRate(): number {
    return this.baud;
  }
  value(tag: string): string | undefined {
    return this.work.get(tag);
  }
  savedValue(tag: string): string | undefined {
    return this.saved.get(tag);
  }
  powerCycle(): void {
    this.work = new Map(this.saved);
    this.closeWindow();
  }

  protected abstract info(tag: string): string | undefined;

  /** One command body ("TRGMOD0", "TRGMOD?"): the status and the echoed body. */
  protected apply(body: string, persistent: boolean, query: string): { status: number; echo: string } {
    const tag = body.slice(0, 6).toUpperCase();
    const data = body.slice(6);
    const info = this.info(tag);
    if (info !== undefined) return { status: ACK, echo: tag + info };
    if (!this.work.has(tag)) return { status: ENQ, echo: body };
    if (data === query) return { status: ACK, echo: tag + this.work.get(tag)! };
    if (!this.valid[tag]?.test(data)) return { status: NAK, echo: body };
    this.counters.writes++;
    this.work.set(tag, data);
    if (persistent) {
      this.counters.saves++;
      this.saved.set(tag, data);
    }
    return { status: ACK, echo: tag + data };
  }
}

/** Honeywell N86xx-like engine. Defaults: presentation mode, beeper on, CR+LF suffix, 30 s serial time-out. */
export class HoneywellSim extends TagSim {
  constructor(opts: TagSimOptions = {}) {
    super(opts, { TRGMOD: '3', TRGSTO: '30000', BEPBEP: '1', DLYRRD: '750', SUFBK2: '990D0A' }, 'N8680', {
      TRGMOD: /^[0-9]$/,
      TRGSTO: /^\d{1,6}$/,
      BEPBEP: /^[01]$/,
      DLYRRD: /^\d{1,5}$/,
      SUFBK2: /^99([0-9A-F]{2})*$/i,
    });
  }
  get mode(): SimMode {
    return this.work.get('TRGMOD') === '0' ? 'command' : 'continuous';
  }
  protected tailBytes(): Buffer {
    const hex = (this.work.get('SUFBK2') ?? '99').slice(2);
    return Buffer.from(hex, 'hex');
  }
  protected readWindowMs(): number {
    return Number(this.work.get('TRGSTO') ?? 0);
  }
  protected info(tag: string): string | undefined {
    return tag === 'REVINF' ? `Product Name: ${this.model}\r\nSoftware Revision: SIM-1.0\r\n` : undefined;
  }
  protected handle(bytes: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, bytes]);
    for (;;) {
      const syn = this.inbox.indexOf(0x16);
      if (syn === -1 || this.inbox.length < syn + 3) {
        if (syn === -1) this.inbox = Buffer.alloc(0);
        return;
      }
      const kind = this.inbox[syn + 1];
      if (this.inbox[syn + 2] !== 0x0d) {
        this.inbox = this.inbox.subarray(syn + 1);
        continue;
      }
      if (kind === 0x54 || kind === 0x55) {
        this.counters.commands++;
        this.inbox = this.inbox.subarray(syn + 3);
        if (kind === 0x54 && this.mode === 'command') this.openWindow();
        if (kind === 0x55) this.closeWindow();
        continue;
      }
      if (kind !== 0x4d) {
        this.inbox = this.inbox.subarray(syn + 1);
        continue;
      }
      const rest = this.inbox.subarray(syn + 3).toString('latin1');
      const end = rest.search(/[!.]/);
      if (end === -1) {
        if (rest.length > 256) this.inbox = Buffer.alloc(0);
        return;
      }
      this.counters.commands++;
      const body = rest.slice(0, end);
      const persistent = rest[end] === '.';
      this.inbox = this.inbox.subarray(syn + 3 + end + 1);
      const r = this.apply(body, persistent, '?');
      this.answer(Buffer.concat([Buffer.from(r.echo, 'latin1'), Buffer.from([r.status]), Buffer.from(rest[end]!, 'latin1')]));
    }
  }
}

/** Newland EM20-like engine. Defaults: continuous mode, beep on, no terminator, 5 s read time-out. */
export class NewlandSim extends TagSim {
  constructor(opts: TagSimOptions = {}) {
    super(opts, { SCNMOD: '3', ORTSET: '5000', GRBENA: '1', RRDDUR: '1500', TSUSET: '' }, 'EM20', {
      SCNMOD: /^[0-9]$/,
      ORTSET: /^\d{1,7}$/,
      GRBENA: /^[01]$/,
      RRDDUR: /^\d{1,7}$/,
      TSUSET: /^([0-9A-F]{2}){0,4}$/i,
    });
  }
  get mode(): SimMode {
    const m = this.work.get('SCNMOD');
    return m === '0' ? 'command' : m === '2' ? 'sensing' : 'continuous';
  }
  protected tailBytes(): Buffer {
    return Buffer.from(this.work.get('TSUSET') ?? '', 'hex');
  }
  protected readWindowMs(): number {
    return Number(this.work.get('ORTSET') ?? 0);
  }
  protected info(tag: string): string | undefined {
    return tag === 'QRYPDN' ? this.model : undefined;
  }
  protected handle(bytes: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, bytes]);
    for (;;) {
      const start = this.inbox.indexOf(Buffer.from('~\x010000', 'latin1'));
      if (start === -1) {
        this.inbox = this.inbox.subarray(Math.max(0, this.inbox.length - 5));
        return;
      }
      const end = this.inbox.indexOf(Buffer.from(';\x03', 'latin1'), start);
      if (end === -1) {
        if (this.inbox.length > 512) this.inbox = Buffer.alloc(0);
        return;
      }
      const storage = String.fromCharCode(this.inbox[start + 6]!);
      const body = this.inbox.subarray(start + 7, end).toString('latin1');
      this.inbox = this.inbox.subarray(end + 2);
      this.counters.commands++;
      const tag = body.slice(0, 6).toUpperCase();
      // A read start/stop is a command, not a setting.
      const r = tag === 'SCNTRG' ? { status: /^[01]$/.test(body.slice(6)) ? ACK : NAK, echo: body } : this.apply(body, storage === '@', '*');
      this.answer(Buffer.concat([Buffer.from(`\x02\x010000${storage}${r.echo}`, 'latin1'), Buffer.from([r.status]), Buffer.from(';\x03', 'latin1')]));
      if (tag === 'SCNTRG' && r.status === ACK) {
        if (body.slice(6) === '1' && this.mode === 'command') this.openWindow();
        else this.closeWindow();
      }
    }
  }
}
