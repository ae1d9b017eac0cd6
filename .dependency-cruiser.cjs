// The module table of docs/ARCHITECTURE.md ("knows nothing of") as rules over src/'s imports, type-only imports
// included. Checked by `npm test` (test/architecture.test.ts: zero violations, and each rule shown to fire on a
// deliberate violation); `npm run lint:deps` prints the same report for people.
// A rule per row of the table, named after it; the data flow (hardware → kiosk → payment engine → journal +
// gateway) adds the upper layers to each lower layer's list.

/** Path patterns, relative to the cruise's base folder. */
const folder = (...names) => names.map((n) => `^src/${n}/`);
const SQLITE = '(^|/node_modules/)better-sqlite3(/|$)';
const DRIVERS = '(^|/node_modules/)(serialport|@serialport/[^/]+|onoff|johnny-five|i2c-bus|firmata-io)(/|$)';
const HTTP_CORE = '^(node:)?(http|https|http2|net|tls)$';
const HTTP_PKGS = '(^|/node_modules/)(node-fetch|undici)(/|$)';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  // Every rule is an error: a warning nobody has to fix is not a rule.
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A cycle makes two modules one: neither can be understood, tested or moved alone.',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'only-cli-imports-cli',
      comment:
        'The CLI is the top: the daemon knows nothing of it (table: kiosk). What a command shares with the daemon ' +
        'belongs to the daemon side (src/kiosk/control.ts) or a neutral module (src/days.ts), or is handed in.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'umpay-knows-nothing-of-sqlite-or-hardware',
      comment: 'Table, src/umpay/: the protocol library knows nothing of SQLite, hardware, nor of the layers above it.',
      from: { path: '^src/umpay/' },
      to: { path: [...folder('journal', 'hardware', 'payment', 'kiosk', 'fleet', 'sandbox', 'config'), SQLITE, DRIVERS] },
    },
    {
      name: 'sandbox-knows-nothing-of-journal-or-engine',
      comment: 'Table, src/sandbox/: the local gateway speaks the protocol only; it knows nothing of the journal or the engine.',
      from: { path: '^src/sandbox/' },
      to: { path: [...folder('journal', 'payment', 'kiosk', 'hardware', 'fleet'), SQLITE] },
    },
    {
      name: 'journal-knows-nothing-of-http',
      comment:
        'Table, src/journal/: no HTTP, no wire format beyond stored fields (umpay types and code masking only), ' +
        'nothing of the layers above it.',
      from: { path: '^src/journal/' },
      to: { path: [...folder('umpay', 'hardware', 'kiosk', 'fleet', 'sandbox'), HTTP_CORE, HTTP_PKGS], pathNot: '^src/umpay/(types|authcode)\\.ts$' },
    },
    {
      name: 'payment-knows-nothing-of-hardware-or-sql',
      comment: 'Table, src/payment/: no hardware, no SQL (the journal\'s methods only), nothing of the kiosk or fleet that call it.',
      from: { path: '^src/payment/' },
      to: { path: [...folder('hardware', 'kiosk', 'fleet', 'sandbox'), SQLITE, DRIVERS] },
    },
    {
      name: 'hardware-knows-nothing-of-payments',
      comment:
        'Table, src/hardware/: drivers know nothing of payments. The scanner hands over digit strings; which wallet ' +
        'a code belongs to is the kiosk\'s call (src/kiosk/interaction.ts).',
      from: { path: '^src/hardware/' },
      to: { path: [...folder('umpay', 'payment', 'journal', 'kiosk', 'fleet', 'sandbox'), SQLITE] },
    },
    {
      name: 'kiosk-knows-nothing-of-sql-or-wire-fields',
      comment:
        'Table, src/kiosk/: no SQL (the journal\'s methods only) and no wire fields (the engine and the gateway ' +
        'build and read messages); the CLI is forbidden by only-cli-imports-cli.',
      from: { path: '^src/kiosk/' },
      to: { path: ['^src/umpay/(canonical|signature|outcome|json|messages)\\.ts$', SQLITE] },
    },
    {
      name: 'fleet-knows-nothing-of-sql-engine-hardware',
      comment: 'Table, src/fleet/: the daemon hands it snapshots and handlers through FleetHost (src/kiosk/fleet.ts).',
      from: { path: '^src/fleet/' },
      to: { path: [...folder('payment', 'hardware', 'kiosk', 'sandbox'), SQLITE, DRIVERS] },
    },
    {
      name: 'fleet-knows-only-the-outbox-type',
      comment:
        'Table, src/fleet/: of the journal the fleet knows only the outbox\'s type (the store the daemon hands it, ' +
        'src/journal/outbox.ts), never its code or SQL.',
      from: { path: '^src/fleet/' },
      to: { path: '^src/journal/', pathNot: '^src/journal/outbox\\.ts$' },
    },
    {
      name: 'fleet-loads-no-journal-code',
      comment: 'Table, src/fleet/: a type-only import of the outbox, nothing that runs.',
      from: { path: '^src/fleet/' },
      to: { path: '^src/journal/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-knows-nothing-of-everything-else',
      comment:
        'Table, src/config/: only the protocol\'s field rules, types and key loading, the fleet files check, the ' +
        'scanner-module value lists and the customer texts table.',
      from: { path: '^src/config/' },
      to: {
        path: '^src/',
        pathNot: [
          '^src/config/',
          '^src/umpay/(messages|keys|types)\\.ts$',
          '^src/fleet/files\\.ts$',
          '^src/hardware/modules/types\\.ts$',
          '^src/kiosk/texts\\.ts$',
          '^src/dirs\\.ts$',
        ],
      },
    },
    {
      name: 'tables-config-reads-are-leaves',
      comment: 'The tables the config reads from other owners import nothing of ours: the config must not pull in their folders.',
      from: { path: '^src/(hardware/modules/types|kiosk/texts)\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'hardware-loads-no-config-schema',
      comment:
        'Table, src/hardware/: a driver takes its defaults from src/config/defaults.ts (plain constants), never from ' +
        'the schema (zod and every section: cold start, docs/performance.md); the config\'s types are free.',
      from: { path: '^src/hardware/' },
      to: { path: '^src/config/', pathNot: '^src/config/defaults\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'config-defaults-import-nothing',
      comment: 'src/config/defaults.ts is what code without the schema reads: it must not pull anything in.',
      from: { path: '^src/config/defaults\\.ts$' },
      to: { path: '.' },
    },
    {
      name: 'clock-release-days-know-nothing',
      comment: 'Table, src/clock.ts, src/release.ts, src/days.ts, src/dirs.ts: the base every folder may use; they use none.',
      from: { path: '^src/(clock|release|days|dirs)\\.ts$' },
      to: { path: '^src/' },
    },
    {
      name: 'sandbox-is-not-production',
      comment: 'The local gateway serves the demo, the tests and the CLI; the daemon\'s code never reaches it.',
      from: { path: '^src/', pathNot: ['^src/(sandbox|cli)/', '^src/kiosk/(demo|panel)\\.ts$'] },
      to: { path: '^src/sandbox/' },
    },
    {
      name: 'src-not-to-tests',
      comment: 'Production code (node dist/src/...) never loads a test, a benchmark or a script.',
      from: { path: '^src/' },
      to: { path: '^(test|bench|scripts)/' },
    },
    {
      name: 'src-not-to-dev-dependencies',
      comment: 'An install without devDependencies must run: src/ uses dependencies only (types excepted).',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve fails at run time.',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
  ].map((rule) => ({ severity: 'error', ...rule })),
  options: {
    // Type-only imports count: a type is knowledge of its owner too.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
