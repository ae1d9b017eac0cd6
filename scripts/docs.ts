// Writes the generated references (device/CONFIG.md from the config schema, docs/cli.md from the
// command table, the states part of docs/payments.md from the transition table, the test:pi subset in
// docs/tests.md from scripts/pi-platform.ts). Run: npm run docs.
// The tests fail while a generated file differs from what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliReference } from '../src/cli/reference.js';
import { configReference } from '../src/config/reference.js';
import { statesReference } from '../src/journal/states.js';
import { piSubsetTable } from './pi-platform.js';

// dist/scripts/ → the repository
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** `current` with the text between two marker lines replaced by `body` (the rest of the file is kept). */
function between(file: string, current: string, begin: string, end: string, body: string): string {
  const a = current.indexOf(begin);
  const b = current.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file}: the markers ${begin} … ${end} are missing`);
  return `${current.slice(0, a + begin.length)}\n${body}${current.slice(b)}`;
}

/** docs/payments.md with its generated part (between the markers) as the transition table says. */
export const paymentsDoc = (current: string): string =>
  between('docs/payments.md', current, '<!-- generated from src/journal/states.ts by `npm run docs`: edit the table there, not here -->', '<!-- end of generated states -->', statesReference());

/** docs/tests.md with the test:pi subset as scripts/pi-platform.ts says. */
export const testsDoc = (current: string): string =>
  between('docs/tests.md', current, '<!-- generated from scripts/pi-platform.ts by `npm run docs`: edit SUBSET and LEFT_OUT there, not here -->', '<!-- end of generated test:pi subset -->', piSubsetTable());

/** Each generated file: its text, from what it holds now (a file only partly generated keeps the rest). */
export const GENERATED: ReadonlyArray<{ file: string; text: (current: string) => string }> = [
  { file: 'device/CONFIG.md', text: configReference },
  { file: 'docs/cli.md', text: cliReference },
  { file: 'docs/payments.md', text: paymentsDoc },
  { file: 'docs/tests.md', text: testsDoc },
];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const g of GENERATED) {
    writeFileSync(ROOT + g.file, g.text(readFileSync(ROOT + g.file, 'utf8')));
    console.log(`wrote ${g.file}`);
  }
}
