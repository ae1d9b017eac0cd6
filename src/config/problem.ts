// What the config reports: a leaf, so that sections can name it without importing the schema they are part of.

/** One thing wrong with a config, for an operator: where, what was there, what is wrong. */
export interface ConfigProblem {
  file: string;
  /** Dotted path, e.g. `scanner.baudRate`, `keypad.rows[2]`; '' for the file as a whole. */
  field: string;
  /** The offending value as found (undefined when missing). Never key material: only paths and settings. */
  value: unknown;
  problem: string;
}
