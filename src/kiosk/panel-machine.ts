// The demo panel's vending machine (`kiosk demo --vend mdb`): the customer at the simulated machine behind the
// simulated MDB HAT (src/hardware/sim/mdb-sim.ts). Its keys choose a product, cancel, reset the machine, send it a
// garbage line or make its next vend fail; its line says what the machine is doing. It decides nothing.
import type { VmcSim } from '../hardware/sim/mdb-sim.js';
import { DEMO_MACHINE } from './demo.js';

export interface MachinePanel {
  /** The keys, for the panel's help. */
  readonly help: string;
  /** The machine's line on the panel. */
  line(): string;
  /** A key the machine takes: what to tell the user; undefined when the key is not the machine's. */
  key(k: string): string | undefined;
}

const STATE: Record<VmcSim['state'], string> = {
  inactive: 'reader not enabled',
  enabled: 'choose a product (1-3)',
  requested: 'asking the kiosk to approve',
  approved: 'approved: vending',
  session: 'session open',
};

export function machinePanel(vmc: VmcSim): MachinePanel {
  return {
    help: `1-3 choose on the machine (${DEMO_MACHINE.map((p) => `${p.product} ${p.name} ${p.price}`).join(', ')})   x cancel on the machine   z reset it   g a garbage line   * cancel at the kiosk`,
    line: () => {
      const s = vmc.selection;
      return `  machine ${STATE[vmc.state]}${s ? `: product ${s.productId} at ${s.amount}` : ''}${vmc.nextOutcome === 'failure' ? '   (the next vend jams)' : ''}`;
    },
    key(k) {
      const item = DEMO_MACHINE.find((p) => p.product === k);
      if (item) {
        vmc.select(item.price, item.product);
        return `chose ${item.name} (product ${item.product}) at ${item.price} on the machine`;
      }
      switch (k) {
        case 'x':
          vmc.cancel();
          return 'cancelled on the machine (its own timeout does the same)';
        case 'z':
          vmc.reset();
          return 'the machine reset';
        case 'g':
          vmc.garbage('\x00\xffc,STATUS,VEND,abc,9\r\n');
          return 'the machine sent a garbage line';
        case 'j':
          vmc.nextOutcome = 'failure';
          return 'the next vend jams: the machine will report c,ERR,VEND 3';
        default:
          return undefined;
      }
    },
  };
}
