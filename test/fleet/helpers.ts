// An in-process MQTT broker (aedes, MQTT 3.1.1) on 127.0.0.1 and a subscriber that keeps every message,
// for the fleet unit tests. The real-broker test (Mosquitto, MQTT 5) is e2e.test.ts.
import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import assert from 'node:assert/strict';
import { parseFleet, type FleetConfig } from '../../src/config/fleet.js';

/** A valid fleet section for a broker at `url` (MQTT 3.1.1, reconnect every 500 ms), with `over` on top. */
export function fleetConfig(url: string, over: Record<string, unknown> = {}): FleetConfig {
  const r = parseFleet({ url, protocolVersion: 4, reconnectMs: 500, ...over });
  assert.deepEqual(r.issues, []);
  return r.fleet!;
}

export interface Broker {
  url: string;
  port: number;
  aedes: Aedes;
  /** Stops listening and drops every connection (the broker "goes away"); start() again on the same port. */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

export async function startBroker(port = 0): Promise<Broker> {
  const aedes = await Aedes.createBroker();
  let server: Server | undefined;
  const sockets = new Set<Socket>();
  const b: Broker = {
    url: '',
    port,
    aedes,
    async start() {
      server = createServer((s) => {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        aedes.handle(s);
      });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(b.port, '127.0.0.1', () => resolve());
      });
      b.port = (server.address() as { port: number }).port;
      b.url = `mqtt://127.0.0.1:${b.port}`;
    },
    async stop() {
      const s = server;
      server = undefined;
      for (const c of sockets) c.destroy();
      if (s) await new Promise<void>((r) => s.close(() => r()));
    },
    async close() {
      await b.stop();
      await new Promise<void>((r) => aedes.close(() => r()));
    },
  };
  await b.start();
  return b;
}

export interface Received {
  topic: string;
  text: string;
  json: Record<string, unknown>;
  retain: boolean;
  /** MQTT 5: the correlation data the publisher set (a reply to a command carries the command's). */
  correlationData?: Buffer;
}

/** A client that records every message under `filter`, with a way to wait for one. */
export class Watcher {
  readonly messages: Received[] = [];
  private waiters: Array<{ match: (m: Received) => boolean; resolve: (m: Received) => void }> = [];
  constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      const text = payload.toString('utf8');
      let json: Record<string, unknown> = {};
      try {
        json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        /* not JSON: kept as text */
      }
      const cd = packet.properties?.correlationData;
      const m: Received = { topic, text, json, retain: packet.retain, ...(cd ? { correlationData: Buffer.from(cd) } : {}) };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m), false) : true));
    });
  }

  static async start(url: string, filter: string, opts: IClientOptions = {}): Promise<Watcher> {
    const client = connect(url, { reconnectPeriod: 200, protocolVersion: 4, ...opts });
    const w = new Watcher(client);
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => client.subscribe(filter, { qos: 1 }, (err) => (err ? reject(err) : resolve())));
    });
    return w;
  }

  /** The first message (already received or to come) for which `match` holds and that `since` allows. */
  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 5000, since = 0): Promise<Received> {
    const seen = this.messages.slice(since).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no message "${what}" within ${timeoutMs} ms; got ${this.messages.length}: ${JSON.stringify(this.messages.slice(-3).map((m) => [m.topic, m.text.slice(0, 200)]))}`)), timeoutMs);
      this.waiters.push({
        match: (m) => match(m),
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  events(): Array<Record<string, unknown>> {
    return this.messages.filter((m) => m.topic.endsWith('/events')).map((m) => m.json);
  }

  close(): Promise<void> {
    return new Promise((r) => this.client.end(true, {}, () => r()));
  }
}
