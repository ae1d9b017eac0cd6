import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readConfig } from '../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'device/install.sh');

function install(...args: string[]) {
  return spawnSync('bash', [SCRIPT, ...args], { encoding: 'utf8', timeout: 15000 });
}

describe('field/install.sh', () => {
  it('parses (bash -n), and so does the kiosk wrapper (sh -n)', () => {
    assert.equal(spawnSync('bash', ['-n', SCRIPT]).status, 0);
    assert.equal(spawnSync('sh', ['-n', join(ROOT, 'device/kiosk.sh')]).status, 0);
  });

  for (const mode of ['systemd', 'pm2'] as const) {
    it(`--dry-run --mode ${mode} prints every step and changes nothing`, () => {
      const optBefore = existsSync('/opt/kiosk');
      const r = install('--dry-run', '--mode', mode, '--key', join(ROOT, 'test/fixtures/umpay/test-merchant.key.p8'));
      assert.equal(r.status, 0, r.stderr);
      const out = r.stdout;
      assert.match(out, /^# dry run: nothing is changed$/m);
      assert.match(out, /^\+ usermod --append --groups dialout,gpio kiosk$/m);
      assert.match(out, /^\+ install -d -m 0700 -o kiosk -g kiosk \/var\/lib\/kiosk$/m);
      assert.match(out, /^\+ install -d -m 0750 -o root -g kiosk \/etc\/kiosk$/m);
      assert.match(out, /^\+ install -m 0600 -o kiosk -g kiosk \S+test-merchant\.key\.p8 \/etc\/kiosk\/merchant\.key\.p8$/m);
      assert.match(out, /^\+ install -m 0644 \S+\/device\/99-kiosk-scanner\.rules \/etc\/udev\/rules\.d\/99-kiosk-scanner\.rules$/m);
      assert.match(out, /npm ci --omit=dev/);
      const unit = mode === 'systemd' ? 'kiosk.service' : 'kiosk-pm2.service';
      assert.match(out, new RegExp(`^\\+ systemctl enable ${unit}$`, 'm'));
      assert.doesNotMatch(out, new RegExp(`systemctl enable ${mode === 'systemd' ? 'kiosk-pm2' : 'kiosk\\.service'}`));
      for (const line of out.split('\n')) assert.match(line, /^([+#] .*)?$/, `every line is a step or a note: ${line}`);
      assert.equal(existsSync('/opt/kiosk'), optBefore);
    });
  }

  it('refuses a bad mode or option with exit 2, and a missing key file with exit 1', () => {
    const bad = install('--dry-run', '--mode', 'docker');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--mode must be systemd or pm2, got 'docker'/);
    assert.equal(install('--dry-run', '--frobnicate').status, 2);
    const noKey = install('--dry-run', '--key', '/nonexistent/key.p8');
    assert.equal(noKey.status, 1);
    assert.match(noKey.stderr, /no such file: \/nonexistent\/key\.p8/);
  });

  it('device/config.example.json is valid apart from the files that exist only on a Pi', () => {
    const { problems } = readConfig(join(ROOT, 'device/config.example.json'));
    const notHere = problems.filter((p) => !(/no such file|does not exist/.test(p.problem) && ['merchant.privateKey', 'gateway.platformCert', 'journal.path'].includes(p.field)));
    assert.deepEqual(notHere, []);
    assert.deepEqual(readConfig(join(ROOT, 'device/config.example.json'), { checkFiles: false }).problems, []);
  });
});
