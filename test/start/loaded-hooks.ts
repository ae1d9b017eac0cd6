// Module hooks (node:module register) for test/start/loaded-modules.ts: every ESM module's URL, appended to the
// file named by the preload as it loads. Runs on node's hooks thread.
import { appendFileSync } from 'node:fs';

let file = '';

export function initialize(data: { file: string }): void {
  file = data.file;
}

type Next = (url: string, context: unknown) => Promise<unknown>;

export async function load(url: string, context: unknown, next: Next): Promise<unknown> {
  appendFileSync(file, `${url}\n`);
  return next(url, context);
}
