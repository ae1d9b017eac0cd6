// Simulated keypad: the demo panel (or a test) presses keys.
import { EventEmitter } from 'node:events';
import { KEYS, type Keypad } from '../keypad.js';

export class SimKeypad extends EventEmitter implements Keypad {
  async open(): Promise<void> {}
  async close(): Promise<void> {}

  /** Emits 'key' for a keypad label; anything else is refused with a clear error. */
  press(key: string): void {
    if (key.length !== 1 || !KEYS.includes(key)) throw new RangeError(`not a keypad key: ${JSON.stringify(key)} (keys are ${KEYS})`);
    this.emit('key', key);
  }
}
