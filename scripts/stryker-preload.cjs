// Preloaded (node --require, through NODE_OPTIONS) into StrykerJS and every process it starts, by `npm run mutate`
// (scripts/mutate.ts). `npm test` never loads this file.
'use strict';
const Module = require('node:module');

// @stryker-mutator/mocha-runner 9.6.1, the newest release that runs on Node 20 (10.x needs Node 22), loads mocha's
// CLI helpers by path without an extension (`lib/cli/options`, `lib/cli/run-helpers`); mocha 12 ships them as
// `.cjs`, which require's extension search does not try. This lets it try `.cjs` too (loaded as CommonJS, as Node
// loads any .cjs file).
if (!Module._extensions['.cjs']) Module._extensions['.cjs'] = Module._extensions['.js'];

// The daemon tells pm2 it is up with process.send('ready') (wait_ready). A test that runs the daemon in-process
// inside Stryker's test runner would send that to Stryker, whose IPC channel reads every message as JSON and stops
// on this one. Only that exact message is dropped, and only in a process with an IPC parent.
if (typeof process.send === 'function') {
  const send = process.send;
  process.send = function (message, ...rest) {
    return message === 'ready' ? true : send.call(this, message, ...rest);
  };
}
