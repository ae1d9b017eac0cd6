// The payment state machine as data, its one definition: every state, every allowed transition with the kinds of
// cause that may take it, what a state may record without leaving it (notes), and the sub-states that decide what a
// state does next. The journal refuses anything not here (JournalError ILLEGAL_TRANSITION) and any step whose `from`
// is not the order's state (STALE_STATE). docs/payments.md's diagram and tables are generated from this module
// (npm run docs) and test/journal/states.test.ts visits every edge.

export const ORDER_STATES = [
  'created',
  'unknown',
  'paid',
  'delivering',
  'delivered',
  'failed',
  'failed-not-sent',
  'reversing',
  'reversed',
  'refunding',
  'refunded',
  'attention',
] as const;
export type OrderState = (typeof ORDER_STATES)[number];
export const FINAL_STATES: ReadonlySet<OrderState> = new Set(['delivered', 'failed', 'failed-not-sent', 'reversed', 'refunded']);
export const isFinal = (s: string): boolean => FINAL_STATES.has(s as OrderState);

/** What each state means, for people (docs/payments.md's state table is generated from it). */
export const STATE_MEANING: Readonly<Record<OrderState, string>> = {
  created:
    'journaled; the request may be on the wire (there is no separate `sent` write: it would cost one more fsync per payment and tell recovery nothing new, as a crash just before and just after it look alike)',
  unknown: 'the answer was unclear; queried every `queryIntervalMs` (3 s) while the customer waits (`customerWindowMs`, 60 s)',
  paid: 'verified `00`, product not yet released',
  delivering: 'the vend pulse is about to happen / happening (journaled before the pulse)',
  delivered: 'paid, product released',
  failed: 'the platform said not paid (its code is kept)',
  'failed-not-sent':
    "every send provably never left (connection refused, DNS, no route, connect timeout) until the code's validity (`codeValidityMs`, 45 s) ran out: nothing to reverse",
  reversing: 'cancelOrder (WeChat/Alipay, same day) or closeOrder (otherwise) being retried with backoff; after a refused or unclear answer the order is queried (paid: refunded; closed, cancelled, refunded or failed there: final); which one is the `reversal` sub-state',
  reversed: 'cancelled or closed at the platform: not charged',
  refunding: 'refund sent (same refund serial on every retry), followed with refundQuery; sent or accepted is the `refundAccepted` sub-state',
  refunded: 'money returned',
  attention: 'not finished after a bounded effort (8 attempts): logged as an error, listed, retried every 5 min, never dropped; it resumes the work of `resumeState`',
};

/** Why an order moves or records something: journaled with every event (column `kind`), checked against the table. */
export const CAUSE_KINDS = {
  scan: 'the code was scanned: the order is journaled before anything is sent',
  answer: "a gateway answer decided it (the event's `call` says which call)",
  threw: "a gateway call threw instead of answering (read as \"may have been sent\"); the event's `call` says which",
  'rate-limited': 'micropay answered 37 (too frequent): nothing taken, the same order is sent again',
  'not-sent': 'a micropay send provably never left; to failed-not-sent when every send never left and the code ran out',
  resend: 'a micropay re-send, counted before it starts (write-ahead)',
  'code-expired': "the code's validity is over: no late copy of the request can charge anyone any more",
  'window-over': 'the customer window ended without a verdict',
  release: 'paid while the customer is there: the vend pulse is next',
  released: 'the vend pulse is done',
  'vend-sensed': 'the vend sensor saw the product drop',
  'vend-failed': 'the vend relay failed, the sensor saw no product, or the machine reported the vend failed (MDB `c,ERR,VEND`) or did not report it: no product assumed',
  'vend-approved': 'MDB: the approval (`C,VEND`, or `C,START` in session mode) is sent to the machine next (journaled first: a restart then waits for the machine\'s report)',
  'vend-success': 'MDB: the machine reported the vend done (`c,VEND,SUCCESS`): the delivery evidence',
  'vend-denied': 'MDB: the kiosk denied the selection or ended the machine\'s session (`C,STOP`)',
  'session-ended': 'MDB: paid after the kiosk denied the vend or the machine ended the session: nothing can be released, the money goes back',
  recovery: 'background work for an order whose customer has gone (found at start, or left unfinished)',
  'effort-spent': 'not finished after the bounded effort',
  settlement: "the day's settlement file disagrees with the order, or a person acknowledged that",
} as const;
export type CauseKind = keyof typeof CAUSE_KINDS;
export const CAUSE_KIND_NAMES = Object.keys(CAUSE_KINDS) as CauseKind[];

export interface Edge {
  /** null: the order's creation. */
  from: OrderState | null;
  to: OrderState;
  kinds: readonly CauseKind[];
  /** For the diagram. */
  label: string;
}

/** The states whose work is retried with backoff and can run out of effort (→ attention, which resumes them). */
export const RETRIED: readonly OrderState[] = ['reversing', 'refunding'];

const BASE: readonly Edge[] = [
  { from: null, to: 'created', kinds: ['scan'], label: 'code scanned, order journaled (before sending)' },
  { from: 'created', to: 'paid', kinds: ['answer'], label: 'verified 00' },
  { from: 'created', to: 'failed', kinds: ['answer'], label: 'platform: not paid (15, 16, 20…)' },
  { from: 'created', to: 'unknown', kinds: ['answer', 'threw', 'code-expired'], label: 'unclear answer / timeout / bad signature / call threw / 37 until the code ran out' },
  { from: 'created', to: 'failed-not-sent', kinds: ['not-sent', 'recovery'], label: 'every send provably never left' },
  { from: 'created', to: 'reversing', kinds: ['recovery'], label: 'found at recovery: may have been sent' },
  { from: 'unknown', to: 'paid', kinds: ['answer'], label: 'query: paid' },
  { from: 'unknown', to: 'failed', kinds: ['answer'], label: 'query: failed / closed' },
  { from: 'unknown', to: 'refunded', kinds: ['answer'], label: 'query: refunded' },
  { from: 'unknown', to: 'reversing', kinds: ['window-over', 'recovery'], label: 'window over / found at recovery (no such order: close first)' },
  { from: 'paid', to: 'delivering', kinds: ['release'], label: 'journaled before the vend pulse' },
  { from: 'paid', to: 'refunding', kinds: ['recovery', 'session-ended'], label: 'paid after the customer left (or at recovery), or after the machine\'s session ended' },
  { from: 'paid', to: 'reversing', kinds: ['recovery', 'session-ended'], label: 'same, same-day WeChat/Alipay: cancelOrder' },
  { from: 'delivering', to: 'delivered', kinds: ['released', 'vend-sensed', 'vend-success'], label: 'pulse done / drop sensed before an interruption / the machine reported the vend' },
  { from: 'delivering', to: 'refunding', kinds: ['vend-failed', 'recovery'], label: 'relay failed, no drop, machine: vend failed / found at recovery (flagged)' },
  { from: 'delivering', to: 'reversing', kinds: ['vend-failed', 'recovery'], label: 'same, same-day WeChat/Alipay: cancelOrder' },
  { from: 'reversing', to: 'reversed', kinds: ['answer', 'code-expired'], label: 'cancel/close 00 / no such order after the code ran out' },
  { from: 'reversing', to: 'refunding', kinds: ['answer'], label: 'reversal refused or unclear, query says paid' },
  { from: 'reversing', to: 'failed', kinds: ['answer'], label: 'query: failed' },
  { from: 'reversing', to: 'refunded', kinds: ['answer'], label: 'query: refunded' },
  { from: 'refunding', to: 'refunded', kinds: ['answer'], label: 'refundQuery: refunded' },
  { from: 'refunding', to: 'reversed', kinds: ['answer'], label: 'refund refused, query: cancelled / closed' },
];

/** Edges into attention from each retried state, and out of it: it may take any transition out of a retried state. */
function attentionEdges(): Edge[] {
  const out = new Map<OrderState, Set<CauseKind>>();
  for (const e of BASE) {
    if (!e.from || !RETRIED.includes(e.from)) continue;
    let kinds = out.get(e.to);
    if (!kinds) out.set(e.to, (kinds = new Set()));
    for (const k of e.kinds) kinds.add(k);
  }
  return [
    ...RETRIED.map((from): Edge => ({ from, to: 'attention', kinds: ['effort-spent'], label: 'bounded effort spent' })),
    ...[...out].map(([to, kinds]): Edge => ({ from: 'attention', to, kinds: [...kinds], label: 'work resumed' })),
  ];
}

/** Every allowed transition. */
export const TRANSITIONS: readonly Edge[] = [...BASE, ...attentionEdges()];

const settlement: CauseKind = 'settlement';
const RETRIED_NOTES: readonly CauseKind[] = ['answer'];
// The kiosk's C,STOP is recorded on the order it ends, whatever its state (a charge that arrives after it is refunded).
const denied: CauseKind = 'vend-denied';
/**
 * What a state may record without leaving it (Journal.note), by cause kind. Settlement findings (and their
 * acknowledgement) and the kiosk's MDB deny (`C,STOP`) may be recorded on an order in any state, final ones included.
 */
export const NOTES: Readonly<Record<OrderState, readonly CauseKind[]>> = {
  created: ['rate-limited', 'not-sent', 'resend', settlement, denied],
  unknown: ['answer', settlement, denied],
  paid: [settlement, denied],
  delivering: ['vend-sensed', 'vend-approved', settlement, denied],
  delivered: [settlement, denied],
  failed: [settlement, denied],
  'failed-not-sent': [settlement, denied],
  reversing: [...RETRIED_NOTES, settlement, denied],
  reversed: [settlement, denied],
  refunding: [...RETRIED_NOTES, settlement, denied],
  refunded: [settlement, denied],
  attention: [...RETRIED_NOTES, settlement, denied],
};

const INDEX = new Map<string, ReadonlySet<CauseKind>>(TRANSITIONS.map((e) => [`${e.from ?? ''}>${e.to}`, new Set(e.kinds)]));

/** Whether `from → to` (or a note, from === to) is in the table for a cause of this kind. */
export function allowed(from: OrderState | null, to: OrderState, kind: CauseKind): boolean {
  if (from === to) return NOTES[from].includes(kind);
  return INDEX.get(`${from ?? ''}>${to}`)?.has(kind) ?? false;
}

/**
 * Sub-states: a field that decides what a state does next, and how it may change while the order stays in that
 * state (or in `attention` resuming it). Entering the state sets it to any of `values`; outside it, it is not set.
 */
export const SUB_STATES = {
  reversal: { state: 'reversing', values: ['cancelOrder', 'closeOrder'], changes: [['cancelOrder', 'closeOrder']], meaning: 'which reversal: cancelOrder (same day, WeChat/Alipay) or closeOrder; a cancel refused for an order the platform does not have, or still paying, becomes a close' },
  // refund sent (not known to have arrived) → accepted (the platform has it: confirm with refundQuery);
  // → not accepted again only with a new refund serial (the platform said that refund failed, or the serial was
  // another's).
  refundAccepted: { state: 'refunding', values: [false, true], changes: [[false, true], [true, false], [false, false]], meaning: 'false: refund sent (re-sent with the same serial until the platform has it); true: accepted, followed with refundQuery; back to false only with a new refund serial' },
} as const satisfies Record<string, { state: OrderState; values: readonly unknown[]; changes: readonly (readonly [unknown, unknown])[]; meaning: string }>;
export type SubStateField = keyof typeof SUB_STATES;

/** The state whose work an order does: its own, or for `attention` the one it resumes. */
export function phaseOf(state: OrderState, resumeState: OrderState | null): OrderState {
  return state === 'attention' ? (resumeState ?? 'reversing') : state;
}

/**
 * Why a change of sub-state (or of `resumeState`) is not allowed, or null. `before` is the order as read, `to` the
 * state it goes to, `patch` the fields written with it.
 */
export function subStateProblem(
  before: { state: OrderState; resumeState: OrderState | null; reversal: string | null; refundAccepted: boolean },
  to: OrderState,
  patch: { reversal?: unknown; refundAccepted?: unknown; resumeState?: unknown },
): string | null {
  if (patch.resumeState !== undefined) {
    // Only the step into attention says which work it resumes: the state it came from.
    if (to !== 'attention' || before.state === 'attention') return `resumeState is set only on entering attention (here ${before.state} → ${to})`;
    if (patch.resumeState !== before.state) return `resumeState ${JSON.stringify(patch.resumeState)} is not the state attention was entered from (${before.state})`;
  }
  const was = phaseOf(before.state, before.resumeState);
  // Staying in attention: the work it resumes is the order's (phaseOf reads a resumeState never set as a reversal, as
  // the engine does); entering it: the state it comes from. (Read only when `to` is attention.)
  const resumes = before.state === 'attention' ? before.resumeState : ((patch.resumeState as OrderState | undefined) ?? before.resumeState ?? before.state);
  const will = phaseOf(to, resumes);
  for (const field of Object.keys(SUB_STATES) as SubStateField[]) {
    const next = patch[field];
    if (next === undefined) continue;
    const spec = SUB_STATES[field];
    const old = before[field];
    const what = `${field} ${JSON.stringify(old)} → ${JSON.stringify(next)}`;
    if (will !== spec.state) return `${what} outside ${spec.state} (the order goes to ${to})`;
    if (!(spec.values as readonly unknown[]).includes(next)) return `${what}: not one of ${spec.values.join(', ')}`;
    // Entering the state (or a value never set, as by an older release) sets any value.
    const entering = was !== spec.state || old === null;
    if (!entering && !(spec.changes as readonly (readonly [unknown, unknown])[]).some(([a, b]) => a === old && b === next)) return `${what} is not a change ${spec.state} allows`;
  }
  return null;
}

/** The first cause kind the table allows for `from → to` (a note when equal); throws when it allows none. */
export function kindOf(from: OrderState, to: OrderState): CauseKind {
  const kind = from === to ? NOTES[from][0] : TRANSITIONS.find((e) => e.from === from && e.to === to)?.kinds[0];
  if (!kind) throw new Error(`${from} → ${to} is not in the transition table`);
  return kind;
}

/** The shortest route through the table (or `edges`) from `created` to `state` (seeding tests and benches legally). */
export function pathTo(state: OrderState, edges: readonly Edge[] = TRANSITIONS): Array<{ from: OrderState; to: OrderState; kind: CauseKind }> {
  const prev = new Map<OrderState, Edge>();
  const queue: OrderState[] = ['created'];
  const seen = new Set<OrderState>(queue);
  while (queue.length) {
    const s = queue.shift()!;
    // Stryker disable next-line ConditionalExpression: routes are fixed when first reached; searching on changes none
    if (s === state) break;
    for (const e of edges) {
      if (e.from !== s || seen.has(e.to)) continue;
      seen.add(e.to);
      prev.set(e.to, e);
      queue.push(e.to);
    }
  }
  if (state !== 'created' && !prev.has(state)) throw new Error(`no route to ${state} in the transition table`);
  const path: Array<{ from: OrderState; to: OrderState; kind: CauseKind }> = [];
  for (let s = state; s !== 'created'; ) {
    const e = prev.get(s)!;
    path.unshift({ from: e.from!, to: s, kind: e.kinds[0]! });
    s = e.from!;
  }
  return path;
}

/** The Mermaid state diagram of the table. */
export function stateDiagram(): string {
  const id = (s: OrderState | null): string => (s === null ? '[*]' : s.replace(/-/g, '_'));
  const lines = ['stateDiagram-v2'];
  for (const e of TRANSITIONS) lines.push(`    ${id(e.from)} --> ${id(e.to)}: ${e.label} (${e.kinds.join(', ')})`);
  for (const s of ORDER_STATES) if (FINAL_STATES.has(s)) lines.push(`    ${id(s)} --> [*]`);
  return lines.join('\n');
}

/** docs/payments.md's generated part: the diagram, the states, what they record, the sub-states and the cause kinds. */
export function statesReference(): string {
  const code = (s: string): string => `\`${s}\``;
  return [
    '```mermaid',
    stateDiagram(),
    '```',
    '',
    '| state | meaning | final | records without leaving it |',
    '|---|---|---|---|',
    ...ORDER_STATES.map((s) => `| ${code(s)} | ${STATE_MEANING[s]} | ${FINAL_STATES.has(s) ? 'yes' : 'no'} | ${NOTES[s].map(code).join(', ')} |`),
    '',
    '| sub-state | of state | values | changes while in it | meaning |',
    '|---|---|---|---|---|',
    ...(Object.keys(SUB_STATES) as SubStateField[]).map((f) => {
      const s = SUB_STATES[f];
      return `| ${code(f)} | ${code(s.state)} | ${s.values.map((v) => code(String(v))).join(', ')} | ${s.changes.map(([a, b]) => `${String(a)} → ${String(b)}`).join(', ')} | ${s.meaning} |`;
    }),
    '',
    '| cause kind | meaning |',
    '|---|---|',
    ...CAUSE_KIND_NAMES.map((k) => `| ${code(k)} | ${CAUSE_KINDS[k]} |`),
    '',
  ].join('\n');
}
