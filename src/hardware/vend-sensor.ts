// The vend sensor (drop sensor / vend-sense line): a digital input that goes active when a product falls
// through the delivery chute. Drivers report the debounced level; the kiosk decides what a drop proves.
import { EventEmitter } from 'node:events';

/** Events: 'change' (active: boolean) on every debounced change; 'warning' (Error). */
export interface VendSensor extends EventEmitter {
  open(): Promise<void>;
  /** The debounced level now. */
  readonly active: boolean;
  close(): Promise<void>;
}
