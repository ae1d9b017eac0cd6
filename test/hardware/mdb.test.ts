// The MDB HAT's line protocol as data (src/hardware/mdb.ts), the HAT driver through the serialport mock binding, and
// the simulated machine (src/hardware/sim/mdb-sim.ts) the demo and the pty tests use.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { SerialPortMock } from 'serialport';
import { amountToFen, fenToAmount, parseMdbLine, type MdbMessage } from '../../src/hardware/mdb.js';
import { MdbHat } from '../../src/hardware/pi/mdb-hat.js';
import { SimMdb, VmcSim } from '../../src/hardware/sim/mdb-sim.js';

const MockBinding = SerialPortMock.binding;

describe('hardware/mdb: the HAT line protocol', () => {
  it('parses the lines of the documented sessions', () => {
    assert.deepEqual(parseMdbLine('c,STATUS,VEND,1.00,2'), { kind: 'vend-request', amount: '1.00', productId: '2' });
    assert.deepEqual(parseMdbLine('c,STATUS,ENABLED\r'), { kind: 'status', status: 'ENABLED' });
    assert.deepEqual(parseMdbLine('c,STATUS,IDLE'), { kind: 'status', status: 'IDLE' });
    assert.deepEqual(parseMdbLine('c,VEND,SUCCESS'), { kind: 'vend-success' });
    assert.deepEqual(parseMdbLine('c,ERR,VEND 3'), { kind: 'vend-failure', detail: 'VEND 3' });
    assert.deepEqual(parseMdbLine('r,ACK'), { kind: 'other', line: 'r,ACK' });
    assert.deepEqual(parseMdbLine('c,STATUS,SESSION'), { kind: 'other', line: 'c,STATUS,SESSION' });
  });

  it('takes garbage as garbage, never as a selection', () => {
    const bad: string[] = ['', 'hello', '\u0000\u00ff', 'c,STATUS,VEND,1.00', 'c,STATUS,VEND,-1,2', 'c,STATUS,VEND,1e3,2', 'c,STATUS,VEND,1.00,2;rm', 'c,STATUS,VEND,1.00,2,3', 'x'.repeat(500)];
    for (const line of bad) assert.equal(parseMdbLine(line).kind, 'garbage', line);
    const kinds = new Set<MdbMessage['kind']>();
    for (let i = 0; i < 2000; i++) {
      const line = Array.from({ length: i % 60 }, (_, j) => String.fromCharCode((i * 31 + j * 7) % 256)).join('');
      kinds.add(parseMdbLine(line).kind);
    }
    assert.ok(!kinds.has('vend-request') && !kinds.has('vend-success'), [...kinds].join());
  });

  it('converts amounts exactly: fen inside, decimal text on the wire', () => {
    assert.equal(amountToFen('1.00', 2), 100);
    assert.equal(amountToFen('1.5', 2), 150);
    assert.equal(amountToFen('12', 2), 1200);
    assert.equal(amountToFen('0.01', 2), 1);
    assert.equal(amountToFen('1.005', 2), null);
    assert.equal(amountToFen('1.005', 3), null, 'not whole fen');
    assert.equal(amountToFen('1.010', 3), 101);
    assert.equal(amountToFen('1.50', 0), null, 'the machine has no decimals');
    assert.equal(amountToFen('2', 0), 200);
    assert.equal(amountToFen('0.1', 1), 10);
    assert.equal(amountToFen('abc', 2), null);
    assert.equal(fenToAmount(150, 2), '1.50');
    assert.equal(fenToAmount(5, 2), '0.05');
    assert.equal(fenToAmount(200, 0), '2');
    assert.equal(fenToAmount(150, 0), null);
    assert.equal(fenToAmount(150, 1), '1.5');
    assert.equal(fenToAmount(101, 3), '1.010');
    for (let fen = 0; fen < 3000; fen += 7) assert.equal(amountToFen(fenToAmount(fen, 2)!, 2), fen);
  });
});

describe('hardware/mdb: the HAT driver (serialport mock binding)', () => {
  afterEach(() => MockBinding.reset());

  it('sends C,1 on open, frames lines (CR, LF, CRLF, split chunks) and writes commands', async () => {
    MockBinding.createPort('/dev/mdb-test', { echo: false, record: true });
    const hat = new MdbHat({ path: '/dev/mdb-test', baudRate: 115200, binding: MockBinding });
    const msgs: MdbMessage[] = [];
    hat.on('message', (m: MdbMessage) => msgs.push(m));
    await hat.open();
    assert.equal(hat.connected, true);
    const port = (hat as unknown as { sp: { port: { emitData(b: Buffer): void; recording: Buffer } } }).sp.port;
    port.emitData(Buffer.from('c,STATUS,ENA'));
    port.emitData(Buffer.from('BLED\r\nc,STATUS,VEND,1.00,2\nc,VEND,SUCCESS\r'));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(msgs, [{ kind: 'status', status: 'ENABLED' }, { kind: 'vend-request', amount: '1.00', productId: '2' }, { kind: 'vend-success' }]);
    assert.equal(hat.send('C,VEND,1.00'), true);
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(port.recording.toString(), 'C,1\nC,VEND,1.00\n');
    await hat.close();
    assert.equal(hat.send('C,STOP'), false, 'nothing sent on a closed port');
  });

  it('reports a missing HAT as a fault and keeps retrying', async () => {
    const hat = new MdbHat({ path: '/dev/mdb-missing', baudRate: 115200, binding: MockBinding, reopenMinMs: 10, reopenMaxMs: 20 });
    const fault = once(hat, 'fault');
    await hat.open();
    await fault;
    assert.equal(hat.connected, false);
    MockBinding.createPort('/dev/mdb-missing', { echo: false, record: true });
    await once(hat, 'connected');
    await hat.close();
  });
});

describe('hardware/mdb: the simulated machine', () => {
  it('answers C,1, a selection, an approval, a deny, and refuses nothing silently', async () => {
    const vmc = new VmcSim();
    const mdb = new SimMdb(vmc);
    const msgs: MdbMessage[] = [];
    mdb.on('message', (m: MdbMessage) => msgs.push(m));
    await mdb.open();
    await new Promise((r) => setImmediate(r));
    assert.equal(vmc.state, 'enabled');
    vmc.select('1.00', '2');
    mdb.send('C,VEND,1.00');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(msgs.slice(-4), [{ kind: 'vend-request', amount: '1.00', productId: '2' }, { kind: 'vend-success' }, { kind: 'status', status: 'IDLE' }, { kind: 'status', status: 'ENABLED' }]);
    mdb.send('C,VEND,1.00');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(vmc.approvalsOutOfTurn, ['C,VEND,1.00'], 'an approval with no selection is kept as out of turn');
    vmc.select('2.00', '3');
    mdb.send('C,STOP');
    await new Promise((r) => setImmediate(r));
    assert.equal(vmc.state, 'enabled');
    await mdb.close();
  });
});
