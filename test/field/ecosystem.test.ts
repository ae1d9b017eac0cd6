import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../../src/config/index.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const require = createRequire(import.meta.url);

// pm2's own loader for ecosystem files (what `pm2 start FILE` calls), without starting a pm2 daemon.
// The restart-under-SIGKILL test against the real daemon belongs with the daemon (issue 5).
const pm2Common = require('pm2/lib/Common.js') as { parseConfig(text: string, file: string): { apps: Array<Record<string, any>> } };

describe('field/ecosystem', () => {
  for (const name of ['ecosystem.config.cjs', 'ecosystem.config.js']) {
    it(`${name} loads in pm2 and defines one forked kiosk`, () => {
      const { apps } = pm2Common.parseConfig('', `${ROOT}${name}`);
      assert.equal(apps.length, 1);
      const app = apps[0]!;
      assert.equal(app.name, 'kiosk');
      assert.equal(app.script, 'dist/src/cli/kiosk.js');
      assert.deepEqual(app.node_args, ['--max-semi-space-size=1', '--max-opt=1']);
      assert.equal(app.cwd, ROOT.replace(/\/$/, ''));
      assert.deepEqual(app.args, ['run', '--config', process.env.KIOSK_CONFIG || '/etc/kiosk/config.json']);
      assert.equal(app.exec_mode, 'fork');
      assert.equal(app.instances, 1);
      assert.equal(app.wait_ready, true);
      assert.ok(app.listen_timeout >= 10000);
      assert.ok(app.kill_timeout > DEFAULTS.daemon.graceMs, `kill_timeout ${app.kill_timeout}`);
      assert.ok(app.exp_backoff_restart_delay > 0);
      assert.ok(app.max_memory_restart);
      assert.deepEqual(app.stop_exit_codes, [78]);
      assert.equal(app.env_production.NODE_ENV, 'production');
      assert.equal(app.time, true);
      assert.equal(app.merge_logs, true);
    });
  }
});
