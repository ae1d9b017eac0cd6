// The keypad device: 'key' events with '0'–'9', '*', '#'.
import { EventEmitter } from 'node:events';

export type Key = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9' | '*' | '#';
export const KEYS = '0123456789*#';

/** Events: 'key' (Key), emitted once per press after debounce. */
export interface Keypad extends EventEmitter {
  open(): Promise<void>;
  close(): Promise<void>;
}
