// Newland embedded engines and scanners (EM/FM/HR series) over their serial command interface.
// Confirmed in the Newland NLS-HR52 and NLS-HR20-BT user manuals ("Use of Programming Command"): the command syntax
// "~<SOH>0000" + storage ("#" temporary, "@" permanent) + tag + subtag + data + ";<ETX>"; query characters in place
// of the data ("*" = current value); the answer "<STX><SOH>0000" + the echoed command with ACK/NAK before ";<ETX>".
// We use this syntax and not the older "NLS0006010;" one (docs/SCANNER-MODULES.md) because only this one reads a
// setting back, which setup and verify need; an engine that knows only the old syntax will not answer and is
// reported as not answering (nothing is written to it).
// UNCONFIRMED (no page we could read lists them; check the engine's manual): the tags QRYPDN (product name),
// SCNMOD (0 level/manual, 2 sense, 3 continuous; command trigger works in level mode), SCNTRG (1 start, 0 stop a
// read), ORTSET (read time-out, ms), GRBENA (good-read beep 0/1), RRDDUR (same-code reread delay, ms), TSUSET
// (terminator suffix as hex: 0D = CR). Only models listed in knownModel get writes.
import { ACK, ENQ, NAK, enumField, numberField, tagDriver, type TagProtocol } from './tagged.js';

const tail = {
  tag: 'TSUSET',
  source: 'UNCONFIRMED',
  decode: (v: string) => ({ '0D': 'CR', '0A': 'LF', '0D0A': 'CRLF', '09': 'TAB', '': 'none' })[v.toUpperCase()] ?? `suffix ${v}`,
  encode: (value: string) => ({ CR: '0D', LF: '0A', CRLF: '0D0A', TAB: '09' })[value],
};

const frame = (body: string, storage: '#' | '@') => Buffer.from(`~\x010000${storage}${body};\x03`, 'latin1');

export const NEWLAND: TagProtocol = {
  family: 'newland',
  command: (body, persistent) => frame(body, persistent ? '@' : '#'),
  queryChar: '*',
  answerStart: Buffer.from([0x02, 0x01]),
  answerEnd(held) {
    for (let i = 0; i + 2 < held.length; i++) {
      const b = held[i]!;
      if ((b === ACK || b === NAK || b === ENQ) && held[i + 1] === 0x3b && held[i + 2] === 0x03) return i + 3;
    }
    return 0;
  },
  maxAnswer: 512,
  identify: {
    body: 'QRYPDN*',
    parse: (text) => (text.trim() ? { model: text.trim() } : null),
  },
  knownModel: (model) => /^(EM20|EM3096|EM2096|FM\d+|NLS-?EM\d+)/i.test(model),
  fields: {
    mode: enumField('SCNMOD', { '0': 'command', '2': 'sensing', '3': 'continuous' }, 'UNCONFIRMED'),
    readWindowMs: numberField('ORTSET', 'UNCONFIRMED', 3600000),
    beep: enumField('GRBENA', { '0': 'off', '1': 'on' }, 'UNCONFIRMED'),
    reReadDelayMs: numberField('RRDDUR', 'UNCONFIRMED', 3600000),
    tail,
  },
  trigger: () => frame('SCNTRG1', '#'),
  stop: () => frame('SCNTRG0', '#'),
  triggerAnswered: true,
};

export const newlandDriver = tagDriver(NEWLAND);
