// The demo kiosk: a local sandbox gateway, a journal under a demo folder, simulated hardware and the
// real daemon wiring in between. Used by `kiosk demo` (terminal panel) and `kiosk demo --auto N`
// (scripted customers, a summary table, an exit code CI can check). `vend: 'mdb'`: the product comes from a
// simulated vending machine behind a simulated MDB HAT (docs/mdb.md) instead of the relay.
import { rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { loadConfig, type Config } from '../config/index.js';
import { createLogger, type Logger } from '../log.js';
import { startSandbox, type Sandbox } from '../sandbox/start.js';
import { testCode, type Behaviour } from '../sandbox/codes.js';
import { isFinal } from '../journal/journal.js';
import { maskAuthCode } from '../umpay/authcode.js';
import type { OrderType } from '../umpay/types.js';
import { Daemon } from './daemon.js';
import { GmSim } from '../hardware/sim/gm-sim.js';
import { VmcSim } from '../hardware/sim/mdb-sim.js';
import { orderNoOf, type InteractionState, type PaymentRecord } from './interaction.js';
import { makeDirs } from '../dirs.js';

export interface DemoOptions {
  /** Folder for the sandbox state, the journal, the config and the log. */
  dataDir: string;
  pricing?: 'fixed' | 'menu' | 'keyed';
  /** Short customer windows and displays so scripted customers finish in seconds. */
  fast?: boolean;
  /** Where the daemon's JSON log lines go (default: demo.log in dataDir). */
  log?: Logger;
  /** A `fleet` config section (docs/fleet.md): the demo kiosk reports to that broker too. */
  fleet?: Record<string, unknown>;
  /** Default DEMO01 (several demo kiosks side by side, e.g. for `kiosk fleet watch`). */
  deviceId?: string;
  /**
   * 'gm': the scanner is a simulated Grow GM65 behind the real module driver, in command-trigger mode; it starts in
   * manual mode with a TAB tail, so the demo shows it being set up (and saved once) and triggered only while ready.
   */
  module?: 'gm';
  /** 'mdb': a simulated vending machine (VMC + MDB HAT) names the product and price and vends it. Default 'relay'. */
  vend?: 'relay' | 'mdb';
}

export interface Demo {
  sandbox: Sandbox;
  daemon: Daemon;
  config: Config;
  configFile: string;
  logFile: string;
  /** Scanner input as the sim scanner takes it. */
  scan(line: string): void;
  press(key: string): void;
  /** The simulated vending machine (vend 'mdb'). */
  vmc?: VmcSim;
  close(): Promise<void>;
}

interface SimScannerLike {
  push(line: string): void;
}
interface SimKeypadLike {
  press(key: string): void;
}

/** The demo vending machine's products (vend 'mdb', `kiosk dev --mdb`): number, price as the machine writes it. */
export const DEMO_MACHINE = [
  { product: '1', price: '1.50', name: 'Water' },
  { product: '2', price: '3.00', name: 'Cola' },
  { product: '3', price: '5.50', name: 'Chips' },
] as const;

/** The `mdb` section of the demo's machine (the HAT's driver and path aside): its product names for the display. */
export function demoMdbSection(): Record<string, unknown> {
  return { products: Object.fromEntries(DEMO_MACHINE.map((p) => [p.product, p.name])) };
}

/** The config the demo writes: relative paths, so the folder can be moved or inspected. */
export function demoConfigJson(baseUrl: string, pricing: DemoOptions['pricing'] = 'fixed', ca?: string, vend: DemoOptions['vend'] = 'relay'): Record<string, unknown> {
  if (vend === 'mdb') {
    // The machine releases the product (C,VEND), never a relay; '*' on the keypad is the customer's cancel.
    return { ...demoConfigJson(baseUrl, 'fixed', ca), keypad: { driver: 'sim' }, approve: { driver: 'none', pulseMs: 300 }, mdb: { driver: 'sim', ...demoMdbSection() } };
  }
  const pricingSection =
    pricing === 'menu'
      ? { mode: 'menu', items: { '1': { amountFen: 150, goodsInfo: 'water' }, '2': { amountFen: 300, goodsInfo: 'cola' }, '3': { amountFen: 550, goodsInfo: 'sandwich' } } }
      : pricing === 'keyed'
        ? { mode: 'keyed', maxAmountFen: 20000 }
        : { mode: 'fixed', amountFen: 350 };
  return {
    deviceId: 'DEMO01',
    merchant: { acqSpId: 'Y471790403', acqMerId: '41509208', privateKey: 'sandbox/merchant.key.pem', goodsId: 'DEMO', goodsInfo: 'demo snack' },
    gateway: { baseUrl, platformCert: 'sandbox/platform.cert.crt', ...(ca ? { ca } : {}) },
    journal: { path: 'journal.sqlite' },
    scanner: { driver: 'sim' },
    keypad: { driver: pricing === 'fixed' ? 'none' : 'sim' },
    indicator: { driver: 'sim' },
    // A simulated drop sensor confirms each vend (the panel's j key makes the next one jam).
    approve: { driver: 'sim', pulseMs: 300, confirm: { confirmWithinMs: 1000 } },
    display: { driver: 'sim' },
    pricing: pricingSection,
  };
}

export async function startDemo(options: DemoOptions): Promise<Demo> {
  const dataDir = resolve(options.dataDir);
  makeDirs(dataDir, 0o700);
  const stateDir = join(dataDir, 'sandbox');
  const sandbox = await startSandbox({ port: 0, host: '127.0.0.1', stateDir, ledgerFile: join(stateDir, 'ledger.json') });
  try {
    const configFile = join(dataDir, 'config.json');
    writeFileSync(configFile, JSON.stringify({ ...demoConfigJson(sandbox.baseUrl, options.pricing, undefined, options.vend), ...(options.deviceId ? { deviceId: options.deviceId } : {}), ...(options.fleet ? { fleet: options.fleet } : {}) }, null, 2) + '\n', { mode: 0o600 });
    const config = loadConfig(configFile);
    if (options.fast) {
      // Below the limits an operator may configure (payment.customerWindowMs ≥ 5 s): only for scripted
      // customers against the local sandbox, set in memory, never in a config file.
      config.payment.customerWindowMs = 1500;
      config.payment.queryIntervalMs = 150;
    }
    const logFile = join(dataDir, 'demo.log');
    const log = options.log ?? createLogger({ destination: pino.destination({ dest: logFile, sync: true, mkdir: true }) });
    let simModule: GmSim | undefined;
    if (options.module === 'gm') {
      Object.assign(config.scanner, { module: 'gm', model: 'GM65', trigger: 'command', readWindowMs: options.fast ? 1000 : 5000 });
      simModule = new GmSim({ model: 'GM65', zone: { 0x0060: 0x40 } });
    }
    // The machine's motor runs a second on the panel; scripted customers do not wait for it.
    const vmc = options.vend === 'mdb' ? new VmcSim({ vendMs: options.fast ? 0 : 1500 }) : undefined;
    const daemon = await Daemon.start(config, {
      log,
      timing: options.fast ? { signalMs: 50, resultMs: 50 } : {},
      hardwareDeps: { ...(simModule ? { simModule } : {}), ...(vmc ? { simVmc: vmc } : {}) },
    });
    const scanner = daemon.hardware.scanner as unknown as SimScannerLike;
    const keypad = daemon.hardware.keypad as unknown as SimKeypadLike | undefined;
    return {
      sandbox,
      daemon,
      config,
      configFile,
      logFile,
      scan: (line) => scanner.push(line),
      press: (key) => keypad?.press(key),
      ...(vmc ? { vmc } : {}),
      close: async () => {
        await daemon.stop('demo closed');
        await sandbox.close();
      },
    };
  } catch (err) {
    await sandbox.close();
    throw err;
  }
}

// ---- scripted customers

/** The order customers come in: every behaviour early, so even a short run covers the interesting ones. */
export const AUTO_MIX: readonly Behaviour[] = ['paid', 'pending-then-paid', 'insufficient-balance', 'pending-forever', 'answer-lost', 'expired', 'reused'];
const WALLETS: readonly OrderType[] = ['wechat', 'alipay', 'unionpay'];

/** What each test code must give: the customer's answer and the order's final journal state. */
export const EXPECTED: Record<Behaviour, { result: string; journal: string }> = {
  paid: { result: 'approved', journal: 'delivered' },
  'pending-then-paid': { result: 'approved', journal: 'delivered' },
  'answer-lost': { result: 'approved', journal: 'delivered' }, // charged, answer dropped: the query finds it paid
  'pending-forever': { result: 'not-charged', journal: 'reversed' },
  'insufficient-balance': { result: 'declined', journal: 'failed' },
  expired: { result: 'declined', journal: 'failed' },
  reused: { result: 'declined', journal: 'failed' },
};

export interface AutoRow {
  customer: number;
  code: string;
  behaviour: Behaviour;
  expected: string;
  outcome: string;
  orderNo: string;
  journal: string;
  ok: boolean;
}

function waitFor<T>(check: () => T | undefined, subscribe: (wake: () => void) => () => void, timeoutMs: number, what: string): Promise<T> {
  return new Promise((resolveP, reject) => {
    const first = check();
    if (first !== undefined) return resolveP(first);
    let unsubscribe = () => {};
    // The poll is a safety net only; the event normally answers first.
    const poll = setInterval(() => wake(), 100);
    const timer = setTimeout(() => {
      clearInterval(poll);
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const wake = () => {
      const v = check();
      if (v === undefined) return;
      clearInterval(poll);
      clearTimeout(timer);
      unsubscribe();
      resolveP(v);
    };
    unsubscribe = subscribe(wake);
  });
}

/** Runs `n` customers one after another through the scanner; each row says whether it matched. */
export async function runCustomers(demo: Demo, n: number, onRow?: (row: AutoRow) => void): Promise<AutoRow[]> {
  const { interaction, journal, engine } = demo.daemon;
  const rows: AutoRow[] = [];
  for (let i = 0; i < n; i++) {
    const behaviour = AUTO_MIX[i % AUTO_MIX.length]!;
    const wallet = WALLETS[i % WALLETS.length]!;
    const code = testCode(behaviour, wallet);
    const expected = EXPECTED[behaviour];
    const onState = (wake: () => void) => {
      interaction.on('state', wake);
      return () => interaction.off('state', wake);
    };
    if (demo.vmc) {
      // The customer chooses on the machine first (the products in turn); the kiosk then asks for its price.
      await interaction.settled();
      await waitFor(() => (interaction.state.name === 'idle' ? true : undefined), onState, 10_000, `customer ${i + 1}: the kiosk to be idle`);
      const item = DEMO_MACHINE[i % DEMO_MACHINE.length]!;
      demo.vmc.select(item.price, item.product);
    }
    await waitFor(
      () => (interaction.state.name === 'ready' ? true : undefined),
      onState,
      10_000,
      `customer ${i + 1}: the kiosk to be ready`,
    );
    const payment = new Promise<PaymentRecord>((r) => interaction.once('payment', r));
    demo.scan(code);
    const rec = await payment;
    const orderNo = orderNoOf(rec.result) ?? '';
    let final = '-';
    if (orderNo) {
      try {
        final = await waitFor(
          () => {
            const row = journal.getPublic(orderNo);
            return row && isFinal(row.state) ? row.state : undefined;
          },
          (wake) => {
            engine.on('transition', wake);
            return () => engine.off('transition', wake);
          },
          15_000,
          `order ${orderNo} to reach a final state`,
        );
      } catch {
        final = `${journal.getPublic(orderNo)?.state ?? '?'} (not final)`;
      }
    }
    const row: AutoRow = {
      customer: i + 1,
      code: maskAuthCode(code),
      behaviour,
      expected: `${expected.result} / ${expected.journal}`,
      outcome: rec.result.kind === 'refused' ? `refused:${rec.result.reason}` : rec.result.kind,
      orderNo: orderNo || '-',
      journal: final,
      ok: rec.result.kind === expected.result && final === expected.journal,
    };
    rows.push(row);
    onRow?.(row);
  }
  return rows;
}

export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export function autoTable(rows: readonly AutoRow[]): string {
  return formatTable(
    ['customer', 'code', 'test code', 'expected', 'outcome', 'orderNo', 'journal', 'ok'],
    rows.map((r) => [String(r.customer), r.code, r.behaviour, r.expected, r.outcome, r.orderNo, r.journal, r.ok ? 'yes' : 'NO']),
  );
}

/** A fresh folder for one scripted run (its journal and ledger start empty). */
export function freshDir(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  makeDirs(dir, 0o700);
  return dir;
}

export type { InteractionState };
