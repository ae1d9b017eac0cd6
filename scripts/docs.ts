// Writes the generated references (device/CONFIG.md from the config schema, docs/cli.md from the
// command table). Run: npm run docs.
// The tests fail while a generated file differs from what this would write.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { cliReference } from '../src/cli/reference.js';
import { configReference } from '../src/config/reference.js';

// dist/scripts/ → the repository
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const GENERATED: ReadonlyArray<{ file: string; text: () => string }> = [
  { file: 'device/CONFIG.md', text: configReference },
  { file: 'docs/cli.md', text: cliReference },
];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const g of GENERATED) {
    writeFileSync(ROOT + g.file, g.text());
    console.log(`wrote ${g.file}`);
  }
}
