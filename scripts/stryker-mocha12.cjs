// Preloaded (node --require) into StrykerJS and its test-runner processes by `npm run mutate`.
// @stryker-mutator/mocha-runner 9.6.1, the newest release that runs on Node 20 (10.x needs Node 22), loads mocha's
// CLI helpers by path without an extension (`lib/cli/options`, `lib/cli/run-helpers`); mocha 12 ships them as
// `.cjs`, which require's extension search does not try. This lets it try `.cjs` too (loaded as CommonJS, as
// Node loads any .cjs file). Nothing else changes; `npm test` never loads this file.
'use strict';
const Module = require('node:module');

if (!Module._extensions['.cjs']) Module._extensions['.cjs'] = Module._extensions['.js'];
