// The `mdb` config section (src/config/sections/mdb.ts): absent is off; present, its defaults; its rules.
import assert from 'node:assert/strict';
import { validateConfig } from '../../src/config/validate.js';
import { pricingOf } from '../../src/kiosk/daemon.js';

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    deviceId: 'KIOSK-01',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'k.p8' },
    gateway: { baseUrl: 'http://127.0.0.1:8011/x', platformCert: 'c.crt' },
    journal: { path: '/tmp/j.sqlite' },
    scanner: { driver: 'sim' },
    pricing: { mode: 'fixed', amountFen: 300 },
    ...extra,
  };
}
const validate = (raw: unknown) => validateConfig(raw, { file: 'config.json', baseDir: '/tmp', checkFiles: false });

describe('config: mdb', () => {
  it('is off when absent, and filled with its defaults when present', () => {
    assert.equal(validate(base()).config?.mdb, undefined);
    const c = validate(base({ mdb: {} })).config!;
    assert.deepEqual(c.mdb, { driver: 'hat', path: '/dev/serial0', baudRate: 115200, mode: 'always-idle', decimals: 2, approvalWindowMs: 60000, vendResultMs: 60000, products: {} });
    assert.deepEqual(pricingOf(c), { mode: 'vmc' }, 'always-idle: the machine names the price');
    assert.equal(pricingOf(validate(base({ mdb: { mode: 'session' } })).config!).mode, 'fixed', 'session: the pricing section');
  });

  it('refuses the approve relay next to it, a shared serial port, bad values and unknown keys, each said where', () => {
    const { problems } = validate(
      base({
        approve: { driver: 'gpio' },
        scanner: { driver: 'serial', path: '/dev/serial0' },
        mdb: { mode: 'selection', decimals: 4, approvalWindowMs: 10, products: { '1': 'Cola\n', 'a b': 'x' }, baud: 9600 },
      }),
    );
    const fields = problems.map((p) => p.field).sort();
    assert.deepEqual(fields, ['approve.driver', 'mdb.approvalWindowMs', 'mdb.baud', 'mdb.decimals', 'mdb.mode', 'mdb.path', 'mdb.products.1', 'mdb.products.a b'].sort(), problems.map((p) => `${p.field}: ${p.problem}`).join('\n'));
    assert.match(problems.find((p) => p.field === 'approve.driver')!.problem, /releases the product \(C,VEND\), not a relay/);
  });
});
