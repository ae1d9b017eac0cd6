// The CLI's side of the daemon's control socket (the daemon's side and the contract: src/kiosk/control.ts).
import { connectControl, ControlError, MAX_LINE, type ControlCommand } from '../../kiosk/control.js';

/** Sends one request and waits for its answer line. Throws ControlError; an {ok:false} answer is thrown too. */
export async function controlRequest<T = unknown>(path: string, cmd: ControlCommand, timeoutMs = 5000, args?: Record<string, unknown>): Promise<T> {
  const sock = await connectControl(path, Math.min(timeoutMs, 2000));
  return new Promise<T>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ControlError('E_CONTROL_TIMEOUT', `${path}: no answer to ${cmd} within ${timeoutMs} ms`));
    }, timeoutMs);
    const done = (err: Error | null, value?: T) => {
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_LINE) return done(new ControlError('E_CONTROL_PROTOCOL', `${path}: answer longer than ${MAX_LINE} bytes`));
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let msg: { ok?: boolean; result?: T; error?: string };
      try {
        msg = JSON.parse(buf.slice(0, nl)) as typeof msg;
      } catch {
        return done(new ControlError('E_CONTROL_PROTOCOL', `${path}: answer is not JSON`));
      }
      if (msg.ok === true) done(null, msg.result);
      else done(new ControlError('E_CONTROL_PROTOCOL', `daemon refused ${cmd}: ${msg.error ?? 'no reason given'}`));
    });
    sock.on('error', (err) => done(new ControlError('E_CONTROL_PROTOCOL', `${path}: ${err.message}`)));
    sock.on('end', () => done(new ControlError('E_CONTROL_PROTOCOL', `${path}: daemon closed the connection without answering`)));
    sock.write(JSON.stringify(args ? { cmd, args } : { cmd }) + '\n');
  });
}
