// Issue 20 §4: the kiosk opens its connection to the gateway when a customer starts (a key press, a scan),
// before the interaction journals anything, and the payment request then rides that connection: one connection,
// one micropay. The whole daemon against the sandbox over https (gateway.ca), keepWarm off so the scan is what
// opens it.
import assert from 'node:assert/strict';
import { once, EventEmitter } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadConfig } from '../../src/config/index.js';
import { Daemon } from '../../src/kiosk/daemon.js';
import { wireHardware } from '../../src/kiosk/daemon-parts.js';
import type { Hardware } from '../../src/hardware/index.js';
import type { Interaction, PaymentRecord } from '../../src/kiosk/interaction.js';
import { silentLogger } from '../../src/log.js';
import { testCode } from '../../src/sandbox/index.js';
import { DaemonFixture } from './daemon-helpers.js';
import { VmcSim } from '../../src/hardware/sim/mdb-sim.js';

describe('kiosk daemon: the gateway connection opened when a customer starts (issue 20 §4)', function () {
  this.timeout(20_000);
  let fx: DaemonFixture;
  let daemon: Daemon | undefined;
  beforeEach(async () => {
    fx = await new DaemonFixture().start({ tls: true });
  });
  afterEach(async () => {
    await daemon?.stop();
    daemon = undefined;
    await fx.dispose();
  });

  it('the warm-up comes before the interaction hears of the scan or the key; a selection on the vending machine warms too', () => {
    const order: string[] = [];
    const scanner = Object.assign(new EventEmitter(), { connected: true });
    const keypad = new EventEmitter();
    const mdb = new EventEmitter();
    const kiosk = { code: () => order.push('code'), key: () => order.push('key'), bad: () => undefined, scannerConnected: () => undefined } as unknown as Interaction;
    wireHardware({ scanner, keypad, mdb } as unknown as Hardware, kiosk, silentLogger, () => order.push('warm'));
    keypad.emit('key', '1');
    scanner.emit('code', '134567890123456789');
    mdb.emit('message', { kind: 'status', status: 'IDLE' });
    mdb.emit('message', { kind: 'vend-request', amount: '1.00', productId: '2' });
    assert.deepEqual(order, ['warm', 'key', 'warm', 'code', 'warm']);
  });

  /** The daemon with keepWarm off and a sim keypad, after start-up's signed probe, with no connection open. */
  async function coldDaemon(extra: Record<string, unknown> = {}, hardwareDeps?: { simVmc: VmcSim }): Promise<Daemon> {
    const file = fx.writeConfig({ keypad: { driver: 'sim' }, ...extra });
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { gateway: Record<string, unknown> };
    raw.gateway.keepWarm = false;
    writeFileSync(file, JSON.stringify(raw));
    const d = await Daemon.start(loadConfig(file), { log: silentLogger, ...(hardwareDeps ? { hardwareDeps } : {}) });
    if (!fx.sandbox.stats().requests['/pay/queryOrder']) await fx.sandbox.waitFor((e) => e.path === '/pay/queryOrder');
    const cold = once(d.http.warmer, 'cold');
    fx.sandbox.closeIdleConnections(); // the gateway's keep-alive timeout, after a quiet spell
    await cold;
    return d;
  }

  it('a scan opens the connection and the micropay rides it: one connection, one request', async () => {
    daemon = await coldDaemon();
    const { connections, total } = fx.sandbox.stats();
    const opened = daemon.http.warmer.opened;
    const paid = once(daemon.interaction, 'payment') as Promise<[PaymentRecord]>;
    (daemon.hardware.scanner as unknown as { push(line: string): void }).push(testCode('paid', 'wechat'));
    assert.equal(daemon.http.warmer.opened, opened + 1, 'opened in the scan handler itself');
    const [record] = await paid;
    assert.equal(record.result.kind, 'approved');
    const after = fx.sandbox.stats();
    assert.equal(after.requests['/pay/micropay'], 1, 'sent once');
    assert.equal(after.total, total + 1);
    assert.equal(after.connections, connections + 1, 'the payment used the warm-up connection');
  });

  it('a selection on the vending machine (MDB) opens the connection before the kiosk offers it; the micropay rides it', async () => {
    const vmc = new VmcSim();
    daemon = await coldDaemon({ mdb: { driver: 'sim' }, approve: { driver: 'none' } }, { simVmc: vmc });
    const { connections, total } = fx.sandbox.stats();
    const opened = daemon.http.warmer.opened;
    let atOffer: number | undefined;
    daemon.interaction.once('state', () => (atOffer = daemon!.http.warmer.opened));
    vmc.select('1.00', '2');
    assert.equal(daemon.interaction.state.name, 'ready', 'offered');
    assert.equal(atOffer, opened + 1, 'opened before the kiosk offered the selection');
    assert.equal(fx.sandbox.stats().total, total, 'no request');
    const paid = once(daemon.interaction, 'payment') as Promise<[PaymentRecord]>;
    (daemon.hardware.scanner as unknown as { push(line: string): void }).push(testCode('paid', 'wechat'));
    const [record] = await paid;
    assert.equal(record.result.kind, 'approved');
    assert.deepEqual(vmc.received.filter((l) => l.startsWith('C,VEND')), ['C,VEND,1.00']);
    const after = fx.sandbox.stats();
    assert.equal(after.requests['/pay/micropay'], 1, 'sent once');
    assert.equal(after.connections, connections + 1, 'the payment used the connection the selection opened');
  });

  it('a key press opens the connection and sends nothing', async () => {
    daemon = await coldDaemon();
    const { total } = fx.sandbox.stats();
    const warm = once(daemon.http.warmer, 'warm');
    (daemon.hardware.keypad as unknown as { press(key: string): void }).press('1');
    await warm;
    assert.equal(fx.sandbox.stats().total, total, 'no request');
  });
});
