// serialport's mock binding with a simulated module behind it: what the driver writes reaches the simulator at
// the port's baud rate, what the simulator sends arrives as port data (garbled when the rates differ).
import { SerialPortMock } from 'serialport';
import { ModuleSim } from '../../src/hardware/sim/module-sim.js';

export const MockBinding = SerialPortMock.binding;

type OpenOpts = Parameters<typeof MockBinding.open>[0];
type MockPort = Awaited<ReturnType<typeof MockBinding.open>>;

/** A binding whose port `path` is wired to `sim`. Call MockBinding.reset() after each test. */
export function simBinding(path: string, sim: ModuleSim): typeof MockBinding & { port(): MockPort | null } {
  MockBinding.createPort(path, { echo: false, record: false });
  let current: MockPort | null = null;
  const binding = Object.create(MockBinding) as typeof MockBinding & { port(): MockPort | null };
  binding.port = () => current;
  binding.open = async (opts: OpenOpts) => {
    const port = await MockBinding.open(opts);
    current = port;
    const baud = () => port.openOptions.baudRate;
    const write = port.write.bind(port);
    port.write = async (buf: Buffer) => {
      await write(buf);
      const copy = Buffer.from(buf);
      setImmediate(() => sim.receive(copy, baud()));
    };
    const out = (b: Buffer) => {
      if (port.isOpen) port.emitData(baud() === sim.baudRate ? b : ModuleSim.garble(b));
    };
    sim.on('output', out);
    const close = port.close.bind(port);
    port.close = async () => {
      sim.off('output', out);
      await close();
    };
    return port;
  };
  return binding;
}
