// Honeywell scan engines in serial (RS-232/TTL) mode: menu commands "SYN M CR" + tag + subtag + data + "!" (working
// table) or "." (saved table); "?" in place of the data queries the current value. The engine echoes the command
// with ACK/ENQ/NAK before the punctuation. "SYN T CR" starts a read, "SYN U CR" stops it; neither is answered.
// Confirmed in the Honeywell N86 Series / N431x manuals ("Serial Programming Commands", "Trigger Commands"):
// the prefix, the tag/subtag/data syntax, "!"/"." storage, "?" query, ACK/ENQ/NAK with the echo, SYN T/U, serial
// trigger needs Manual Trigger Mode, and a read ends at a read, at SYN U or at the serial read time-out.
// UNCONFIRMED (from memory of other Honeywell manuals, not from a page we could read; check against the engine's
// manual before relying on them): the tags TRGMOD (0 = manual/serial trigger, 3 = presentation), TRGSTO (serial
// read time-out, ms), BEPBEP (beeper 0/1), DLYRRD (reread delay, ms), SUFBK2 (suffix for all symbologies "99" + hex
// characters), and REVINF (product information). Unknown products get no writes.
import { NAK, ACK, ENQ, enumField, numberField, tagDriver, type TagProtocol } from './tagged.js';

const SYN = 0x16;

const tail = {
  tag: 'SUFBK2',
  source: 'UNCONFIRMED',
  decode: (v: string) => ({ '990D': 'CR', '990A': 'LF', '990D0A': 'CRLF', '9909': 'TAB', '': 'none', '99': 'none' })[v.toUpperCase()] ?? `suffix ${v}`,
  encode: (value: string) => ({ CR: '990D', LF: '990A', CRLF: '990D0A', TAB: '9909' })[value],
};

export const HONEYWELL: TagProtocol = {
  family: 'honeywell',
  command: (body, persistent) => Buffer.concat([Buffer.from([SYN, 0x4d, 0x0d]), Buffer.from(body + (persistent ? '.' : '!'), 'latin1')]),
  queryChar: '?',
  answerEnd(held) {
    for (let i = 0; i + 1 < held.length; i++) {
      const b = held[i]!;
      if ((b === ACK || b === ENQ || b === NAK) && (held[i + 1] === 0x21 || held[i + 1] === 0x2e)) return i + 2;
    }
    return 0;
  },
  maxAnswer: 1024,
  identify: {
    body: 'REVINF',
    parse(text) {
      const model = /Product Name:\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
      const firmware = /(?:Software Revision|Application Revision|Software Part Number):\s*([^\r\n]+)/i.exec(text)?.[1]?.trim();
      return model ? { model, firmware, detail: text.trim().slice(0, 200) } : null;
    },
  },
  // Only engines whose manual's serial commands were read (N86xx); the map's tags are still flagged above.
  knownModel: (model) => /^N86\d\d/i.test(model),
  fields: {
    mode: enumField('TRGMOD', { '0': 'command', '3': 'continuous' }, 'UNCONFIRMED codes (manual trigger mode confirmed)'),
    readWindowMs: numberField('TRGSTO', 'UNCONFIRMED tag (read time-out confirmed)', 300000),
    beep: enumField('BEPBEP', { '0': 'off', '1': 'on' }, 'UNCONFIRMED'),
    reReadDelayMs: numberField('DLYRRD', 'UNCONFIRMED', 30000),
    tail,
  },
  trigger: () => Buffer.from([SYN, 0x54, 0x0d]),
  stop: () => Buffer.from([SYN, 0x55, 0x0d]),
  triggerAnswered: false,
};

export const honeywellDriver = tagDriver(HONEYWELL);
