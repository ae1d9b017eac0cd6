// Mocha config for the whole suite (`npm test`): the compiled test files in worker processes, one more than
// the cores (three on a 2-core machine), the slowest files first. Much of a slow file's time is waiting on
// child processes (daemons, pm2, install.sh, a pty), which the extra worker fills; slowest first keeps a long
// file from starting last and running alone at the end. Single files (`npx mocha dist/test/x.test.js`) still
// run serially with .mocharc.json. docs/tests.md has the measured times.
'use strict';
const { readdirSync } = require('node:fs');
const { availableParallelism } = require('node:os');
const { join } = require('node:path');

const DIST = 'dist/test';
// Measured slowest first (docs/tests.md); a name that no longer exists is simply not found.
const SLOWEST = [
  'crash/crash.test.js',
  'field/install.test.js',
  'field/mender.test.js',
  'kiosk/daemon.test.js',
  'kiosk/clock-drill.test.js',
  'field/pm2.test.js',
  'fleet/e2e.test.js',
  'kiosk/cli.test.js',
  'payment/drills.test.js',
  'bench/soak.test.js',
  'offline/drills.test.js',
  'umpay/cli.test.js',
  'cli/dev.test.js',
  'kiosk/journal-gone.test.js',
  'kiosk/demo.test.js',
  'cli/version.test.js',
  'cli/scanner.test.js',
  'cli/log-leak.test.js',
  'fleet/watch.test.js',
  'fleet/scanner-setup.test.js',
  'fleet/client.test.js',
  'architecture.test.js',
];

const all = readdirSync(DIST, { recursive: true })
  .map(String)
  .filter((f) => f.endsWith('.test.js'))
  .sort();
const rank = (f) => {
  const i = SLOWEST.indexOf(f);
  return i < 0 ? SLOWEST.length : i;
};

module.exports = {
  ...require('../.mocharc.json'),
  parallel: true,
  jobs: availableParallelism() + 1,
  spec: all.sort((a, b) => rank(a) - rank(b)).map((f) => join(DIST, f)),
};
