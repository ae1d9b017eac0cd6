// A switchable TCP proxy on 127.0.0.1 in front of the sandbox, to cut the link the ways a 4G router does:
//   pass               forward both ways
//   refuse             the listener is closed: connections are refused (ECONNREFUSED, provably not sent)
//   blackhole          accept, read, never forward, never answer (the client times out: maybe sent)
//   drop-after-request forward the request, then reset the client's connection before the answer
//                      (the platform processed it: charge recorded, answer lost)
// Switching closes every open connection, so kept-alive sockets do not carry the old mode over.
import { createServer, connect, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'refuse' | 'blackhole' | 'drop-after-request';

export class LinkProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private current: ProxyMode = 'pass';
  /** Connections accepted, and requests forwarded, per mode (for assertions). */
  readonly counts = { accepted: 0, forwarded: 0, dropped: 0 };

  private constructor(
    private readonly upstreamPort: number,
    public port: number,
  ) {}

  static async start(upstream: string, mode: ProxyMode = 'pass'): Promise<LinkProxy> {
    const url = new URL(upstream);
    if (url.hostname !== '127.0.0.1') throw new Error(`proxy upstream must be on 127.0.0.1, got ${url.hostname}`);
    const p = new LinkProxy(Number(url.port), 0);
    await p.listen();
    await p.setMode(mode);
    return p;
  }

  get mode(): ProxyMode {
    return this.current;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async setMode(mode: ProxyMode): Promise<void> {
    if (mode === this.current && (mode === 'refuse') === (this.server === null)) return;
    this.current = mode;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (mode === 'refuse') await this.unlisten();
    else if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await this.unlisten();
  }

  private track(s: Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
  }

  private onConnection(client: Socket): void {
    this.counts.accepted++;
    this.track(client);
    const mode = this.current;
    if (mode === 'blackhole') {
      client.resume(); // read and forget
      return;
    }
    const up = connect({ host: '127.0.0.1', port: this.upstreamPort });
    this.track(up);
    client.on('data', (d) => {
      this.counts.forwarded++;
      up.write(d);
    });
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    up.on('data', (d) => {
      if (mode === 'drop-after-request') {
        this.counts.dropped++;
        client.resetAndDestroy();
        up.destroy();
        return;
      }
      client.write(d);
    });
  }

  private listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const server = createServer((c) => this.onConnection(c));
      server.once('error', reject);
      // The same port again after `refuse`, so the client's base URL stays valid.
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as { port: number }).port;
        this.server = server;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }
}
