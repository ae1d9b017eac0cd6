// A simulated Grow GM module: zone bytes in RAM and flash, CRC-16/XMODEM checked (AB CD accepted, as [M] says),
// a bad CRC answered with silence (what the module does then is not documented; silence is the safe assumption),
// the read window of command-trigger mode, and the model's tail register (0x0060 on GM65/GM805, 0x000E on GM812/GM861).
import { crc16Xmodem } from '../modules/crc.js';
import { gmAnswer, GM_MAPS } from '../modules/gm.js';
import { ModuleSim, type ModuleSimOptions, type SimMode } from './module-sim.js';

export interface GmSimOptions extends ModuleSimOptions {
  model?: keyof typeof GM_MAPS;
  /** Initial zone bytes (address → byte), on top of the factory defaults. Saved in flash too. */
  zone?: Record<number, number>;
}

const BAUDS: Record<number, number> = { 0x0139: 9600, 0x00d0: 14400, 0x009c: 19200, 0x004e: 38400, 0x0034: 57600, 0x001a: 115200 };
const MODES: SimMode[] = ['manual', 'command', 'continuous', 'sensing'];

export class GmSim extends ModuleSim {
  readonly model: keyof typeof GM_MAPS;
  private ram = new Uint8Array(0x200);
  private flash = new Uint8Array(0x200);
  private inbox: Buffer = Buffer.alloc(0);
  private baud: number;

  constructor(opts: GmSimOptions = {}) {
    super(opts);
    this.model = opts.model ?? 'GM65';
    this.baud = 9600;
    this.factoryReset(opts.zone);
  }

  /**
   * Back to factory settings in RAM and flash (a "factory defaults" setting code held up to it, or another module
   * swapped in on the same cable), with `zone` on top.
   */
  factoryReset(zone: Record<number, number> = {}): void {
    const z = this.flash;
    z.fill(0);
    // Factory state: manual mode, illumination and aimer normal, beep on (0x54); 9600 baud; 5 s read window;
    // same-code delay on, 0.5 s; tail CR.
    z[0x0000] = 0x54;
    z[0x0006] = 50;
    z[0x0013] = 0x85;
    z[0x002a] = 0x39;
    z[0x002b] = 0x01;
    z[0x00e1] = 0x6d; // hardware version (made up for the simulator)
    z[0x00e2] = 0x87; // software version: one [T] lists as known good
    for (const [a, v] of Object.entries(zone)) z[Number(a)] = v;
    this.powerCycle();
  }

  get mode(): SimMode {
    return MODES[this.ram[0x0000]! & 0x03]!;
  }
  get baudRate(): number {
    return this.baud;
  }
  /** Zone byte as the module holds it now (tests). */
  zone(address: number): number {
    return this.ram[address]!;
  }
  flashByte(address: number): number {
    return this.flash[address]!;
  }

  powerCycle(): void {
    this.ram.set(this.flash);
    this.baud = this.decodeBaud();
    this.closeWindow();
  }

  protected tailBytes(): Buffer {
    const tails: Record<string, string> = { CR: '\r', LF: '\n', CRLF: '\r\n', TAB: '\t', none: '' };
    const f = GM_MAPS[this.model].tail!;
    const name = f.decode([this.ram[f.address]!]);
    return Buffer.from(tails[name] ?? '\r', 'latin1');
  }

  protected readWindowMs(): number {
    return this.ram[0x0006]! * 100;
  }

  private decodeBaud(): number {
    return BAUDS[this.ram[0x002a]! | (this.ram[0x002b]! << 8)] ?? 9600;
  }

  protected handle(bytes: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, bytes]);
    for (;;) {
      const start = this.inbox.indexOf(Buffer.from([0x7e, 0x00]));
      if (start === -1) {
        this.inbox = this.inbox.subarray(Math.max(0, this.inbox.length - 1));
        return;
      }
      const f = this.inbox.subarray(start);
      if (f.length < 4) return;
      const total = 2 + 1 + 1 + 2 + f[3]! + 2;
      if (f.length < total) {
        if (this.inbox.length > 1024) this.inbox = Buffer.alloc(0);
        return;
      }
      this.inbox = f.subarray(total);
      this.frame(f.subarray(0, total));
    }
  }

  private frame(f: Buffer): void {
    this.counters.commands++;
    const body = f.subarray(2, f.length - 2);
    const crc = f.readUInt16BE(f.length - 2);
    if (crc !== 0xabcd && crc !== crc16Xmodem(body)) {
      this.counters.badCrc++;
      return;
    }
    const [type, len] = [f[2]!, f[3]!];
    const address = f.readUInt16BE(4);
    const data = [...f.subarray(6, 6 + len)];
    if (type === 0x07) {
      const count = data[0] || 1;
      this.answer(gmAnswer(0x00, [...this.ram.subarray(address, address + count)]));
    } else if (type === 0x08) {
      this.counters.writes++;
      const oldBaud = this.baud;
      if (address === 0x0002) {
        this.answer(gmAnswer(0x00, [0x00]));
        if ((data[0]! & 0x01) === 1 && this.mode === 'command') this.openWindow();
        return;
      }
      this.ram.set(data, address);
      this.answer(gmAnswer(0x00, [0x00]));
      // The answer goes out at the old rate; from now on the module talks at the new one.
      this.baud = this.decodeBaud();
      if (this.baud !== oldBaud) this.closeWindow();
      if (address === 0x0000) this.tryRead();
    } else if (type === 0x09) {
      this.counters.saves++;
      this.flash.set(this.ram);
      this.answer(gmAnswer(0x00, [0x00]));
    }
  }
}
