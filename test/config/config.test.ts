import assert from 'node:assert/strict';
import { createPrivateKey } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  ConfigError,
  DEFAULT_CONFIG_PATH,
  formatProblem,
  loadConfig,
  parseJson,
  readConfig,
  resolveConfigPath,
  validateConfig,
  type ConfigProblem,
} from '../../src/config/index.js';

// dist/test/config/ → test/fixtures/umpay/
const SHARED = fileURLToPath(new URL('../../../test/fixtures/umpay/', import.meta.url));

let dir: string;

function minimal(): Record<string, any> {
  return {
    deviceId: 'KIOSK-01',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'keys/merchant.key.p8', goodsId: 'VEND', goodsInfo: 'Vending' },
    gateway: { baseUrl: 'http://127.0.0.1:8011/entry-provider-plat-client', platformCert: 'keys/platform.cert.crt' },
    journal: { path: 'data/journal.sqlite' },
    scanner: { driver: 'sim' },
    pricing: { mode: 'fixed', amountFen: 300 },
  };
}

function full(): Record<string, any> {
  return {
    deviceId: 'KIOSK-02',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: join(dir, 'keys/merchant.key.p8'), goodsId: 'DRINKS', goodsInfo: '饮料 Drinks' },
    gateway: { baseUrl: 'https://provider.example/entry-provider-plat-client/', platformCert: 'keys/platform.cert.crt', connectTimeoutMs: 2000, timeoutMs: 8000 },
    payment: { customerWindowMs: 50000, queryIntervalMs: 2000, codeValidityMs: 40000, recoveryConcurrency: 2, maxAmountFen: 5000 },
    journal: { path: 'data/journal.sqlite' },
    scanner: { driver: 'serial', path: '/dev/kiosk-scanner', baudRate: 115200, terminator: 'CRLF', prefix: ']Q', suffix: '!', maxLineLength: 48, reopenMinMs: 200, reopenMaxMs: 10000 },
    keypad: { driver: 'gpio', layout: 'matrix', rows: [5, 6, 13, 19], cols: [12, 16, 20], keys: '123456789*0#', debounceMs: 25, activeLow: true, gpioChipBase: 512 },
    indicator: { driver: 'johnny-five', io: 'gpio', pins: { green: 17, red: 27, amber: 22, buzzer: 18 }, buzzer: 'piezo' },
    approve: { driver: 'gpio', pin: 23, pulseMs: 700, activeLow: true },
    pricing: { mode: 'menu', items: { '1': { amountFen: 300, goodsInfo: 'Water' }, '12': { amountFen: 450, goodsId: 'COLA' } }, entryTimeoutMs: 15000 },
    daemon: { graceMs: 4000, controlSocket: 'run/kiosk.sock', lockFile: 'run/kiosk.lock', settleAt: '08:45', settleDir: 'settle' },
    log: { level: 'debug' },
  };
}

function validate(raw: unknown, checkFiles = true) {
  return validateConfig(raw, { file: 'config.json', baseDir: dir, checkFiles });
}

function fields(problems: ConfigProblem[]): string[] {
  return problems.map((p) => p.field).sort();
}

function find(problems: ConfigProblem[], field: string): ConfigProblem {
  const p = problems.find((q) => q.field === field);
  assert.ok(p, `expected a problem for ${field}; got ${problems.map(formatProblem).join(' | ')}`);
  return p;
}

describe('config', () => {
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kiosk-config-'));
    mkdirSync(join(dir, 'keys'));
    mkdirSync(join(dir, 'data'));
    mkdirSync(join(dir, 'run'));
    copyFileSync(join(SHARED, 'test-merchant.key.p8'), join(dir, 'keys/merchant.key.p8'));
    chmodSync(join(dir, 'keys/merchant.key.p8'), 0o600);
    copyFileSync(join(SHARED, 'test-platform.cert.crt'), join(dir, 'keys/platform.cert.crt'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a minimal config, fills defaults and resolves relative paths against the config folder', () => {
    const { config: c, problems } = validate(minimal());
    assert.deepEqual(problems, []);
    const config = c!;
    assert.equal(config.merchant.privateKey, join(dir, 'keys/merchant.key.p8'));
    assert.equal(config.gateway.platformCert, join(dir, 'keys/platform.cert.crt'));
    assert.equal(config.journal.path, join(dir, 'data/journal.sqlite'));
    assert.equal(config.daemon.controlSocket, join(dir, 'data/kiosk.sock'));
    assert.equal(config.daemon.lockFile, join(dir, 'data/kiosk.lock'));
    assert.deepEqual(config.gateway, { baseUrl: 'http://127.0.0.1:8011/entry-provider-plat-client', platformCert: join(dir, 'keys/platform.cert.crt'), connectTimeoutMs: 3000, timeoutMs: 10000 });
    assert.deepEqual(config.payment, { customerWindowMs: 60000, queryIntervalMs: 3000, codeValidityMs: 45000, recoveryConcurrency: 4, maxAmountFen: 100000, clockToleranceMs: 60000 });
    assert.equal(config.scanner.terminator, 'CR');
    assert.equal(config.scanner.maxLineLength, 64);
    assert.equal(config.keypad.driver, 'none');
    assert.equal(config.indicator.driver, 'log');
    assert.equal(config.approve.driver, 'none');
    assert.equal(config.pricing.amountFen, 300);
    assert.equal(config.pricing.maxAmountFen, 100000);
    assert.equal(config.pricing.entryTimeoutMs, 20000);
    assert.equal(config.daemon.graceMs, 5000);
    assert.equal(config.daemon.settleAt, '09:30');
    assert.equal(config.daemon.settleDir, join(dirname(config.journal.path), 'settlement'));
    assert.equal(config.log.level, 'info');
    assert.equal(config.keypad.gpioChipBase, undefined);
  });

  it('accepts a full config and keeps every value', () => {
    const { config: c, problems } = validate(full());
    assert.deepEqual(problems, []);
    const config = c!;
    assert.equal(config.gateway.baseUrl, 'https://provider.example/entry-provider-plat-client', 'trailing slash dropped');
    assert.equal(config.merchant.privateKey, join(dir, 'keys/merchant.key.p8'));
    assert.deepEqual(config.scanner, {
      driver: 'serial',
      path: '/dev/kiosk-scanner',
      baudRate: 115200,
      terminator: 'CRLF',
      prefix: ']Q',
      suffix: '!',
      maxLineLength: 48,
      reopenMinMs: 200,
      reopenMaxMs: 10000,
      module: 'plain',
      model: '',
      setup: 'apply',
      trigger: 'continuous',
      readWindowMs: 5000,
      reReadDelayMs: 3000,
      moduleBeep: false,
    });
    assert.equal(config.keypad.gpioChipBase, 512);
    assert.equal(config.keypad.debounceMs, 25);
    assert.equal(config.indicator.buzzer, 'piezo');
    assert.deepEqual(config.approve, { driver: 'gpio', pin: 23, pulseMs: 700, activeLow: true });
    assert.deepEqual(config.pricing.items, { '1': { amountFen: 300, goodsInfo: 'Water' }, '12': { amountFen: 450, goodsId: 'COLA' } });
    assert.equal(config.pricing.maxAmountFen, 5000, 'defaults to payment.maxAmountFen');
    assert.deepEqual(config.daemon, { graceMs: 4000, controlSocket: join(dir, 'run/kiosk.sock'), lockFile: join(dir, 'run/kiosk.lock'), settleAt: '08:45', settleDir: join(dir, 'settle') });
    assert.equal(config.log.level, 'debug');
  });

  it('lists every kind of problem at once, each with field and value', () => {
    const raw = minimal();
    raw.deviceid = 'x'; // unknown key (typo)
    raw.merchant.acqSpId = 'Y47'; // wrong shape
    raw.merchant.goodsInfo = '可乐, 冰 {大}'; // signs differently under the vendor's two rules
    raw.merchant.privateKey = 'keys/absent.key.p8'; // missing file
    raw.gateway.timeoutMs = '10000'; // wrong type
    raw.gateway.connectTimeoutMs = 5; // out of range
    raw.scanner.driver = 'usb'; // not one of
    raw.scanner.baudRatee = 9600; // unknown nested key
    raw.payment = { maxAmountFen: 1.5 }; // fraction
    raw.log = 'debug'; // section of wrong type
    const { problems } = validate(raw);
    assert.deepEqual(fields(problems), [
      'deviceid',
      'gateway.connectTimeoutMs',
      'gateway.timeoutMs',
      'log',
      'merchant.acqSpId',
      'merchant.goodsInfo',
      'merchant.privateKey',
      'payment.maxAmountFen',
      'scanner.baudRatee',
      'scanner.driver',
    ]);
    assert.match(find(problems, 'deviceid').problem, /unknown key; did you mean "deviceId"\?/);
    assert.match(find(problems, 'scanner.baudRatee').problem, /did you mean "baudRate"/);
    assert.match(find(problems, 'merchant.acqSpId').problem, /10 letters\/digits starting with Y/);
    assert.equal(find(problems, 'merchant.acqSpId').value, 'Y47');
    assert.match(find(problems, 'merchant.goodsInfo').problem, /contains ", ".*Java demo/);
    assert.equal(find(problems, 'merchant.privateKey').value, join(dir, 'keys/absent.key.p8'));
    assert.match(find(problems, 'merchant.privateKey').problem, /no such file/);
    assert.match(find(problems, 'gateway.timeoutMs').problem, /whole number.*got a string/);
    assert.match(find(problems, 'gateway.connectTimeoutMs').problem, /between 100 and 60000 ms/);
    assert.match(find(problems, 'scanner.driver').problem, /one of "serial", "sim"/);
    assert.match(find(problems, 'payment.maxAmountFen').problem, /got a fraction/);
    assert.match(find(problems, 'log').problem, /must be an object/);
    for (const p of problems) assert.equal(p.file, 'config.json');
  });

  it('goodsId/goodsInfo are optional, and text the vendor\'s two signing rules would sign differently is refused', () => {
    const raw = minimal();
    delete raw.merchant.goodsId;
    delete raw.merchant.goodsInfo;
    assert.deepEqual(validate(raw).problems, []);
    raw.merchant.goodsId = 'A{1}';
    raw.pricing = { mode: 'menu', items: { '1': { amountFen: 300, goodsInfo: 'Water, cold' }, '2': { amountFen: 300, goodsInfo: 'Water,cold' } } };
    const { problems } = validate(raw);
    const named = fields(problems).filter((f) => f.startsWith('merchant.') || f.startsWith('pricing.'));
    assert.deepEqual(named, ['merchant.goodsId', 'pricing.items.1.goodsInfo']);
    assert.match(find(problems, 'merchant.goodsId').problem, /contains "\{"/);
  });

  it('checks merchant and goods fields by the protocol\'s own rules (src/umpay/messages.ts), not a looser copy', () => {
    const raw = full();
    raw.merchant.acqSpId = 'X471790403'; // 10 letters/digits, but the platform's ids start with Y: every call would throw
    raw.merchant.goodsInfo = '饮'.repeat(43); // 43 characters, 129 UTF-8 bytes: over the 128 the platform takes
    raw.merchant.goodsId = ' VEND';
    raw.pricing.items['1'].goodsId = 'COLA-330-ML-CAN-24'; // 18 bytes, over 16
    const { problems, config } = validate(raw);
    assert.equal(config, undefined);
    assert.deepEqual(fields(problems), ['merchant.acqSpId', 'merchant.goodsId', 'merchant.goodsInfo', 'pricing.items.1.goodsId']);
    assert.match(find(problems, 'merchant.acqSpId').problem, /starting with Y/);
    assert.equal(find(problems, 'merchant.acqSpId').value, 'X471790403');
    assert.match(find(problems, 'merchant.goodsInfo').problem, /129 bytes, at most 128/);
    assert.match(find(problems, 'merchant.goodsId').problem, /leading or trailing spaces/);
  });

  it('runs the cross-field rules even while other fields are wrong, without repeating a field\'s own problem', () => {
    const raw = minimal();
    raw.gateway.timeoutMs = 70000; // not shorter than the customer window
    raw.scanner.maxLineLength = 8; // out of range
    raw.payment = { customerWindowMs: 'soon' }; // wrong type: the rule cannot compare and stays silent
    assert.deepEqual(fields(validate(raw).problems), ['payment.customerWindowMs', 'scanner.maxLineLength']);
    raw.payment = { customerWindowMs: 60000 };
    assert.deepEqual(fields(validate(raw).problems), ['gateway.timeoutMs', 'scanner.maxLineLength']);
  });

  it('an lcd on I2C bus 1 takes BCM 2 and 3 from the other devices', () => {
    const raw = full();
    raw.display = { driver: 'lcd' };
    raw.keypad.rows = [2, 6, 13, 19];
    const p = find(validate(raw).problems, 'keypad.rows[0]');
    assert.match(p.problem, /BCM 2 is already used by display \(I2C SDA\)/);
    raw.display.i2cBus = 0;
    assert.deepEqual(validate(raw).problems, []);
  });

  it('reports missing required sections and a non-object config', () => {
    assert.deepEqual(fields(validate({}).problems), ['deviceId', 'gateway', 'journal', 'merchant', 'pricing', 'scanner']);
    const [p] = validate([1, 2]).problems;
    assert.equal(p!.field, '');
    assert.match(p!.problem, /must be a JSON object, got an array/);
  });

  it('refuses a private key readable by group or others, with the chmod to run', () => {
    const key = join(dir, 'keys/merchant.key.p8');
    chmodSync(key, 0o640);
    const p = find(validate(minimal()).problems, 'merchant.privateKey');
    assert.match(p.problem, /readable by group or others \(mode 0640\)/);
    assert.ok(p.problem.includes(`chmod 600 ${key}`), p.problem);
    chmodSync(key, 0o604);
    assert.equal(validate(minimal()).problems.length, 1);
    chmodSync(key, 0o400);
    assert.deepEqual(validate(minimal()).problems, []);
  });

  it('reports a key or certificate that cannot be parsed, with the key loader’s reason', () => {
    writeFileSync(join(dir, 'keys/merchant.key.p8'), 'not a key at all!', { mode: 0o600 });
    writeFileSync(join(dir, 'keys/platform.cert.crt'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const { problems } = validate(minimal());
    assert.deepEqual(fields(problems), ['gateway.platformCert', 'merchant.privateKey']);
    assert.match(find(problems, 'merchant.privateKey').problem, /^not a readable private key; expected an RSA private key/);
    assert.match(find(problems, 'gateway.platformCert').problem, /PEM certificate could not be read/);
  });

  it('refuses a private key given as the platform certificate (DER and PEM): it would verify nothing', () => {
    const cert = join(dir, 'keys/platform.cert.crt');
    copyFileSync(join(SHARED, 'test-merchant.key.p8'), cert);
    assert.match(find(validate(minimal()).problems, 'gateway.platformCert').problem, /is a private key, not the platform's certificate/);
    writeFileSync(cert, createPrivateKey({ key: readFileSync(join(SHARED, 'test-merchant.key.p8')), format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }));
    assert.match(find(validate(minimal()).problems, 'gateway.platformCert').problem, /is a private key, not the platform's certificate/);
  });

  it('checks the journal folder exists (or can be made in an existing folder), and skips file checks when asked', () => {
    const raw = minimal();
    raw.journal.path = 'new/journal.sqlite'; // made 0700 by the daemon: its parent exists
    assert.equal(validate(raw).problems.filter((p) => p.field === 'journal.path').length, 0);
    raw.journal.path = 'nowhere/deeper/journal.sqlite';
    raw.merchant.privateKey = 'keys/absent.key.p8';
    assert.match(find(validate(raw).problems, 'journal.path').problem, /folder .*nowhere\/deeper does not exist/);
    assert.deepEqual(validate(raw, false).problems, []);
    raw.journal.path = 'data';
    assert.match(find(validate(raw, true).problems, 'journal.path').problem, /is a folder/);
  });

  it('cross-checks pricing, keypad, scanner and GPIO pins', () => {
    const fixedNoAmount = minimal();
    delete fixedNoAmount.pricing.amountFen;
    assert.match(find(validate(fixedNoAmount).problems, 'pricing.amountFen').problem, /missing/);

    const menuNoItems = minimal();
    menuNoItems.pricing = { mode: 'menu' };
    assert.deepEqual(fields(validate(menuNoItems).problems), ['keypad.driver', 'pricing.items']);
    assert.match(find(validate(menuNoItems).problems, 'keypad.driver').problem, /needs a keypad/);

    const slowGateway = minimal();
    slowGateway.gateway = { ...slowGateway.gateway, timeoutMs: 60000 };
    slowGateway.payment = { customerWindowMs: 60000 };
    assert.deepEqual(fields(validate(slowGateway).problems), ['gateway.timeoutMs']);
    assert.match(find(validate(slowGateway).problems, 'gateway.timeoutMs').problem, /shorter than payment.customerWindowMs \(60000\)/);

    const overMax = minimal();
    overMax.payment = { maxAmountFen: 200 };
    assert.match(find(validate(overMax).problems, 'pricing.amountFen').problem, /between 1 and 200 fen/);

    const badItems = full();
    badItems.pricing.items = { '1': { amountFen: 0 }, x: { amountFen: 100, price: 3 }, '2': 5 };
    assert.deepEqual(fields(validate(badItems).problems), ['pricing.items.1.amountFen', 'pricing.items.2', 'pricing.items.x', 'pricing.items.x.price']);

    const matrix = full();
    matrix.keypad.cols = [12, 16, 20, 21];
    matrix.keypad.keys = '123456789*0A';
    const mp = validate(matrix).problems;
    assert.deepEqual(fields(mp), ['keypad.keys', 'keypad.keys']);
    assert.ok(mp.some((p) => /4 × 4 = 16 labels/.test(p.problem)));
    assert.ok(mp.some((p) => /"A"/.test(p.problem)));

    const direct = full();
    direct.keypad = { driver: 'gpio', layout: 'direct' };
    assert.match(find(validate(direct).problems, 'keypad.pins').problem, /one pin per key/);
    direct.keypad.pins = { '1': 5, A: 6 };
    assert.match(find(validate(direct).problems, 'keypad.pins.A').problem, /not a key/);

    const serial = minimal();
    serial.scanner = { driver: 'serial', baudRate: 9601 };
    assert.deepEqual(fields(validate(serial).problems), ['scanner.baudRate', 'scanner.path']);
    serial.scanner = { driver: 'serial', path: 'ttyUSB0', reopenMinMs: 5000, reopenMaxMs: 1000 };
    assert.deepEqual(fields(validate(serial).problems), ['scanner.path', 'scanner.reopenMinMs']);

    const pins = full();
    pins.approve.pin = 17; // green LED's line
    pins.keypad.rows = [5, 6, 13, 28];
    pins.indicator.pins.red = 14; // UART TX while the scanner is on serial0
    pins.scanner.path = '/dev/serial0';
    const pp = validate(pins).problems;
    assert.deepEqual(fields(pp), ['approve.pin', 'indicator.pins.red', 'keypad.rows[3]']);
    assert.match(find(pp, 'approve.pin').problem, /BCM 17 is already used by indicator.pins.green/);
    assert.match(find(pp, 'keypad.rows[3]').problem, /between 0 and 27/);
    assert.match(find(pp, 'indicator.pins.red').problem, /UART \(TX\)/);

    const firmata = full();
    firmata.indicator = { driver: 'johnny-five', io: 'firmata', pins: { green: 40 } };
    assert.deepEqual(fields(validate(firmata).problems), ['indicator.firmataPort'], 'board pins are not BCM and need a port');

    const socket = minimal();
    socket.daemon = { controlSocket: '/' + 'x'.repeat(120) };
    assert.match(find(validate(socket).problems, 'daemon.controlSocket').problem, /107 bytes/);
  });

  it('loadConfig throws one ConfigError listing every problem, one line each', () => {
    const file = join(dir, 'config.json');
    const raw = minimal();
    raw.scanner.driver = 'usb';
    raw.pricing.amountFen = -1;
    writeFileSync(file, JSON.stringify(raw));
    assert.throws(
      () => loadConfig(file),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'E_CONFIG');
        assert.equal(err.problems.length, 2);
        const lines = err.message.split('\n');
        assert.equal(lines[0], `${file}: 2 problems in the config:`);
        assert.equal(lines[1], `  ${file}: scanner.driver: must be one of "serial", "sim", "hid" (got "usb")`);
        assert.equal(lines[2], `  ${file}: pricing.amountFen: must be at least 1 fen (got -1)`);
        return true;
      },
    );
    writeFileSync(file, JSON.stringify(minimal()));
    assert.equal(loadConfig(file).journal.path, join(dir, 'data/journal.sqlite'));
  });

  it('reports invalid JSON with line and column, and a missing file', () => {
    const cases: Array<[string, RegExp]> = [
      ['{\n  "a": 1,\n}', /line 3, column 1: expected another key \(a trailing comma/],
      ['{\n  "a": 1\n  "b": 2\n}', /line 3, column 3: expected "," or "}"/],
      ['{\n  "a": tru\n}', /line 2, column 8: expected a value/],
      ['{\n  // comment\n}', /line 2, column 3: expected a double-quoted key/],
      ['{"a": "x\ny"}', /line 1, column 9: a line break or control character/],
      ['{"a": [1, 2', /line 1, column 12: expected "," or "]", found the end of the file/],
      ['', /line 1, column 1: expected a value/],
    ];
    for (const [text, re] of cases) {
      const r = parseJson(text);
      assert.equal(r.ok, false, text);
      if (!r.ok) assert.match(r.problem, re, text);
    }
    assert.deepEqual(parseJson('\ufeff{"a":1}'), { ok: true, value: { a: 1 } });
    const file = join(dir, 'bad.json');
    writeFileSync(file, '{\n  "deviceId": "K1",,\n}');
    assert.throws(() => loadConfig(file), /bad\.json: 1 problem in the config:\n  .*bad\.json: invalid JSON at line 2, column 20/);
    assert.match(readConfig(join(dir, 'absent.json')).problems[0]!.problem, /no such file/);
  });

  it('a device as the config, key or certificate is refused unread (/dev/zero never ends: it filled memory)', () => {
    assert.match(readConfig('/dev/zero').problems[0]!.problem, /^not a regular file/);
    const raw = minimal();
    raw.merchant.privateKey = '/dev/zero';
    raw.gateway.platformCert = '/dev/zero';
    const { problems } = validate(raw);
    assert.match(find(problems, 'merchant.privateKey').problem, /not a regular file/);
    assert.match(find(problems, 'gateway.platformCert').problem, /not a regular file/);
  });

  it('a device as journal.path is refused (opening it would chmod /dev/null to 0600 as root)', () => {
    const raw = minimal();
    raw.journal = { path: '/dev/null' };
    assert.match(find(validate(raw).problems, 'journal.path').problem, /not a regular file/);
  });

  it('issue 10 §2: a lockFile or controlSocket that is the journal, its -wal/-shm, the config, a key or the certificate is refused', () => {
    const cases: Array<[string, string]> = [
      ['data/journal.sqlite', 'journal.path'],
      ['data/journal.sqlite-wal', 'journal.path (its -wal)'],
      ['data/journal.sqlite-shm', 'journal.path (its -shm)'],
      ['config.json', 'the config file'],
      ['keys/merchant.key.p8', 'merchant.privateKey'],
      ['keys/platform.cert.crt', 'gateway.platformCert'],
    ];
    for (const field of ['lockFile', 'controlSocket'] as const) {
      for (const [path, what] of cases) {
        const raw = minimal();
        raw.daemon = { [field]: path };
        const p = find(validate(raw).problems, `daemon.${field}`);
        assert.equal(p.value, join(dir, path));
        assert.ok(p.problem.startsWith(`is ${what}: the daemon writes this file`), p.problem);
      }
    }
    // The same file under another name (a hard link to the journal) is the journal too.
    writeFileSync(join(dir, 'data/journal.sqlite'), '');
    linkSync(join(dir, 'data/journal.sqlite'), join(dir, 'data/other-name'));
    const raw = minimal();
    raw.daemon = { lockFile: 'data/other-name' };
    assert.match(find(validate(raw).problems, 'daemon.lockFile').problem, /^is journal\.path/);
    raw.daemon = { lockFile: 'data/same', controlSocket: 'data/same' };
    assert.match(find(validate(raw).problems, 'daemon.controlSocket').problem, /same file as daemon\.lockFile/);
  });

  it('issue 21 §12: a settleDir, lockFile or controlSocket in a kernel pseudo filesystem (/proc, /sys, /dev) is refused', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['daemon.settleDir', { settleDir: '/proc/kiosk-settle' }],
      ['daemon.settleDir', { settleDir: '/sys/kernel/settle' }],
      ['daemon.lockFile', { lockFile: '/proc/kiosk.lock' }],
      ['daemon.controlSocket', { controlSocket: '/dev/kiosk.sock' }],
    ];
    for (const [field, daemon] of cases) {
      for (const checkFiles of [true, false]) {
        const raw = minimal();
        raw.daemon = daemon;
        assert.match(find(validate(raw, checkFiles).problems, field).problem, /kernel pseudo filesystem/, `${field} ${JSON.stringify(daemon)}`);
      }
    }
    const raw = minimal();
    raw.daemon = { settleDir: 'settle' };
    assert.deepEqual(validate(raw).problems.filter((p) => p.field.startsWith('daemon.')), []);
  });

  it('issue 10 §2: a lockFile or controlSocket outside a folder the daemon owns is refused (/tmp: anyone can plant a file there)', function () {
    if (process.getuid?.() !== 0) this.skip();
    const shared = join(dir, 'shared');
    mkdirSync(shared);
    chownSync(shared, 4321, 4321);
    const raw = minimal();
    raw.daemon = { lockFile: join(shared, 'kiosk.lock'), controlSocket: join(dir, 'nope/kiosk.sock') };
    const problems = validate(raw).problems;
    assert.match(find(problems, 'daemon.lockFile').problem, /folder .*shared belongs to uid 4321, not to the kiosk user/);
    assert.match(find(problems, 'daemon.controlSocket').problem, /folder .*nope does not exist/);
    // Without file checks (kiosk doctor reads the config as another user) only the identity rules apply.
    assert.equal(validate(raw, false).problems.length, 0);
  });

  it('resolves the config path from the flag, then KIOSK_CONFIG, then the default', () => {
    assert.equal(resolveConfigPath('/a/b.json', { KIOSK_CONFIG: '/c.json' }), '/a/b.json');
    assert.equal(resolveConfigPath(undefined, { KIOSK_CONFIG: '/c.json' }), '/c.json');
    assert.equal(resolveConfigPath(undefined, {}), DEFAULT_CONFIG_PATH);
    assert.equal(DEFAULT_CONFIG_PATH, '/etc/kiosk/config.json');
  });
});
