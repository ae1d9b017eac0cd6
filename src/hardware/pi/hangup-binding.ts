// A serialport binding that tells a hangup. After a hangup (a USB adapter unplugged, a pty whose master closed) a
// Linux tty reads 0 bytes (end of file) at once, every time. @serialport/bindings-cpp 13's unix read takes a 0-byte
// read for "nothing yet" and reads again at once, for ever (measured: 35,000–85,000 reads a second, a whole core,
// and no 'close'); serialport's stream, given 0 by a binding, ends silently. Here a 0-byte read is a disconnect
// error instead, so the stream closes and reconnecting-port.ts reconnects at once.
// A port with nothing to read is not mistaken for a hangup: opened non-blocking with VMIN 1 (the bindings' default,
// which the drivers keep), an empty tty answers EAGAIN, and the read waits on the port's poller, as bindings-cpp's
// own read does (with VMIN 0 a read may legitimately return 0: such a port is left to the binding's own read).
import { read as fsReadCb } from 'node:fs';

export interface ReadResult {
  bytesRead: number;
  buffer: Buffer;
}

/** The port half of a serialport binding, as far as this module uses it. */
export interface PortBinding {
  read(buffer: Buffer, offset: number, length: number): Promise<ReadResult>;
  isOpen: boolean;
  readonly openOptions?: { vmin?: number };
}

/** A unix port of bindings-cpp: its file descriptor and its poller (libuv's uv_poll on the fd). */
export interface UnixPort extends PortBinding {
  fd: number | null;
  poller: { once(event: 'readable', cb: (err: Error | null) => void): unknown };
}

interface Binding {
  open(options: object): Promise<PortBinding>;
}

export type FsRead = (fd: number, buffer: Buffer, offset: number, length: number) => Promise<number>;

export interface HangupOptions {
  /** One read(2) on the fd, resolving the bytes read (tests count or script them). Default: fs.read. */
  fsRead?: FsRead;
}

const fsRead: FsRead = (fd, buffer, offset, length) =>
  new Promise((resolve, reject) => fsReadCb(fd, buffer, offset, length, null, (err, n) => (err ? reject(err) : resolve(n))));

/** The error a hangup reads as: a disconnect (the stream closes with it), not a cancel. */
export class HangupError extends Error {
  readonly code = 'EOF';
  readonly disconnect = true;
  constructor() {
    super('the port hung up (end of file: the device is gone or the other end closed)');
    this.name = 'HangupError';
  }
}

/** What bindings-cpp throws for a read on a closed port: canceled, so the stream does not take it for a disconnect. */
const canceled = (): Error => Object.assign(new Error('Port is not open'), { canceled: true });

const WRAPPED = Symbol('hangupAware');

/** `binding` whose ports fail a read with a HangupError on end of file. Wrapping twice is wrapping once. */
export function hangupAware<B>(binding: B, options: HangupOptions = {}): B {
  const inner = binding as B & Binding & { [WRAPPED]?: true };
  if (inner[WRAPPED]) return binding;
  const read = options.fsRead ?? fsRead;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === WRAPPED) return true;
      if (prop !== 'open') return Reflect.get(target, prop, receiver) as unknown;
      return async (opts: object) => portReading(await target.open(opts), read);
    },
  });
}

/** `port` with `read` replaced: everything else (writes, close, a mock's emitData) is the port's own. */
function portReading(port: PortBinding, fsRead: FsRead): PortBinding {
  const readOnce = isUnix(port) && port.openOptions?.vmin !== 0 ? readUnix(port, fsRead) : readChecked(port);
  return new Proxy(port, {
    get(target, prop) {
      if (prop === 'read') return readOnce;
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
    set: (target, prop, value) => Reflect.set(target, prop, value, target),
  });
}

function isUnix(port: PortBinding): port is UnixPort {
  const p = port as Partial<UnixPort>;
  return typeof p.fd === 'number' && typeof p.poller?.once === 'function';
}

/** Any other binding (a mock, another platform): its read, with 0 bytes for a non-empty request a hangup. */
const readChecked =
  (port: PortBinding) =>
  async (buffer: Buffer, offset: number, length: number): Promise<ReadResult> => {
    const r = await port.read(buffer, offset, length);
    if (r.bytesRead === 0 && length > 0) throw new HangupError();
    return r;
  };

/** bindings-cpp's unix read (read; on EAGAIN/EINTR wait for the poller's 'readable'), with end of file a hangup. */
export const readUnix =
  (port: UnixPort, fsRead: FsRead) =>
  async (buffer: Buffer, offset: number, length: number): Promise<ReadResult> => {
    for (;;) {
      const fd = port.fd;
      if (!port.isOpen || fd === null) throw canceled();
      let bytesRead: number;
      try {
        bytesRead = await fsRead(fd, buffer, offset, length);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK' && code !== 'EINTR') throw err;
        if (!port.isOpen) throw canceled();
        // Nothing to read yet: wait until the fd is readable (or the poller is stopped by a close: canceled).
        await new Promise<void>((resolve, reject) => port.poller.once('readable', (e) => (e ? reject(e) : resolve())));
        continue;
      }
      if (bytesRead === 0 && length > 0) throw new HangupError();
      return { bytesRead, buffer };
    }
  };
