// The daemon's control socket: how `kiosk reconcile`, `kiosk status` and `kiosk scanner show|setup` talk to a
// running daemon. A Unix socket (config daemon.controlSocket), mode 0600 so only the kiosk user (and root) can use
// it; newline-delimited JSON, one request per line: {"cmd":"reconcile"|"status"} or
// {"cmd":"scanner-setup","args":{"dryRun":true}} → one answer line {"ok":true,"result":…} or {"ok":false,"error":"…"}.
// The daemon owns the socket and its contract; the CLI's client side is src/cli/tech/control.ts.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { lstatSync, unlinkSync } from 'node:fs';
import type { ClockReading } from '../umpay/platform-clock.js';

export type ControlCommand = 'reconcile' | 'status' | 'scanner-setup';

/** What the daemon answers to `status`: the parts only the running process knows. */
export interface DaemonStatus {
  pid: number;
  startedAt?: string;
  /** The release the daemon runs (src/release.ts). */
  release?: { id: string; root: string };
  /** module: the scanner module's identification and setup (src/hardware/modules/session.ts ModuleStatus). */
  scanner?: { connected: boolean; device?: string; detail?: string; module?: unknown };
  /** state: online, degraded or offline (src/payment/link.ts); a newer daemon may answer others. */
  link?: { state: string; since?: string };
  /** The journal the daemon writes: `problem` when journal.path no longer names it (deleted, replaced). */
  journal?: { path: string; problem: string | null; unfinished?: number };
  /** This kiosk's clock against the payment platform's, from its answers (src/umpay/platform-clock.ts). */
  platformClock?: ClockReading;
  [extra: string]: unknown;
}

/** What the daemon answers to `reconcile` once every unfinished order has been worked on once. */
export interface ReconcileSummary {
  /** Unfinished orders when the request arrived. */
  started: number;
  /** Still unfinished afterwards (waiting for the platform, the link, or a person). */
  remaining: number;
  [extra: string]: unknown;
}

export interface ControlHandlers {
  status(): Promise<DaemonStatus> | DaemonStatus;
  reconcile(): Promise<ReconcileSummary> | ReconcileSummary;
  /** The scanner module's setup now (src/kiosk/scanner-setup.ts: the same handler as the fleet's `scanner-setup`). */
  scannerSetup?(args: Record<string, unknown>): Promise<unknown>;
}

export class ControlError extends Error {
  constructor(
    readonly code: 'E_CONTROL_NO_DAEMON' | 'E_CONTROL_TIMEOUT' | 'E_CONTROL_PROTOCOL' | 'E_CONTROL_REFUSED' | 'E_CONTROL_IN_USE',
    message: string,
  ) {
    super(message);
    this.name = 'ControlError';
  }
}

/** Longest request or answer line either side accepts. */
export const MAX_LINE = 64 * 1024;

/** Connects, or explains why not; resolves with the connected socket. */
export function connectControl(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = createConnection({ path });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError('E_CONTROL_TIMEOUT', `${path}: no connection within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      resolve(sock);
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED') reject(new ControlError('E_CONTROL_NO_DAEMON', `${path}: no daemon is listening (${err.code})`));
      else if (err.code === 'EACCES') reject(new ControlError('E_CONTROL_REFUSED', `${path}: permission denied: use sudo (the control socket belongs to the kiosk user)`));
      else reject(new ControlError('E_CONTROL_NO_DAEMON', `${path}: ${err.message}`));
    });
  });
}

/** Whether a daemon answers on the socket (a connect, no request). */
export async function controlAlive(path: string, timeoutMs = 1000): Promise<boolean> {
  try {
    const s = await connectControl(path, timeoutMs);
    s.destroy();
    return true;
  } catch {
    return false;
  }
}

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/**
 * Starts the daemon's side. Removes a stale socket file left by a crash of ours (nobody answering on it, owned
 * by this user); refuses with E_CONTROL_IN_USE when another process is listening there, when the file is not a
 * socket, or when someone else's socket is there (a file the daemon did not create is never removed).
 */
export async function startControlServer(path: string, handlers: ControlHandlers, onError?: (err: Error) => void): Promise<ControlServer> {
  let stat;
  try {
    stat = lstatSync(path);
  } catch {
    stat = undefined;
  }
  if (stat) {
    if (!stat.isSocket()) throw new ControlError('E_CONTROL_IN_USE', `${path} exists and is not a socket; remove it or change daemon.controlSocket`);
    const uid = typeof process.getuid === 'function' ? process.getuid() : stat.uid;
    if (stat.uid !== uid) throw new ControlError('E_CONTROL_IN_USE', `${path} is a socket of uid ${stat.uid}, not of the kiosk user (uid ${uid}): left untouched; remove it or change daemon.controlSocket`);
    if (await controlAlive(path, 500)) throw new ControlError('E_CONTROL_IN_USE', `${path}: another daemon is answering on the control socket`);
    unlinkSync(path);
  }
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.setEncoding('utf8');
    let buf = '';
    // Requests on one connection are answered in order.
    let chain = Promise.resolve();
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) {
        sock.end(JSON.stringify({ ok: false, error: 'request too long' }) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).trim();
        buf = buf.slice(nl + 1);
        if (!line) continue;
        chain = chain.then(() => answer(line, handlers, onError)).then((reply) => {
          if (!sock.destroyed) sock.write(JSON.stringify(reply) + '\n');
        });
      }
    });
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Only the owner may ask the daemon to act: the socket is born 0600 (listen binds synchronously under this
    // umask), so there is no moment at which another local user could connect, and nothing to chmod afterwards.
    const umask = process.umask(0o177);
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(umask);
    }
  });
  return {
    path,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          // libuv unlinks the bound path itself at close; the folder is the kiosk user's own (config refuses any
          // other), so nobody else can have put a file there meanwhile.
          resolve();
        });
      }),
  };
}

async function answer(line: string, handlers: ControlHandlers, onError?: (err: Error) => void): Promise<{ ok: boolean; result?: unknown; error?: string }> {
  let req: { cmd?: unknown; args?: unknown };
  try {
    req = JSON.parse(line) as { cmd?: unknown; args?: unknown };
  } catch {
    return { ok: false, error: 'request is not JSON' };
  }
  try {
    if (req.cmd === 'status') return { ok: true, result: await handlers.status() };
    if (req.cmd === 'reconcile') return { ok: true, result: await handlers.reconcile() };
    if (req.cmd === 'scanner-setup') {
      if (!handlers.scannerSetup) return { ok: false, error: 'this daemon cannot set up its scanner module' };
      const args = req.args ?? {};
      if (typeof args !== 'object' || args === null || Array.isArray(args)) return { ok: false, error: 'args must be an object' };
      return { ok: true, result: await handlers.scannerSetup(args as Record<string, unknown>) };
    }
    return { ok: false, error: `unknown cmd ${JSON.stringify(req.cmd)} (status, reconcile, scanner-setup)` };
  } catch (err) {
    onError?.(err as Error);
    return { ok: false, error: (err as Error).message };
  }
}
