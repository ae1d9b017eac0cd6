// The connection warm-up (src/umpay/warm.ts) at its boundary, the agent's createConnection, with sockets whose
// connect and close the test decides, and a fake clock (issue 21 mutation run): when a connection is opened, handed
// over, dropped, reopened, and when it is not. test/sandbox/tls.test.ts has the same over real TLS to the sandbox.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type http from 'node:http';
import { ConnectionWarmer, type WarmerOptions } from '../../src/umpay/warm.js';
import { FakeClock } from '../fake-clock.js';

/** A socket as the warmer sees it: connecting until the test says connected, closed when destroyed. */
class FakeSocket extends EventEmitter {
  connecting = true;
  destroyed = false;
  keepAlive: [boolean, number] | undefined;
  setKeepAlive(on: boolean, ms: number): this {
    this.keepAlive = [on, ms];
    return this;
  }
  up(event: 'connect' | 'secureConnect' = 'connect'): void {
    this.connecting = false;
    this.emit(event);
  }
  destroy(): this {
    if (this.destroyed) return this;
    this.destroyed = true;
    this.emit('close');
    return this;
  }
}

/** The agent's side: what createConnection was asked for and gave. */
function fakeAgent() {
  const made: { options: Record<string, unknown>; socket: FakeSocket }[] = [];
  const agent = {
    createConnection(options: Record<string, unknown>): FakeSocket {
      const socket = new FakeSocket();
      made.push({ options, socket });
      return socket;
    },
    getName(o: { host?: string; port?: number }): string {
      return `${o.host}:${o.port}:`;
    },
  };
  return { agent: agent as unknown as http.Agent, made, request: (): FakeSocket => (agent as unknown as { createConnection(o: object): FakeSocket }).createConnection({ host: 'h', port: 1 }) };
}

describe('umpay connection warm-up (ConnectionWarmer)', () => {
  let clock: FakeClock;
  beforeEach(() => (clock = new FakeClock()));
  const warmer = (agent: http.Agent, o: Partial<WarmerOptions> = {}): ConnectionWarmer =>
    new ConnectionWarmer(agent, { mode: 'customer', minIntervalMs: 60_000, connectTimeoutMs: 1000, connect: { protocol: 'http:', host: 'gw', port: 80 }, timers: clock, ...o });
  const events = (w: ConnectionWarmer): string[] => {
    const seen: string[] = [];
    w.on('warm', () => seen.push('warm'));
    w.on('cold', () => seen.push('cold'));
    return seen;
  };

  it('customer: nothing until warm(); then one connection with its agent key and TCP keep-alive, ready once up', () => {
    const a = fakeAgent();
    const w = warmer(a.agent);
    const seen = events(w);
    assert.deepEqual([a.made.length, w.opened, w.ready], [0, 0, false]);
    w.warm();
    w.warm(); // a second key press while it connects
    assert.equal(a.made.length, 1);
    assert.deepEqual(a.made[0]!.options, { protocol: 'http:', host: 'gw', port: 80, _agentKey: 'gw:80:' });
    assert.deepEqual(a.made[0]!.socket.keepAlive, [true, 60_000]);
    assert.equal(w.ready, false, 'still connecting');
    a.made[0]!.socket.up();
    assert.deepEqual([w.ready, w.opened, seen], [true, 1, ['warm']]);
    w.warm();
    assert.equal(a.made.length, 1, 'one is open');
  });

  it('the next request takes the warm connection instead of a new one; while the agent holds one, warm() opens none', () => {
    const a = fakeAgent();
    const w = warmer(a.agent);
    const seen = events(w);
    w.warm();
    const spare = a.made[0]!.socket;
    spare.up();
    assert.equal(a.request(), spare, 'handed over');
    assert.equal(a.made.length, 1);
    assert.equal(w.ready, false);
    w.warm();
    assert.equal(a.made.length, 1, 'the agent has a connection');
    // The next request needs a new one: the agent's own.
    const own = a.request();
    assert.notEqual(own, spare);
    assert.equal(a.made.length, 2);
    spare.destroy();
    assert.deepEqual(seen, ['warm'], 'one still open');
    own.destroy();
    assert.deepEqual(seen, ['warm', 'cold']);
    w.warm();
    assert.equal(a.made.length, 3, 'none open: a customer warms one again');
  });

  it('a warm-up that does not connect in time is dropped (cold); one that fails is only a missing warm-up', async () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { connectTimeoutMs: 500 });
    const seen = events(w);
    w.warm();
    clock.tick(499);
    assert.equal(a.made[0]!.socket.destroyed, false);
    clock.tick(1);
    assert.deepEqual([a.made[0]!.socket.destroyed, seen, w.ready], [true, ['cold'], false]);
    w.warm();
    a.made[1]!.socket.emit('error', new Error('ECONNREFUSED'));
    a.made[1]!.socket.destroy();
    assert.deepEqual(seen, ['cold', 'cold']);
    // A connected one is not dropped when the deadline would have come.
    w.warm();
    a.made[2]!.socket.up();
    clock.tick(10_000);
    assert.equal(a.made[2]!.socket.destroyed, false);
    await clock.advance(0);
  });

  it('a request while the warm-up still connects takes it, and the warm-up\'s own deadline no longer applies', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { connectTimeoutMs: 500 });
    const seen = events(w);
    w.warm();
    const spare = a.made[0]!.socket;
    assert.equal(a.request(), spare);
    clock.tick(1000);
    assert.equal(spare.destroyed, false, 'the request\'s connect timeout decides now');
    spare.up();
    assert.deepEqual(seen, [], 'not warm: it is the request\'s connection now');
  });

  it('an agent that hands its connections to a callback (none returned): no warm-up, no count, no crash', () => {
    const made: unknown[] = [];
    const agent = {
      createConnection(options: unknown): undefined {
        made.push(options);
        return undefined;
      },
      getName: (): string => 'gw:80:',
    };
    const w = warmer(agent as unknown as http.Agent);
    w.warm();
    assert.deepEqual([made.length, w.ready], [1, false]);
    const request = (agent as unknown as { createConnection(o: object): unknown }).createConnection({ host: 'h', port: 1 });
    assert.deepEqual([request, made.length], [undefined, 2]);
    w.warm();
    assert.equal(made.length, 3, 'nothing was counted as open');
  });

  it('customer: after cold, nothing reopens by itself', () => {
    const a = fakeAgent();
    const w = warmer(a.agent);
    const seen = events(w);
    w.warm();
    a.made[0]!.socket.up();
    a.made[0]!.socket.destroy();
    clock.tick(3_600_000);
    assert.deepEqual([a.made.length, seen], [1, ['warm', 'cold']]);
  });

  it('a warm-up that died before it was needed is not handed over', () => {
    const a = fakeAgent();
    const w = warmer(a.agent);
    w.warm();
    const spare = a.made[0]!.socket;
    spare.up();
    spare.destroyed = true; // closed under us, its close event not yet seen
    const got = a.request();
    assert.notEqual(got, spare);
    assert.equal(a.made.length, 2);
  });

  it('https: warm only once TLS is up', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { connect: { protocol: 'https:', host: 'gw', port: 443 } });
    const seen = events(w);
    w.warm();
    a.made[0]!.socket.emit('connect');
    assert.deepEqual(seen, []);
    a.made[0]!.socket.up('secureConnect');
    assert.deepEqual(seen, ['warm']);
  });

  it('off: never a connection', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { mode: 'off' });
    w.warm();
    assert.deepEqual([a.made.length, w.opened], [0, 0]);
  });

  it('keep: open from the start; closed, reopened no sooner than minIntervalMs after the last opening', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { mode: 'keep', minIntervalMs: 60_000 });
    const seen = events(w);
    assert.equal(a.made.length, 1);
    a.made[0]!.socket.up();
    clock.tick(20_000);
    a.made[0]!.socket.destroy(); // the gateway's idle timeout
    assert.deepEqual(seen, ['warm', 'cold']);
    clock.tick(39_999);
    assert.equal(a.made.length, 1);
    clock.tick(1);
    assert.equal(a.made.length, 2);
    // Long after the last opening: at once.
    a.made[1]!.socket.up();
    clock.tick(120_000);
    a.made[1]!.socket.destroy();
    clock.tick(0);
    assert.equal(a.made.length, 3);
    assert.equal(w.opened, 3);
  });

  it('keep: a connection the agent used and closed counts too; warm() while a reopen is pending opens at once', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { mode: 'keep', minIntervalMs: 60_000 });
    a.made[0]!.socket.up();
    const used = a.request();
    used.destroy();
    assert.equal(a.made.length, 1, 'paced');
    w.warm();
    assert.equal(a.made.length, 2);
    a.made[1]!.socket.up();
    clock.tick(60_000);
    assert.equal(a.made.length, 2, 'the pending reopen was cancelled');
  });

  it('keep: one reopen however many connections close meanwhile; a connection closing while a warm-up is open is not cold', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { mode: 'keep', minIntervalMs: 60_000 });
    const seen = events(w);
    a.made[0]!.socket.up();
    a.made[0]!.socket.destroy();
    a.request().destroy(); // a request on its own connection while the reopen waits
    const held = a.request();
    assert.deepEqual([a.made.length, seen], [3, ['warm', 'cold', 'cold']]);
    clock.tick(60_000);
    assert.equal(a.made.length, 4, 'one reopen');
    a.made[3]!.socket.up();
    held.destroy();
    assert.deepEqual(seen, ['warm', 'cold', 'cold', 'warm'], 'the warm-up is still open');
    clock.tick(600_000);
    assert.deepEqual([a.made.length, w.opened], [4, 2]);
  });

  it('stop(): the warm-up closed, no reopen, no cold, warm() does nothing', () => {
    const a = fakeAgent();
    const w = warmer(a.agent, { mode: 'keep' });
    const seen = events(w);
    a.made[0]!.socket.up();
    a.made[0]!.socket.destroy();
    w.stop();
    assert.equal(w.ready, false);
    clock.tick(120_000);
    w.warm();
    assert.equal(a.made.length, 1);
    assert.deepEqual(seen, ['warm', 'cold']);
    const b = fakeAgent();
    const w2 = warmer(b.agent);
    const seen2 = events(w2);
    w2.warm();
    w2.stop();
    assert.equal(b.made[0]!.socket.destroyed, true);
    assert.deepEqual(seen2, [], 'stopped: no cold');
    // Nor when a connection the agent held closes after stop().
    const c = fakeAgent();
    const w3 = warmer(c.agent);
    const seen3 = events(w3);
    const held = c.request();
    w3.stop();
    held.destroy();
    assert.deepEqual(seen3, []);
  });
});
