// (A little over 350 lines: one session's whole life, always-idle and session mode, in one place.)
// The vending machine's cashless port (MDB through the HAT, docs/mdb.md) as the kiosk uses it: the machine's
// selection becomes the customer's choice ("scan to pay ¥X for <item>", always-idle), only a verified payment is
// approved (`C,VEND` with the machine's own amount), the machine's report is the delivery evidence
// (`c,VEND,SUCCESS` delivered, `c,ERR,VEND` refunded). A declined or unclear payment, the customer's cancel, the
// approval window running out, or a second selection ends the selection with `C,STOP`; once it is ended the vend is
// never approved (a charge that arrives after it is refunded: releasable()). Session mode opens the machine's
// session with the paid credit (`C,START`) and approves only a selection at exactly that price.
// After a restart, recover() hands the engine the machine's next report about a vend whose approval was journaled.
import { EventEmitter } from 'node:events';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import type { Clock, TimerHandle } from '../clock.js';
import { amountToFen, fenToAmount, type MdbDevice, type MdbMessage } from '../hardware/mdb.js';
import type { MdbConfig } from '../config/types.js';
import type { DeliverEvidence, VendReport } from './ports.js';
import type { PaymentRecord } from './scan-pay.js';
import type { Choice } from './amount.js';
import { VendError } from './vend.js';
import { maskAuthCode } from '../umpay/authcode.js';

/** The interaction as this module needs it (interaction.ts). */
export interface OfferPort extends EventEmitter {
  offer(choice: Choice): string | null;
  withdraw(): void;
  mdbFault(reason: string | null): void;
  readonly state: { name: string };
}

/** The engine as this module needs it: the deny journaled on the order, and the orders as they are created. */
export interface DenyPort extends EventEmitter {
  vendDenied(orderNo: string, detail: string): void;
}

export interface MdbVendOptions {
  device: MdbDevice;
  config: Pick<MdbConfig, 'mode' | 'decimals' | 'approvalWindowMs' | 'vendResultMs' | 'products'>;
  /** payment.maxAmountFen: a selection priced above it is denied. */
  maxAmountFen: number;
  clock: Clock;
  log?: Logger;
}

type Phase = 'offered' | 'paying' | 'started' | 'approved';
interface Selection {
  phase: Phase;
  amountFen: number;
  /** The machine's amount text, as sent (approved as is); session mode: the credit given. */
  amount: string;
  productId: string;
  orderNo?: string;
  /** Set when the selection ended before an approval: the vend is never approved after it. */
  ended?: string;
  timer?: TimerHandle;
  waiting?: { resolve(v: 'vend-success'): void; reject(e: Error): void };
}

/** The last lines to and from the HAT, for `kiosk mdb status|watch` (payment codes never pass here). */
export interface MdbLine {
  at: string;
  dir: 'in' | 'out';
  line: string;
}

/** Events: 'selection' (the current selection for the technician, or null). */
export class MdbVend extends EventEmitter {
  private sel: Selection | null = null;
  private readonly log: Logger;
  private readonly lines: MdbLine[] = [];
  private hatStatus = 'unknown';
  private recovering: Array<(r: VendReport) => void> = [];
  /** A report that came with no selection open and no recovery waiting yet (a restart races the machine). */
  private unclaimed: { report: VendReport; at: number } | null = null;

  constructor(private readonly o: MdbVendOptions) {
    super();
    this.log = o.log ?? silentLogger;
    o.device.on('line', (l: { dir: 'in' | 'out'; line: string }) => {
      // Nothing on this line carries a payment code; a long digit run is masked all the same.
      this.lines.push({ at: new Date(o.clock.wall()).toISOString(), dir: l.dir, line: l.line.replace(/[0-9]{10,}/g, (m) => maskAuthCode(m)) });
      if (this.lines.length > 50) this.lines.shift();
    });
  }

  /** Connects the device's messages to the interaction and the engine. */
  attach(interaction: OfferPort, engine: DenyPort): void {
    const { device } = this.o;
    const guard = (what: string, f: () => void) => {
      try {
        f();
      } catch (err) {
        this.log.error({ event: 'handler-error', source: what, err }, `error in the MDB ${what} handler`);
      }
    };
    device.on('message', (m: MdbMessage) => guard('message', () => this.message(m, interaction)));
    device.on('fault', (f: { reason: string }) =>
      guard('fault', () => {
        this.hatStatus = 'not connected';
        interaction.mdbFault(`MDB HAT not connected: ${f.reason}`);
        this.endSelection('the HAT was disconnected', false, interaction);
      }),
    );
    device.on('connected', () => guard('connected', () => interaction.mdbFault(null)));
    if (!device.connected) interaction.mdbFault('MDB HAT not connected');
    interaction.on('cancel', () => guard('cancel', () => this.endSelection('the customer cancelled', true, interaction)));
    interaction.on('state', (st: { name: string; choice?: Choice }) =>
      guard('state', () => {
        if (st.name !== 'processing') return;
        if (this.sel?.phase === 'offered') this.sel.phase = 'paying';
        this.sessionFen = st.choice?.amountFen;
      }),
    );
    interaction.on('payment', (r: PaymentRecord) => guard('payment', () => this.paid(r, interaction)));
    engine.on('transition', (t: { orderNo: string; from: string | null; to: string }) => {
      if (t.from === null && this.sel && this.sel.phase === 'paying' && !this.sel.orderNo) this.sel.orderNo = t.orderNo;
    });
    this.deny = (detail: string) => {
      const s = this.sel;
      this.o.device.send('C,STOP');
      if (s?.orderNo) guard('deny', () => engine.vendDenied(s.orderNo!, detail));
    };
  }

  /** Sends C,STOP (and journals it on the selection's order, once attached). */
  private deny: (detail: string) => void = () => this.o.device.send('C,STOP');

  /** For `kiosk mdb status`: the HAT, the selection, the last lines. */
  status(): { connected: boolean; path: string; hat: string; mode: string; selection: { phase: Phase; productId: string; amountFen: number; ended?: string } | null; lines: MdbLine[] } {
    const s = this.sel;
    return {
      connected: this.o.device.connected,
      path: this.o.device.path,
      hat: this.hatStatus,
      mode: this.o.config.mode,
      selection: s ? { phase: s.phase, productId: s.productId, amountFen: s.amountFen, ...(s.ended ? { ended: s.ended } : {}) } : null,
      lines: [...this.lines],
    };
  }

  /** Why the product can no longer be released for the payment under way (the engine asks before releasing). */
  releasable(): string | null {
    const s = this.sel;
    if (this.o.config.mode === 'session') return null;
    if (!s) return 'the machine has no selection open';
    return s.ended ?? null;
  }

  /** The engine's deliver: approve the machine's vend and resolve on its report (VendError when it failed). */
  release(orderNo: string, evidence: DeliverEvidence): Promise<'vend-success'> {
    if (this.o.config.mode === 'session') return this.startSession(orderNo, evidence);
    const s = this.sel;
    if (!s || s.ended || s.phase !== 'paying') return Promise.reject(new VendError(`not approved: ${s?.ended ?? 'no selection open'}`, 'VEND_FAILED'));
    s.orderNo = orderNo;
    return this.approve(s, evidence);
  }

  /** After a restart: the machine's next report about an approval journaled before the interruption. */
  recover(orderNo: string): Promise<VendReport> {
    const u = this.unclaimed;
    this.unclaimed = null;
    if (u && this.o.clock.mono() - u.at < this.o.config.vendResultMs) return Promise.resolve(u.report);
    this.log.info({ event: 'mdb-recover', orderNo, waitMs: this.o.config.vendResultMs }, 'waiting for the machine to report the vend approved before the restart');
    return new Promise((resolve) => {
      const timer = this.o.clock.setTimeout(() => done('unknown'), this.o.config.vendResultMs);
      const done = (r: VendReport) => {
        this.o.clock.clearTimeout(timer);
        this.recovering = this.recovering.filter((f) => f !== done);
        this.log.info({ event: 'mdb-recovered', orderNo, report: r }, `the machine's report after the restart: ${r}`);
        resolve(r);
      };
      this.recovering.push(done);
    });
  }

  private approve(s: Selection, evidence: DeliverEvidence): Promise<'vend-success'> {
    return new Promise((resolve, reject) => {
      s.waiting = { resolve, reject };
      this.sendApproval(s, evidence, s.amount);
    });
  }

  /** C,VEND with the machine's amount; the vend is then over on the machine's report (vendOver). */
  private sendApproval(s: Selection, evidence: DeliverEvidence, amount: string): void {
    const line = `C,VEND,${amount}` as const;
    // Journaled before it is sent: a restart then waits for the machine's report instead of guessing.
    evidence.approving(line);
    this.clearTimer(s);
    s.phase = 'approved';
    s.timer = this.o.clock.setTimeout(() => this.vendOver(s, null), this.o.config.vendResultMs);
    if (!this.o.device.send(line)) this.vendOver(s, 'the HAT is not connected: the approval was not sent');
  }

  /** Session mode: the paid credit goes to the machine (C,START); its selection at that price is approved. */
  private startSession(orderNo: string, evidence: DeliverEvidence): Promise<'vend-success'> {
    const paidFen = this.sessionFen;
    const amount = paidFen === undefined ? null : fenToAmount(paidFen, this.o.config.decimals);
    if (amount === null) return Promise.reject(new VendError(`the paid amount cannot be written with ${this.o.config.decimals} decimal places`, 'VEND_FAILED'));
    evidence.approving(`C,START,${amount}`);
    const s: Selection = { phase: 'started', amountFen: paidFen!, amount, productId: '', orderNo };
    this.sel = s;
    return new Promise((resolve, reject) => {
      s.waiting = { resolve, reject };
      s.timer = this.o.clock.setTimeout(() => {
        this.deny('no selection within the approval window');
        this.vendOver(s, 'no selection on the machine within the approval window');
      }, this.o.config.approvalWindowMs);
      this.pendingEvidence = evidence;
      if (!this.o.device.send(`C,START,${amount}`)) this.vendOver(s, 'the HAT is not connected: the session was not opened');
    });
  }

  private pendingEvidence: DeliverEvidence | null = null;
  /** Session mode: the amount the customer is paying (the interaction's choice when the scan was sent). */
  private sessionFen: number | undefined;

  /** Ends the approved vend: null reason → timed out; resolves on success (report 'success'). */
  private vendOver(s: Selection, failure: string | null, report?: 'success'): void {
    if (this.sel !== s || !s.waiting) return;
    this.clearTimer(s);
    const w = s.waiting;
    s.waiting = undefined;
    this.sel = null;
    this.emit('selection', null);
    if (report === 'success') return w.resolve('vend-success');
    const why = failure ?? `the machine reported no vend within ${this.o.config.vendResultMs} ms`;
    this.log.warn({ event: 'mdb-vend-failed', orderNo: s.orderNo, reason: why }, `MDB vend not done: ${why}`);
    w.reject(new VendError(why, 'VEND_FAILED'));
  }

  private message(m: MdbMessage, interaction: OfferPort): void {
    const s = this.sel;
    switch (m.kind) {
      case 'garbage':
        this.log.warn({ event: 'mdb-garbage', line: m.line, reason: m.reason }, `MDB: line ignored (${m.reason})`);
        return;
      case 'other':
        return;
      case 'status':
        this.hatStatus = m.status;
        if (m.status === 'IDLE') this.report('unknown');
        if (s?.phase === 'approved' || s?.phase === 'started') return this.vendOver(s, `the machine ended the session (${m.status}) without reporting the vend`);
        if (s) this.endSelection(`the machine ended the selection (${m.status})`, false, interaction);
        return;
      case 'vend-success':
        if (s?.phase === 'approved') return this.vendOver(s, null, 'success');
        this.report('success');
        if (!this.recoveringNow) this.log.warn({ event: 'mdb-unexpected', line: 'c,VEND,SUCCESS' }, 'MDB: a vend reported with none approved');
        return;
      case 'vend-failure':
        if (s?.phase === 'approved') return this.vendOver(s, `the machine reported the vend failed (${m.detail})`);
        this.report('failed');
        return;
      case 'vend-request':
        this.report('unknown');
        return this.selection(m.amount, m.productId, interaction);
    }
  }

  private get recoveringNow(): boolean {
    return this.recovering.length > 0;
  }

  /** A report for a recovery waiting (or kept a while for one about to ask). */
  private report(r: VendReport): void {
    if (this.recovering.length) {
      for (const f of [...this.recovering]) f(r);
      return;
    }
    if (r !== 'unknown' || !this.unclaimed) this.unclaimed = { report: r, at: this.o.clock.mono() };
  }

  private selection(amount: string, productId: string, interaction: OfferPort): void {
    const s = this.sel;
    const { config } = this.o;
    if (config.mode === 'session') {
      if (s?.phase === 'started' && s.waiting) {
        const fen = amountToFen(amount, config.decimals);
        if (fen !== s.amountFen) {
          this.deny(`selection at ${amount}, paid ${s.amount}`);
          return this.vendOver(s, `the machine asked ${amount} for product ${productId}, the customer paid ${s.amount}: denied`);
        }
        s.productId = productId;
        this.sendApproval(s, this.pendingEvidence!, amount);
        return;
      }
      this.log.warn({ event: 'mdb-selection-refused', amount, productId }, 'MDB: selection without a paid session: denied');
      this.o.device.send('C,STOP');
      return;
    }
    if (s && s.phase !== 'offered') {
      // The machine started another selection while one is being paid or vended: the first is over (a charge for it
      // is refunded), and this one is refused.
      if (s.phase === 'approved') this.vendOver(s, `the machine started another selection (product ${productId}) without reporting the vend`);
      else this.endSelection(`the machine started another selection (product ${productId}) while this one was being paid`, false, interaction);
      this.log.warn({ event: 'mdb-selection-refused', amount, productId }, 'MDB: a second selection while one is being paid: denied');
      this.o.device.send('C,STOP');
      return;
    }
    if (s) this.clearTimer(s);
    const fen = amountToFen(amount, config.decimals);
    const refuse = (why: string) => {
      this.sel = null;
      this.log.warn({ event: 'mdb-selection-refused', amount, productId, reason: why }, `MDB: selection denied: ${why}`);
      this.o.device.send('C,STOP');
      interaction.withdraw();
    };
    if (fen === null || fen < 1) return refuse(`amount ${JSON.stringify(amount)} is not a price with ${config.decimals} decimal places`);
    if (fen > this.o.maxAmountFen) return refuse(`price ${amount} is over payment.maxAmountFen`);
    const name = config.products[productId];
    const choice: Choice = { amountFen: fen, productId, vendPrice: amount, name: name ?? `No.${productId}`, item: productId };
    const why = interaction.offer(choice);
    if (why) return refuse(why);
    const sel: Selection = { phase: 'offered', amountFen: fen, amount, productId };
    this.sel = sel;
    sel.timer = this.o.clock.setTimeout(() => this.endSelection(`no approval within ${config.approvalWindowMs} ms`, true, interaction), config.approvalWindowMs);
    this.log.info({ event: 'mdb-selection', productId, amount, amountFen: fen }, `MDB: product ${productId} selected at ${amount}`);
    this.emit('selection', this.status().selection);
  }

  /** Ends the selection before an approval; `deny`: the kiosk ends it (C,STOP), else the machine already did. */
  private endSelection(why: string, deny: boolean, interaction: OfferPort): void {
    const s = this.sel;
    if (!s || s.ended) return;
    if (s.phase === 'approved' || s.phase === 'started') {
      if (!deny) this.vendOver(s, why);
      return;
    }
    this.clearTimer(s);
    s.ended = why;
    this.log.info({ event: 'mdb-selection-ended', productId: s.productId, phase: s.phase, reason: why, deny }, `MDB: selection ended: ${why}`);
    if (deny) this.deny(why);
    if (s.phase === 'offered') {
      this.sel = null;
      interaction.withdraw();
    }
    this.emit('selection', this.status().selection);
  }

  /** The payment of a selection is over: approved (the vend was reported) or not (the selection is denied). */
  private paid(r: PaymentRecord, interaction: OfferPort): void {
    const s = this.sel;
    if (this.o.config.mode === 'session') return;
    if (!s || s.phase !== 'paying') return;
    const orderNo = 'orderNo' in r.result ? r.result.orderNo : undefined;
    s.orderNo ??= orderNo;
    if (r.result.kind !== 'approved') this.endSelection(`payment ${r.result.kind}`, true, interaction);
    this.sel = null;
    this.emit('selection', null);
  }

  private clearTimer(s: Selection): void {
    if (s.timer !== undefined) this.o.clock.clearTimeout(s.timer);
    s.timer = undefined;
  }
}
