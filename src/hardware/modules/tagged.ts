// Shared by the two ASCII menu protocols (Honeywell "SYN M CR … !/." and Newland "~<SOH>0000 #/@ … ;<ETX>"):
// a setting is a 6-letter tag+subtag with a value; a query puts a query character where the value goes; the
// module echoes the command with a status byte (ACK 0x06, ENQ 0x05 unknown command, NAK 0x15 bad value) before
// the closing punctuation. Each answer is anchored on the echo of the command just sent, so scan data (digits)
// and noise can never be taken for one.
import { ModuleError, type AnswerFramer, type CommandPort, type FramerOut, type Identity, type ModuleDriver, type SettingName, type Settings } from './types.js';

export const ACK = 0x06;
export const ENQ = 0x05;
export const NAK = 0x15;

export interface TagField {
  /** Tag + subtag, e.g. TRGMOD. */
  tag: string;
  decode(value: string): string;
  /** undefined: the module has no value for this wish. */
  encode(value: string): string | undefined;
  /** Where the fact comes from; "UNCONFIRMED" when no manual we could read shows it. */
  source: string;
}

export const enumField = (tag: string, names: Record<string, string>, source: string): TagField => ({
  tag,
  source,
  decode: (v) => names[v] ?? `code ${v}`,
  encode: (value) => Object.entries(names).find(([, n]) => n === value)?.[0],
});

export const numberField = (tag: string, source: string, max = 99999): TagField => ({
  tag,
  source,
  decode: (v) => String(Number(v)),
  encode: (value) => (Number.isInteger(Number(value)) && Number(value) >= 0 && Number(value) <= max ? String(Number(value)) : undefined),
});

export interface TagProtocol {
  family: 'newland' | 'honeywell';
  /** Frames one command body (e.g. "TRGMOD0") for the volatile (false) or saved (true) table. */
  command(body: string, persistent: boolean): Buffer;
  queryChar: string;
  /** Answer framing: the bytes that start an answer (besides the echoed tag) and end it. */
  answerStart?: Buffer;
  /** Is `held[i]` the end of an answer (status byte + closing punctuation)? Returns the answer length or 0. */
  answerEnd(held: Buffer): number;
  maxAnswer: number;
  /** Read-only identification: the command and how to read the model from the answer's text. */
  identify: { body: string; parse(text: string): { model: string; firmware?: string; detail?: string } | null };
  knownModel(model: string): boolean;
  fields: Partial<Record<SettingName, TagField>>;
  trigger(): Buffer;
  stop(): Buffer;
  /** Does the module answer the trigger command? (Honeywell: no.) */
  triggerAnswered: boolean;
}

/** The echoed tag of a command body: its first six characters. */
function tagOf(command: Buffer, p: TagProtocol): string {
  const text = command.toString('latin1');
  const m = /([A-Z0-9]{6})/i.exec(p.answerStart ? text.slice(p.answerStart.length) : text.replace(/^\x16M\r/, ''));
  return (m?.[1] ?? '').toUpperCase();
}

export class TagFramer implements AnswerFramer {
  private held: Buffer = Buffer.alloc(0);
  private tag: string | null = null;

  constructor(private readonly p: TagProtocol) {}

  expect(command: Buffer | null): void {
    this.tag = command ? tagOf(command, this.p) : null;
  }

  push(chunk: Buffer): FramerOut[] {
    if (this.tag === null) return [{ kind: 'data', bytes: chunk }];
    const out: FramerOut[] = [];
    this.held = Buffer.concat([this.held, chunk]);
    // Where the answer starts: the protocol's start bytes, or (Honeywell) the echoed tag itself.
    const anchor = this.p.answerStart ?? Buffer.from(this.tag, 'latin1');
    const upper = Buffer.from(this.held.toString('latin1').toUpperCase(), 'latin1');
    const at = upper.indexOf(anchor);
    if (at === -1) {
      // Keep only what could still be the start of an answer; the rest is data.
      const keep = Math.min(this.held.length, anchor.length - 1);
      const pass = this.held.subarray(0, this.held.length - keep);
      if (pass.length) out.push({ kind: 'data', bytes: Buffer.from(pass) });
      this.held = Buffer.from(this.held.subarray(this.held.length - keep));
      return out;
    }
    if (at > 0) out.push({ kind: 'data', bytes: Buffer.from(this.held.subarray(0, at)) });
    this.held = Buffer.from(this.held.subarray(at));
    const len = this.p.answerEnd(this.held);
    if (len > 0) {
      const frame = this.held.subarray(0, len);
      const text = frame.toString('latin1').toUpperCase();
      if (text.includes(this.tag)) {
        out.push({ kind: 'answer', frame: Buffer.from(frame) });
        this.tag = null;
        const rest = this.held.subarray(len);
        this.held = Buffer.alloc(0);
        if (rest.length) out.push({ kind: 'data', bytes: Buffer.from(rest) });
        return out;
      }
      // An answer to something else (a late answer): noise, never ours.
      out.push({ kind: 'noise', bytes: len, reason: 'answer to another command' });
      this.held = Buffer.from(this.held.subarray(len));
      return out;
    }
    if (this.held.length > this.p.maxAnswer) {
      out.push({ kind: 'data', bytes: this.held });
      this.held = Buffer.alloc(0);
    }
    return out;
  }

  flush(): FramerOut[] {
    const held = this.held;
    this.held = Buffer.alloc(0);
    this.tag = null;
    return held.length ? [{ kind: 'data', bytes: held }] : [];
  }
}

/** The status byte of an answer and the value echoed after the tag (a query's answer). */
export function parseAnswer(frame: Buffer, tag: string): { status: number; value: string } {
  const text = frame.toString('latin1');
  const at = text.toUpperCase().indexOf(tag.toUpperCase());
  const statusAt = [...frame].findIndex((b, i) => i > at && (b === ACK || b === ENQ || b === NAK));
  const status = statusAt === -1 ? -1 : frame[statusAt]!;
  return { status, value: statusAt === -1 ? '' : text.slice(at + tag.length, statusAt) };
}

function check(status: number, what: string): void {
  if (status === ACK) return;
  if (status === ENQ) throw new ModuleError(`the module does not know ${what} (ENQ)`, 'NAK');
  if (status === NAK) throw new ModuleError(`the module refused ${what} (NAK: value out of range)`, 'NAK');
  throw new ModuleError(`no status in the answer to ${what}`, 'BAD_ANSWER');
}

export function tagDriver(p: TagProtocol): ModuleDriver {
  const mapOf = (id: Identity) => (id.known ? p.fields : {});
  const send = async (port: CommandPort, body: string, persistent: boolean) => {
    const tag = body.slice(0, 6);
    const { status, value } = parseAnswer(await port.request(p.command(body, persistent)), tag);
    check(status, `${body}`);
    return value;
  };
  return {
    family: p.family,
    framer: () => new TagFramer(p),
    async identify(port, model) {
      let frame: Buffer;
      try {
        frame = await port.request(p.command(p.identify.body, false));
      } catch (err) {
        if (err instanceof ModuleError && err.code === 'TIMEOUT') return null;
        throw err;
      }
      const { status, value } = parseAnswer(frame, p.identify.body.slice(0, 6));
      if (status !== ACK) return { family: p.family, model: model ?? 'unknown', known: false, detail: 'identification command not accepted' };
      const info = p.identify.parse(value);
      const name = info?.model ?? model ?? 'unknown';
      return { family: p.family, model: name, known: p.knownModel(name), firmware: info?.firmware, detail: info?.detail };
    },
    settingsFor: (id) => Object.keys(mapOf(id)) as SettingName[],
    refuse(id, name, value) {
      const f = mapOf(id)[name];
      return f && f.encode(value) === undefined ? `${value} is not a value ${id.model} has for ${name}` : undefined;
    },
    async read(port, id) {
      const out: Settings = {};
      for (const [name, f] of Object.entries(mapOf(id)) as [SettingName, TagField][]) out[name] = f.decode(await send(port, f.tag + p.queryChar, false));
      return out;
    },
    async write(port, id, changes) {
      for (const [name, value] of Object.entries(changes) as [SettingName, string][]) {
        const f = mapOf(id)[name];
        const v = f?.encode(value);
        if (!f || v === undefined) throw new ModuleError(`${id.model} has no command for ${name} = ${value}`, 'UNSUPPORTED');
        await send(port, f.tag + v, false);
      }
    },
    async save(port, id, changed) {
      // The same commands again, to the saved table. One command per setting (each is small); the count of
      // flash saves is one per setup that changed something.
      for (const [name, value] of Object.entries(changed) as [SettingName, string][]) {
        const f = mapOf(id)[name]!;
        await send(port, f.tag + f.encode(value)!, true);
      }
    },
    async trigger(port) {
      if (p.triggerAnswered) await port.request(p.trigger());
      else await port.send(p.trigger());
    },
    async stopRead(port) {
      if (p.triggerAnswered) await port.request(p.stop());
      else await port.send(p.stop());
    },
  };
}
