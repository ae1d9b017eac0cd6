// `kiosk dev --mdb`: the rig's vending machine, a simulated VMC + MDB HAT (src/hardware/sim/mdb-sim.ts) on the far
// end of a second pty whose near end the daemon's HAT driver opens, as it opens /dev/serial0 on a Pi. `kiosk dev
// machine ACTION` drives it over a unix socket in the rig's folder: choose a product, cancel (the machine's own
// timeout ends a selection the same way), reset, report a held vend, say how it answers the next approvals, send a
// garbage line, or show its state.
import { createConnection, createServer } from 'node:net';
import { parseMdbLine } from '../hardware/mdb.js';
import { VmcSim, type VendOutcome } from '../hardware/sim/mdb-sim.js';
import { attachToPty } from '../hardware/sim/pty-end.js';
import { DEMO_MACHINE } from '../kiosk/demo.js';
import { UsageError } from './args.js';

export const MACHINE_ACTIONS = ['select', 'cancel', 'reset', 'succeed', 'fail', 'outcome', 'garbage', 'state'] as const;
const OUTCOMES: readonly VendOutcome[] = ['success', 'failure', 'hold'];

/** One thing done at the machine, checked before it is sent to the rig. */
export type MachineStep =
  | { action: 'select'; product: string; price: string }
  | { action: 'outcome'; outcome: VendOutcome }
  | { action: 'garbage'; text: string }
  | { action: 'cancel' | 'reset' | 'succeed' | 'fail' | 'state' };

/** What the rig answers: what it did, and the machine as it is now (the last lines it read from the kiosk). */
export interface MachineReply {
  message: string;
  state: string;
  selection: { amount: string; productId: string } | null;
  outcome: VendOutcome;
  heard: string[];
}

/** `kiosk dev machine` positionals as a step; UsageError when they are not one. */
export function machineStep(positional: readonly string[]): MachineStep {
  const [action, arg, extra] = positional;
  switch (action) {
    case 'select': {
      if (arg === undefined) throw new UsageError('dev machine select: give the product number (and its price when it is not one of the rig\'s)');
      const price = extra ?? DEMO_MACHINE.find((p) => p.product === arg)?.price;
      const known = DEMO_MACHINE.map((p) => `${p.product} ${p.name} ${p.price}`).join(', ');
      if (price === undefined) throw new UsageError(`dev machine select: product ${JSON.stringify(arg)} is not one of the rig's (${known}): give its price too`);
      // What the machine would write: the kiosk's own parser says whether it is a selection line.
      const line = `c,STATUS,VEND,${price},${arg}`;
      const parsed = parseMdbLine(line);
      if (parsed.kind !== 'vend-request') throw new UsageError(`dev machine select: ${parsed.kind === 'garbage' ? parsed.reason : `${line} is not a selection`} (kiosk dev machine garbage sends malformed lines)`);
      return { action, product: arg, price };
    }
    case 'outcome':
      if (!OUTCOMES.includes(arg as VendOutcome) || extra !== undefined) throw new UsageError(`dev machine outcome: success, failure or hold, got ${JSON.stringify(arg)}`);
      return { action, outcome: arg as VendOutcome };
    case 'garbage':
      if (extra !== undefined) throw new UsageError('dev machine garbage: one TEXT (quote it)');
      return { action, text: arg ?? '\x00\xff\xfe noise' };
    case 'cancel':
    case 'reset':
    case 'succeed':
    case 'fail':
    case 'state':
      if (arg !== undefined) throw new UsageError(`dev machine ${action}: takes no argument, got ${JSON.stringify(arg)}`);
      return { action };
    default:
      throw new UsageError(`dev machine: ${JSON.stringify(action)} is not one of ${MACHINE_ACTIONS.join(', ')}`);
  }
}

function act(vmc: VmcSim, step: MachineStep): string {
  switch (step.action) {
    case 'select':
      vmc.select(step.price, step.product);
      return `product ${step.product} chosen on the machine: it asks the kiosk to approve ${step.price}`;
    case 'cancel':
      vmc.cancel();
      return 'cancelled on the machine (c,STATUS,IDLE)';
    case 'reset':
      vmc.reset();
      return 'the machine reset (c,STATUS,INACTIVE, DISABLED, ENABLED)';
    case 'succeed':
    case 'fail': {
      const held = vmc.state === 'approved';
      if (step.action === 'succeed') vmc.succeed();
      else vmc.fail();
      return `the machine reported ${step.action === 'succeed' ? 'c,VEND,SUCCESS' : 'c,ERR,VEND 3'}${held ? '' : ' with no vend approved (the kiosk logs it as unexpected)'}`;
    }
    case 'outcome':
      vmc.outcome = step.outcome;
      return step.outcome === 'hold' ? 'the machine now waits after an approval: kiosk dev machine succeed|fail reports it' : `the machine now reports an approved vend as a ${step.outcome}`;
    case 'garbage':
      vmc.garbage(`${step.text}\r\n`);
      return `the machine sent ${JSON.stringify(step.text)}`;
    case 'state':
      return '';
  }
}

function reply(vmc: VmcSim, message: string): MachineReply {
  return { message, state: vmc.state, selection: vmc.selection, outcome: vmc.outcome, heard: vmc.received.slice(-10) };
}

/** The machine on `end` (the far end of the HAT's pty), driven over the unix socket `socket`. */
export async function startMachine(end: string, socket: string): Promise<{ vmc: VmcSim; close(): Promise<void> }> {
  // The motor runs a second: a vend is seen going on in `kiosk mdb watch`.
  const vmc = new VmcSim({ vendMs: 1000 });
  const detach = attachToPty(end, vmc);
  const server = createServer((c) => {
    let buf = '';
    c.on('error', () => {});
    c.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      let answer: MachineReply | { error: string };
      try {
        answer = reply(vmc, act(vmc, JSON.parse(buf.slice(0, nl)) as MachineStep));
      } catch (err) {
        answer = { error: (err as Error).message };
      }
      c.end(JSON.stringify(answer) + '\n');
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, () => resolve());
  });
  return {
    vmc,
    close: async () => {
      detach();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** Sends one step to the rig's machine and returns its reply. */
export function askMachine(socket: string, step: MachineStep, timeoutMs = 5000): Promise<MachineReply> {
  return new Promise((resolve, reject) => {
    const c = createConnection(socket);
    let buf = '';
    const timer = setTimeout(() => c.destroy(new Error(`the rig's machine did not answer within ${timeoutMs} ms`)), timeoutMs);
    c.on('connect', () => c.write(JSON.stringify(step) + '\n'));
    c.on('data', (d: Buffer) => (buf += d.toString()));
    c.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    c.on('end', () => {
      clearTimeout(timer);
      try {
        const r = JSON.parse(buf) as MachineReply | { error: string };
        if ('error' in r) reject(new Error(r.error));
        else resolve(r);
      } catch {
        reject(new Error(`the rig's machine answered ${JSON.stringify(buf.slice(0, 80))}`));
      }
    });
  });
}
