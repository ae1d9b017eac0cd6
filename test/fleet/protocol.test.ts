// The fleet's command contract alone (src/fleet/protocol.ts): no broker. checkCommand's every refusal with its
// exact reason, the exact device and command a signature is bound to, and the helpers' exact output. The
// broker-level tests (client.test.ts) show the same refusals end to end.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { checkCommand, MAX_COMMAND_BYTES, newCommand, operatorKeyPair, PAYLOAD_VERSION, signCommand, topic, unknownArgs, type CommandBody } from '../../src/fleet/protocol.js';

describe('fleet/protocol: signed commands', () => {
  let key: KeyObject;
  let pub: KeyObject;
  let otherPub: KeyObject;
  before(() => {
    ({ privateKey: key, publicKey: pub } = generateKeyPairSync('ed25519'));
    otherPub = generateKeyPairSync('ed25519').publicKey;
  });
  const body = (over: Partial<CommandBody> & Record<string, unknown> = {}): CommandBody => ({ ...newCommand('K1', 'status', {}, 1_700_000_000_000), ...over });
  const wire = (b: unknown, k = key): Buffer => Buffer.from(JSON.stringify(signCommand(b as CommandBody, k)));
  const check = (message: Buffer | string, device = 'K1', name = 'status', keys: KeyObject[] = [pub]) => checkCommand(Buffer.isBuffer(message) ? message : Buffer.from(message), keys, device, name);
  const reason = (r: ReturnType<typeof checkCommand>): string => (r.ok ? 'ok' : r.reason);

  it('a command signed for this device and name passes with its body; args default to {}', () => {
    const b = body({ args: { day: '2026-12-01' }, replyTo: 'kiosk/K1/reply/op' });
    assert.deepEqual(check(wire(b), 'K1', 'status'), { ok: true, body: b });
    const { args: _a, ...noArgs } = b;
    assert.deepEqual(check(wire(noArgs)), { ok: true, body: { ...noArgs, args: {} } });
  });

  it('any of several operator keys may have signed it; none configured refuses everything', () => {
    assert.equal(check(wire(body()), 'K1', 'status', [otherPub, pub]).ok, true);
    assert.equal(reason(check(wire(body()), 'K1', 'status', [otherPub])), 'bad signature');
    assert.equal(reason(check(wire(body()), 'K1', 'status', [])), 'no operator keys configured (fleet.operatorKeys): remote commands are off');
  });

  it('is bound to the exact device it names: another, a longer or shorter one, another case, none', () => {
    for (const device of ['K2', 'K10', 'K', 'k1', ' K1', '']) {
      assert.equal(reason(check(wire(body({ device })), 'K1')), `signed for device ${JSON.stringify(device)}, this is K1`, device);
    }
    const { device: _d, ...noDevice } = body();
    assert.equal(reason(check(wire(noDevice), 'K1')), 'signed for device undefined, this is K1');
    assert.equal(check(wire(body({ device: 'K10' })), 'K10').ok, true);
  });

  it('is bound to the exact command name it was sent as', () => {
    assert.equal(reason(check(wire(body()), 'K1', 'reconcile')), 'signed as "status", sent to cmd/reconcile');
    assert.equal(reason(check(wire(body({ name: 'reconcile' })), 'K1', 'reconcile')), 'ok');
  });

  it('refuses the envelope before it verifies anything: size, JSON, version, field types', () => {
    assert.equal(reason(check(Buffer.alloc(MAX_COMMAND_BYTES + 1, 0x20))), `message of ${MAX_COMMAND_BYTES + 1} bytes (at most ${MAX_COMMAND_BYTES})`);
    assert.notEqual(reason(check(Buffer.concat([wire(body()), Buffer.alloc(MAX_COMMAND_BYTES - wire(body()).length, 0x20)]))).slice(0, 10), 'message of', 'exactly the cap is read');
    assert.equal(reason(check('{"v":1,')), 'not JSON');
    assert.equal(reason(check('null')), 'unknown envelope version undefined');
    assert.equal(reason(check('7')), 'unknown envelope version undefined');
    assert.equal(reason(check('{"v":2,"cmd":"{}","sig":""}')), 'unknown envelope version 2');
    assert.equal(reason(check(`{"v":"${'y'.repeat(100)}","cmd":"{}","sig":""}`)), `unknown envelope version "${'y'.repeat(39)}`, 'the sender\'s text, 40 characters of it');
    assert.equal(reason(check('{"cmd":"{}","sig":""}')), 'unknown envelope version undefined');
    assert.equal(reason(check(`{"v":${PAYLOAD_VERSION},"cmd":{},"sig":""}`)), 'cmd and sig must be strings');
    assert.equal(reason(check(`{"v":${PAYLOAD_VERSION},"cmd":"{}","sig":5}`)), 'cmd and sig must be strings');
  });

  it('refuses a signature that is not 64 bytes or not over these exact bytes', () => {
    const env = signCommand(body(), key);
    assert.equal(reason(check(JSON.stringify({ ...env, sig: Buffer.alloc(63).toString('base64') }))), 'bad signature');
    assert.equal(reason(check(JSON.stringify({ ...env, sig: Buffer.alloc(65).toString('base64') }))), 'bad signature');
    assert.equal(reason(check(JSON.stringify({ ...env, sig: `${env.sig[0] === 'A' ? 'B' : 'A'}${env.sig.slice(1)}` }))), 'bad signature');
    assert.equal(reason(check(JSON.stringify({ ...env, cmd: `${env.cmd} ` }))), 'bad signature');
    const raw = 'not json';
    const env2 = { v: PAYLOAD_VERSION, cmd: raw, sig: sign(null, Buffer.from(raw, 'utf8'), key).toString('base64') };
    assert.equal(reason(check(JSON.stringify(env2))), 'signed cmd is not JSON');
  });
  it('checks the signed body: ts, nonce length, args, replyTo', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ts: '1700000000000' }, 'ts must be ms since the epoch'],
      [{ ts: 1.5 }, 'ts must be ms since the epoch'],
      [{ ts: 2 ** 53 }, 'ts must be ms since the epoch'],
      [{ nonce: 'x'.repeat(15) }, 'nonce must be 16 to 128 characters'],
      [{ nonce: 'x'.repeat(129) }, 'nonce must be 16 to 128 characters'],
      [{ nonce: 12345678901234567 }, 'nonce must be 16 to 128 characters'],
      [{ args: [] }, 'args must be an object'],
      [{ args: null }, 'args must be an object'],
      [{ args: 'day' }, 'args must be an object'],
      [{ replyTo: '' }, 'replyTo must be a topic name'],
      [{ replyTo: 'kiosk/+/reply' }, 'replyTo must be a topic name'],
      [{ replyTo: 'kiosk/#' }, 'replyTo must be a topic name'],
      [{ replyTo: 7 }, 'replyTo must be a topic name'],
    ];
    for (const [over, why] of cases) assert.equal(reason(check(wire(body(over as Partial<CommandBody>)))), why, JSON.stringify(over));
    for (const over of [{ nonce: 'x'.repeat(16) }, { nonce: 'x'.repeat(128) }, { ts: 0 }, { ts: -1 }]) assert.equal(reason(check(wire(body(over)))), 'ok', JSON.stringify(over));
  });
});

describe('fleet/protocol: helpers', () => {
  it('newCommand: the fields given, a fresh 32-hex nonce, replyTo only when given', () => {
    const a = newCommand('K1', 'report', { day: '2026-12-01' }, 42, 'kiosk/K1/reply/x');
    assert.deepEqual({ ...a, nonce: '' }, { device: 'K1', name: 'report', ts: 42, nonce: '', args: { day: '2026-12-01' }, replyTo: 'kiosk/K1/reply/x' });
    assert.match(a.nonce, /^[0-9a-f]{32}$/);
    assert.notEqual(newCommand('K1', 'status').nonce, a.nonce);
    assert.ok(!('replyTo' in newCommand('K1', 'status')));
    assert.deepEqual(newCommand('K1', 'status').args, {});
  });

  it('topic and unknownArgs say exactly what they should', () => {
    assert.equal(topic('kiosk', 'K1', 'status'), 'kiosk/K1/status');
    assert.equal(unknownArgs('report', { day: '2026-12-01' }), undefined);
    assert.equal(unknownArgs('status', {}), undefined);
    for (const name of ['status', 'doctor', 'reconcile', 'selftest'] as const) assert.equal(unknownArgs(name, { x: 1 }), `unknown argument "x": ${name} takes no arguments`);
    assert.equal(unknownArgs('scanner-setup', { dryRun: true }), undefined);
    assert.equal(unknownArgs('report', { days: 1 }), 'unknown argument "days": report takes only day');
    assert.equal(unknownArgs('scanner-setup', { a: 1, b: 2 }), 'unknown arguments "a", "b": scanner-setup takes only dryRun');
    assert.equal(unknownArgs('status', { ['x'.repeat(50)]: 1 }), `unknown argument "${'x'.repeat(40)}": status takes no arguments`);
  });

  it('operatorKeyPair: PEM halves of one Ed25519 pair', () => {
    const { privatePem, publicPem } = operatorKeyPair();
    assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(publicPem, /^-----BEGIN PUBLIC KEY-----\n/);
    const pub = createPublicKey(publicPem);
    assert.equal(pub.asymmetricKeyType, 'ed25519');
    const env = signCommand(newCommand('K1', 'status'), createPrivateKey(privatePem));
    assert.equal(checkCommand(Buffer.from(JSON.stringify(env)), [pub], 'K1', 'status').ok, true);
  });
});
