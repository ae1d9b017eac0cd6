// The demo's terminal panel: the kiosk's face drawn with plain ANSI escape codes (no packages):
// three LEDs, the buzzer, the keypad entry, the scanner, and the last payments with their journal
// states. It only reads the daemon's events and feeds the sim scanner/keypad; it decides nothing.
// A little over 350 lines: one closure over the panel's state, which its drawing and its keys share.
import { testCode, TEST_CODES } from '../sandbox/codes.js';
import { maskAuthCode } from '../umpay/authcode.js';
import type { OrderType } from '../umpay/types.js';
import type { Demo } from './demo.js';
import { orderNoOf, type PaymentRecord } from './interaction.js';
import type { Pattern } from '../hardware/indicator.js';
import { PATTERNS, type LampState } from '../hardware/indicator.js';
import { machinePanel } from './panel-machine.js';

type Led = LampState['mode'];
interface Look {
  green: Led;
  amber: Led;
  red: Led;
  buzzer: string;
  meaning: string;
}

/**
 * How the panel draws a pattern: the indicator's own table (src/hardware/indicator.ts), so the panel shows what the
 * lamps would.
 */
export function lookOf(pattern: Pattern): Look {
  const spec = PATTERNS[pattern];
  const n = spec.beeps.length;
  const long = spec.beeps.some((b) => b.ms >= 300);
  return {
    green: spec.lamps.green.mode,
    amber: spec.lamps.amber.mode,
    red: spec.lamps.red.mode,
    buzzer: n === 0 ? '' : Array.from({ length: n }, () => (long ? 'beeeep' : 'beep')).join(' '),
    meaning: spec.meaning,
  };
}

const ESC = '\x1b[';
const COLOURS = { green: '32', amber: '33', red: '31' } as const;
const WALLET_KEYS: Record<string, OrderType> = { w: 'wechat', a: 'alipay', u: 'unionpay' };
const WALLETS: OrderType[] = ['wechat', 'alipay', 'unionpay'];
/** What the panel says while paying, by the engine's progress word. */
const PROGRESS_TEXT: Record<string, string> = {
  sending: '   sending to the platform',
  offline: '   waiting for the network',
  waiting: '   waiting for the verdict: confirm on your phone if it asks',
  paying: `   ${ESC}1mconfirm on your phone${ESC}0m`,
};

interface Row {
  at: string;
  code: string;
  amountFen: number;
  result: string;
  orderNo: string;
  state: string;
}

/** The display as the customer sees it: green-on-black glass in a frame. */
function screenBox(lines: readonly string[], cols: number): string[] {
  if (lines.length === 0) return [];
  const edge = `  display +${'-'.repeat(cols)}+`;
  return [edge, ...lines.map((l) => `          |${ESC}1;32;40m${l.padEnd(cols)}${ESC}0m|`), edge];
}

export interface PanelIo {
  input: NodeJS.ReadStream;
  output: NodeJS.WriteStream;
}

/** Runs the panel until the user quits; resolves then (the caller closes the demo). */
export function runPanel(demo: Demo, io: PanelIo): Promise<void> {
  const { interaction, engine, journal, hardware } = demo.daemon;
  const tty = Boolean(io.input.isTTY);
  // --vend mdb: the vending machine names product and price; its keys are the digits (panel-machine.ts).
  const machine = demo.vmc ? machinePanel(demo.vmc) : undefined;
  const fixed = !machine && demo.config.pricing.mode === 'fixed';
  let pattern: Pattern = hardware.indicator.pattern ?? 'idle';
  let orderNo: string | undefined;
  let buzz = '';
  let vend = '';
  let scanLine: string | undefined; // while typing a scanner line
  let behaviourPrefix = false;
  let lastCode: string | undefined;
  let lastMasked = '…';
  let message = '';
  let blinkOn = true;
  let scannerUp = hardware.scanner.connected;
  let screen: readonly string[] = hardware.display.lines;
  // While a payment is in flight: when it started (for the time left) and what the engine last said.
  let processingSince: number | undefined;
  let progress = '';
  const windowMs = demo.config.payment.customerWindowMs;
  const rows: Row[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };

  const led = (name: keyof typeof COLOURS, state: Led) => {
    const lit = state === 'on' || (state === 'blink' && blinkOn);
    return lit ? `${ESC}1;${COLOURS[name]}m●${ESC}0m` : `${ESC}2m○${ESC}0m`;
  };

  const draw = () => {
    if (!tty) return;
    const look = lookOf(pattern);
    const st = interaction.state;
    const entry = st.name === 'entering' ? st.digits || '_' : st.name === 'ready' && !fixed ? `¥${(st.choice.amountFen / 100).toFixed(2)}${st.choice.item ? ` (item ${st.choice.item})` : ''}` : '';
    const menu = demo.config.pricing.mode === 'menu' ? Object.entries(demo.config.pricing.items).map(([k, it]) => `${k} ${it.goodsInfo ?? it.goodsId ?? 'item'} ¥${(it.amountFen / 100).toFixed(2)}`).join('   ') : '';
    const paying =
      st.name === 'processing' && processingSince !== undefined
        ? `  paying  ${Math.max(0, Math.ceil((windowMs - (performance.now() - processingSince)) / 1000))} s left${PROGRESS_TEXT[progress] ?? ''}`
        : '';
    const lines = [
      `${ESC}1mUMPay kiosk demo${ESC}0m  sandbox ${demo.sandbox.baseUrl}  pricing ${machine ? 'by the vending machine (MDB)' : demo.config.pricing.mode}${fixed ? ` ¥${((demo.config.pricing.amountFen ?? 0) / 100).toFixed(2)}` : ''}`,
      '',
      `  green ${led('green', look.green)}   amber ${led('amber', look.amber)}   red ${led('red', look.red)}     buzzer ${buzz ? `${ESC}1m♪ ${buzz}${ESC}0m` : '-'}     ${machine ? 'vend approved' : 'vend relay'} ${vend ? `${ESC}1;32m${vend}${ESC}0m` : '-'}`,
      `  pattern ${ESC}1m${pattern}${ESC}0m${orderNo ? ` (${orderNo})` : ''}: ${look.meaning}`,
      ...screenBox(screen, hardware.display.geometry.cols),
      `  keypad  ${fixed ? '(none in fixed mode)' : entry || '-'}`,
      ...(menu ? [`  menu    ${menu}   (type the item number, then #)`] : []),
      ...(paying ? [paying] : []),
      `  scanner ${scannerUp ? 'connected' : `${ESC}31munplugged${ESC}0m`}${scanLine !== undefined ? `   typing a line: ${scanLine}_  (Enter scans, Esc cancels)` : ''}`,
      ...(machine ? [machine.line()] : []),
      '',
      ...(machine ? [`${ESC}1mKeys${ESC}0m  ${machine.help}`] : []),
      `${machine ? '     ' : `${ESC}1mKeys${ESC}0m`}  ${fixed || machine ? '' : '0-9 * # keypad   '}w/a/u paid code (WeChat/Alipay/UnionPay)   ${fixed ? '1-7' : 'c then 1-7'} a test code per outcome:`,
      `      ${TEST_CODES.map((t, i) => `${i + 1} ${t.behaviour}`).join('  ')}`,
      `      r rescan the last code   n noise line   s type a scanner line   o unplug/replug scanner   j jam the next vend   q quit`,
      '',
      `${ESC}1mLast payments${ESC}0m`,
      ...(rows.length === 0
        ? ['  (none yet)']
        : ['  ' + ['time', 'code', 'amount', 'result', 'orderNo', 'journal'].map((h, i) => h.padEnd([8, 16, 8, 12, 26, 12][i]!)).join(' '), ...rows.map((r) => '  ' + [r.at, r.code, `¥${(r.amountFen / 100).toFixed(2)}`, r.result, r.orderNo, r.state].map((c, i) => c.padEnd([8, 16, 8, 12, 26, 12][i]!)).join(' '))]),
      '',
      message,
    ];
    // Home, overwrite each line and clear its rest, clear below: no full-screen clear, no flicker.
    io.output.write(`${ESC}H` + lines.map((l) => `${l}${ESC}K`).join('\n') + `\n${ESC}J`);
  };

  const say = (text: string) => {
    message = text;
    if (!tty) io.output.write(text + '\n');
    draw();
  };

  const onPattern = (p: Pattern, o?: string) => {
    pattern = p;
    orderNo = o;
    const b = lookOf(p).buzzer;
    if (b) {
      buzz = b;
      later(600, () => {
        buzz = '';
        draw();
      });
    }
    if (!tty) io.output.write(`indicator: ${p}${o ? ` ${o}` : ''}\n`);
    draw();
  };
  const onApprove = (o: string) => {
    vend = `released (${o})`;
    later(800, () => {
      vend = '';
      draw();
    });
    draw();
  };
  const onPayment = (rec: PaymentRecord) => {
    const o = orderNoOf(rec.result) ?? '-';
    const row: Row = {
      at: new Date().toTimeString().slice(0, 8),
      code: rec.code,
      amountFen: rec.amountFen,
      result: rec.result.kind === 'refused' ? `refused:${rec.result.reason}` : rec.result.kind,
      orderNo: o,
      state: o !== '-' ? (journal.getPublic(o)?.state ?? '?') : '-',
    };
    // The order's row appeared 'in progress' when it was journaled: finish that row, do not add another.
    const open = o !== '-' ? rows.findIndex((r) => r.orderNo === o) : -1;
    if (open >= 0) rows[open] = { ...row, at: rows[open]!.at };
    else rows.unshift(row);
    rows.length = Math.min(rows.length, 8);
    if (!tty) io.output.write(`payment: ${rec.code} ${rec.result.kind} ${o}\n`);
    draw();
  };
  const onTransition = (t: { orderNo: string; to: string }) => {
    const row = rows.find((r) => r.orderNo === t.orderNo);
    if (row) {
      row.state = t.to;
      draw();
    } else if (t.to === 'created' && interaction.state.name === 'processing') {
      // The order the customer is paying right now: shown from the moment it is journaled.
      const o = journal.getPublic(t.orderNo);
      rows.unshift({ at: new Date().toTimeString().slice(0, 8), code: lastMasked, amountFen: o ? Number(o.txnAmt) : interaction.state.choice.amountFen, result: 'in progress', orderNo: t.orderNo, state: t.to });
      rows.length = Math.min(rows.length, 8);
      draw();
    }
  };
  const onScreen = (lines: readonly string[]) => {
    screen = lines;
    if (!tty) io.output.write(`display: ${lines.map((l) => l.trimEnd()).join(' / ')}\n`);
    draw();
  };
  const onState = (s: { name: string }) => {
    if (s.name === 'processing') {
      processingSince ??= performance.now();
    } else {
      processingSince = undefined;
      progress = '';
    }
    draw();
  };
  const onProgress = (state: string) => {
    progress = state;
    draw();
  };
  const onFault = () => {
    scannerUp = false;
    draw();
  };
  const onConnected = () => {
    scannerUp = true;
    draw();
  };
  const onMachine = (b: Buffer) => {
    if (!tty) io.output.write(`machine: ${b.toString('latin1').trim().split(/\r\n/).join(' / ')}\n`);
    draw();
  };

  interaction.on('pattern', onPattern);
  interaction.on('approve', onApprove);
  interaction.on('payment', onPayment);
  hardware.display.on('screen', onScreen);
  interaction.on('state', onState);
  interaction.on('progress', onProgress);
  engine.on('transition', onTransition);
  hardware.scanner.on('fault', onFault);
  hardware.scanner.on('connected', onConnected);
  demo.vmc?.on('output', onMachine);
  const blink = setInterval(() => {
    blinkOn = !blinkOn;
    draw();
  }, 400);

  /**
   * What the scanner would do with a line now, said truthfully: an unplugged scanner reads nothing, and a scan while
   * not ready is ignored (not refused).
   */
  const scanNote = (what: string): string => {
    if (!scannerUp) return `scanner unplugged: ${what} was not read (o replugs it)`;
    const st = interaction.state.name;
    if (st !== 'ready') return `${what}: ignored, the kiosk is not ready (${st}); nothing was sent`;
    return `scanned ${what}`;
  };
  const scan = (code: string, label: string) => {
    lastCode = code;
    lastMasked = maskAuthCode(code);
    say(scanNote(`${label}: ${maskAuthCode(code)}`));
    demo.scan(code);
  };
  const showBehaviour = (n: number) => {
    const info = TEST_CODES[n - 1];
    if (!info) return say(`no test code ${n}`);
    const wallet = WALLETS[Math.floor(Math.random() * WALLETS.length)]!;
    scan(testCode(info.behaviour, wallet), `${info.behaviour} (${info.description})`);
  };
  const toggleScanner = async () => {
    const s = hardware.scanner as typeof hardware.scanner & { unplug?: () => void; replug?: () => void };
    if (scannerUp) {
      if (s.unplug) s.unplug();
      else {
        await s.close();
        s.emit('fault', { reason: 'unplugged (demo)', path: 'sim' });
      }
    } else if (s.replug) s.replug();
    else await s.open();
  };

  return new Promise<void>((done) => {
    const finish = () => {
      clearInterval(blink);
      for (const t of timers) clearTimeout(t);
      interaction.off('pattern', onPattern);
      interaction.off('approve', onApprove);
      interaction.off('payment', onPayment);
      hardware.display.off('screen', onScreen);
      interaction.off('state', onState);
      interaction.off('progress', onProgress);
      engine.off('transition', onTransition);
      hardware.scanner.off('fault', onFault);
      hardware.scanner.off('connected', onConnected);
      demo.vmc?.off('output', onMachine);
      io.input.off('data', onData);
      if (tty) {
        io.input.setRawMode?.(false);
        io.output.write('\n');
      }
      io.input.pause();
      done();
    };
    const key = (k: string) => {
      if (scanLine !== undefined) {
        if (k === '\r' || k === '\n') {
          const line = scanLine;
          scanLine = undefined;
          lastCode = line;
          say(scanNote(`a typed line (${line.length} characters)`));
          demo.scan(line);
        } else if (k === '\x1b') {
          scanLine = undefined;
          say('scanner line cancelled');
        } else if (k === '\x7f') scanLine = scanLine.slice(0, -1);
        else if (k >= ' ' && scanLine.length < 200) scanLine += k;
        return draw();
      }
      if (k === '\x03' || k === 'q') return finish();
      if (behaviourPrefix) {
        behaviourPrefix = false;
        if (k >= '1' && k <= '9') return showBehaviour(Number(k));
      }
      const atMachine = machine?.key(k);
      if (atMachine !== undefined) return say(atMachine);
      if (fixed && k >= '1' && k <= '9') return showBehaviour(Number(k));
      if (/^[0-9*#]$/.test(k)) return demo.press(k);
      const wallet = WALLET_KEYS[k];
      if (wallet) return scan(testCode('paid', wallet), `a paid ${wallet} code`);
      if (k === 'c') return void (behaviourPrefix = true);
      if (k === 'r') return lastCode ? scan(lastCode, 'the last code again') : say('nothing scanned yet');
      if (k === 'n') return demo.scan('\x00\x13noise' + Math.random().toString(36).slice(2));
      if (k === 's') {
        scanLine = '';
        return draw();
      }
      if (k === 'o') return void toggleScanner();
      if (k === 'j') {
        // The simulated drop sensor sees nothing after the next pulse: the vend fails and is refunded.
        // Only the simulated sensor has `misses`.
        // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
        const sensor = hardware.sensor as (typeof hardware.sensor & { misses?: number }) | null;
        if (!sensor || sensor.misses === undefined) return say('no simulated vend sensor (approve.confirm)');
        sensor.misses++;
        return say('the next vend will jam: the sensor will see no product');
      }
    };
    // Without a terminal (piped input), each line is a command: a key name or a scanner line.
    let pending = '';
    const onData = (chunk: Buffer | string) => {
      const text = chunk.toString();
      if (tty) {
        for (const k of text) key(k);
        return;
      }
      pending += text;
      let nl: number;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl).trim();
        pending = pending.slice(nl + 1);
        if (line === '') continue;
        if (line.length === 1) key(line);
        else {
          lastCode = line;
          demo.scan(line);
        }
      }
    };
    if (tty) {
      io.input.setRawMode?.(true);
      io.output.write(`${ESC}2J`);
    }
    io.input.on('data', onData);
    io.input.once('end', finish);
    io.input.resume();
    draw();
    if (!tty) io.output.write(`kiosk demo: no terminal; one command per line (w/a/u, ${machine ? '1-3 x z g j at the machine, * at the kiosk, c then 1-7' : '1-7'}, r, n, q, or a line to scan)\n`);
  });
}
