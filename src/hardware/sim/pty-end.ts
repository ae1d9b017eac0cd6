// A simulated device on the far end of a pty (a scanner module, or a vending machine behind its MDB HAT): it reads
// what the driver on the near end writes and writes its answers back ('output'). `kiosk dev --mdb` and the pty tests.
import { createReadStream, createWriteStream } from 'node:fs';
import type { EventEmitter } from 'node:events';

/** Attaches `sim` to the pty end at `path`; returns the detach. */
export function attachToPty(path: string, sim: EventEmitter & { receive(b: Buffer): void }): () => void {
  const input = createReadStream(path);
  const output = createWriteStream(path, { flags: 'w' });
  input.on('error', () => {});
  output.on('error', () => {});
  input.on('data', (b) => sim.receive(Buffer.from(b as Buffer)));
  const out = (b: Buffer) => output.write(b);
  sim.on('output', out);
  return () => {
    sim.off('output', out);
    input.destroy();
    output.destroy();
  };
}
