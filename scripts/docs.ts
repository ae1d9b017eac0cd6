// Writes the generated references (device/CONFIG.md from the config schema, docs/cli.md from the
// command table, the states part of docs/payments.md from the transition table). Run: npm run docs.
// The tests fail while a generated file differs from what this would write.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliReference } from '../src/cli/reference.js';
import { configReference } from '../src/config/reference.js';
import { statesReference } from '../src/journal/states.js';

// dist/scripts/ → the repository
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const BEGIN = '<!-- generated from src/journal/states.ts by `npm run docs`: edit the table there, not here -->';
const END = '<!-- end of generated states -->';

/** docs/payments.md with its generated part (between the markers) as the transition table says. */
export function paymentsDoc(current: string): string {
  const a = current.indexOf(BEGIN);
  const b = current.indexOf(END);
  if (a < 0 || b < a) throw new Error(`docs/payments.md: the markers ${BEGIN} … ${END} are missing`);
  return `${current.slice(0, a + BEGIN.length)}\n${statesReference()}${current.slice(b)}`;
}

/** Each generated file: its text, from what it holds now (a file only partly generated keeps the rest). */
export const GENERATED: ReadonlyArray<{ file: string; text: (current: string) => string }> = [
  { file: 'device/CONFIG.md', text: configReference },
  { file: 'docs/cli.md', text: cliReference },
  { file: 'docs/payments.md', text: paymentsDoc },
];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const g of GENERATED) {
    writeFileSync(ROOT + g.file, g.text(readFileSync(ROOT + g.file, 'utf8')));
    console.log(`wrote ${g.file}`);
  }
}
