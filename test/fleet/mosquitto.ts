// A real Mosquitto (the Debian package) for the fleet e2e test: its own config file, a free loopback
// port, persistence in a temp folder (so a persistent watcher session survives a broker restart), never
// the system service. stop() and start() again reuse the port.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { exitOf, terminate, until } from '../wait.js';

/** Debian puts it in /usr/sbin, which is not on every user's PATH. */
export const MOSQUITTO = existsSync('/usr/sbin/mosquitto') ? '/usr/sbin/mosquitto' : 'mosquitto';

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function accepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection({ port, host: '127.0.0.1' });
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export class Mosquitto {
  private proc: ChildProcess | null = null;
  readonly stderr: string[] = [];
  readonly conf: string;
  constructor(
    readonly dir: string,
    readonly port: number,
    /** TLS with client certificates (the certificate's CN is the MQTT user) and an ACL file. */
    readonly tls?: { cafile: string; certfile: string; keyfile: string; aclFile: string },
  ) {
    this.conf = join(dir, 'mosquitto.conf');
    const access = tls
      ? [`cafile ${tls.cafile}`, `certfile ${tls.certfile}`, `keyfile ${tls.keyfile}`, 'require_certificate true', 'use_identity_as_username true', 'allow_anonymous false', `acl_file ${tls.aclFile}`]
      : ['allow_anonymous true'];
    // `user root` only matters when the test runs as root (mosquitto would switch to the mosquitto user,
    // which cannot write the persistence file in a 0700 temp folder).
    writeFileSync(
      this.conf,
      [`listener ${port} 127.0.0.1`, ...access, 'persistence true', `persistence_location ${dir}/`, 'user root', 'log_dest stderr', 'log_type error', ''].join('\n'),
    );
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  static available(): Promise<boolean> {
    return new Promise((resolve) => {
      const p = spawn(MOSQUITTO, ['-h'], { stdio: 'ignore' });
      p.once('error', () => resolve(false));
      p.once('exit', () => resolve(true));
    });
  }

  async start(): Promise<void> {
    const proc = spawn(MOSQUITTO, ['-c', this.conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = proc;
    proc.stderr.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    const stderr = () => this.stderr.join('');
    await until(`mosquitto listening on ${this.port}`, async () => ((await accepting(this.port)) ? true : undefined), { deadlineMs: 8000, everyMs: 10, abort: exitOf(proc, 'mosquitto', stderr), detail: stderr });
  }

  /** SIGTERM: mosquitto saves its sessions and retained messages, then exits. */
  async stop(): Promise<void> {
    const proc = this.proc;
    this.proc = null;
    await terminate(proc);
  }
}
