// Mocha config for the whole suite (`npm test`): the compiled test files in two worker processes, the
// slowest files first. Most of a slow file's time is waiting on child processes (daemons, pm2, install.sh),
// so two workers finish the suite in well under the time of one; slowest first keeps a long file from
// starting last and running alone at the end. Single files (`npx mocha dist/test/x.test.js`) still run
// serially with .mocharc.json. docs/tests.md has the measured times.
'use strict';
const { readdirSync } = require('node:fs');
const { join } = require('node:path');

const DIST = 'dist/test';
// Measured slowest first (docs/tests.md); a name that no longer exists is simply not found.
const SLOWEST = [
  'crash/crash.test.js',
  'field/install.test.js',
  'kiosk/daemon.test.js',
  'field/pm2.test.js',
  'payment/drills.test.js',
  'offline/drills.test.js',
  'kiosk/cli.test.js',
  'fleet/e2e.test.js',
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
  jobs: 2,
  spec: all.sort((a, b) => rank(a) - rank(b)).map((f) => join(DIST, f)),
};
