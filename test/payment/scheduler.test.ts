// The engine's call scheduler (src/payment/scheduler.ts) on a fake clock: the counts `kiosk status` shows, a
// gateway that throws read as "may have been sent", background calls gated (FIFO, abortable), paced, and paused for
// everyone after a 37 with a penalty that doubles and halves; backoff and jitter as documented.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { Halted } from '../../src/clock.js';
import { DEFAULT_TIMING, type Timing } from '../../src/payment/types.js';
import { Scheduler } from '../../src/payment/scheduler.js';
import type { CallResult } from '../../src/umpay/types.js';
import { FakeClock } from '../fake-clock.js';
import { logCapture } from './fakes.js';

const answered = (kind = 'DONE', extra: object = {}): CallResult<'closeOrder'> =>
  ({ call: 'closeOrder', outcome: { kind, ...extra }, request: {}, plaintext: '', delivery: 'answered', elapsedMs: 1 }) as CallResult<'closeOrder'>;
const limited = (): CallResult<'closeOrder'> => answered('UNKNOWN', { cause: '37 too frequent', rateLimited: true });

describe('payment call scheduler (fake clock)', () => {
  let clock: FakeClock;
  let halt: AbortController;
  let random: number;
  const make = (t: Partial<Timing> = {}, log = logCapture().log): Scheduler => new Scheduler(clock, { ...DEFAULT_TIMING, ...t }, log, () => random, halt.signal);
  /** Background calls one after the other (pause 1 s to 60 s), each answered as told; `at` is when each started. */
  const oneByOne = (): { at: number[]; next: (answer: () => CallResult<'closeOrder'>) => Promise<unknown> } => {
    const s = make({ minRequestIntervalMs: 0, backoffBaseMs: 1_000, backoffMaxMs: 60_000 });
    const at: number[] = [];
    return { at, next: (answer) => clock.run(s.backgroundCall('closeOrder', async () => (at.push(clock.mono()), answer()))) };
  };

  beforeEach(() => {
    clock = new FakeClock();
    halt = new AbortController();
    random = 0.5;
  });

  it('counts every call, the calls in flight and the most at once (kiosk status)', async () => {
    const s = make();
    const release: Array<() => void> = [];
    const slow = (): Promise<CallResult<'closeOrder'>> => new Promise((r) => release.push(() => r(answered())));
    const a = s.call('closeOrder', slow);
    const b = s.call('closeOrder', slow);
    assert.deepEqual(s.stats, { requests: 2, inFlight: 2, maxInFlight: 2, rateLimited: 0 });
    release.shift()!();
    await a;
    assert.deepEqual(s.stats, { requests: 2, inFlight: 1, maxInFlight: 2, rateLimited: 0 });
    release.shift()!();
    await b;
    await s.call('closeOrder', async () => answered());
    assert.deepEqual(s.stats, { requests: 3, inFlight: 0, maxInFlight: 2, rateLimited: 0 });
  });

  it('a gateway that throws is read as "may have been sent", journaled as that call, and logged', async () => {
    const cap = logCapture();
    const s = make({}, cap.log);
    const r = await s.call('refund', async () => {
      throw new Error('bug in the client');
    });
    assert.deepEqual(r, { call: 'refund', outcome: { kind: 'UNKNOWN', cause: 'gateway threw: bug in the client' }, request: {}, plaintext: '', delivery: 'maybe-sent', cause: 'gateway threw: bug in the client', elapsedMs: 0, threw: true });
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a gateway bug may throw anything
    const thrown = await s.call('refund', () => Promise.reject('a string'));
    assert.equal(thrown.cause, 'gateway threw: a string');
    const line = cap.lines.find((l) => l.event === 'gateway-threw')!;
    assert.equal(line.call, 'refund');
    assert.equal(line.msg, 'refund: gateway threw: bug in the client');
    assert.equal(s.stats.inFlight, 0);
  });

  it('background calls: at most `concurrency` at once, the others in arrival order; a stop releases the waiting ones', async () => {
    const s = make({ concurrency: 2, minRequestIntervalMs: 0 });
    const started: number[] = [];
    const release: Array<() => void> = [];
    const call = (i: number): Promise<unknown> =>
      s.backgroundCall('closeOrder', () => {
        started.push(i);
        return new Promise((r) => release.push(() => r(answered())));
      });
    const calls = [1, 2, 3, 4, 5].map(call);
    await clock.advance(0);
    assert.deepEqual(started, [1, 2]);
    release.shift()!();
    await clock.advance(0);
    assert.deepEqual(started, [1, 2, 3]);
    release.shift()!();
    await clock.advance(0);
    assert.deepEqual(started, [1, 2, 3, 4]);
    halt.abort();
    await assert.rejects(calls[4]!, Halted);
    await assert.rejects(s.backgroundCall('closeOrder', async () => answered()), Halted);
    while (release.length) release.shift()!();
    await Promise.all(calls.slice(0, 4));
    assert.deepEqual(started, [1, 2, 3, 4], 'a call released by a stop is never started');
  });

  it('concurrency 0 still lets one background call through at a time', async () => {
    const s = make({ concurrency: 0, minRequestIntervalMs: 0 });
    let n = 0;
    await clock.run(Promise.all([1, 2].map(() => s.backgroundCall('closeOrder', async () => (n++, answered())))));
    assert.equal(n, 2);
  });

  it('background calls start at least minRequestIntervalMs apart; the customer path is never paced', async () => {
    const s = make({ minRequestIntervalMs: 50, concurrency: 4 });
    const at: number[] = [];
    const calls = [1, 2, 3].map(() => s.backgroundCall('closeOrder', async () => (at.push(clock.mono()), answered())));
    await clock.run(Promise.all(calls));
    assert.deepEqual(at, [0, 50, 100]);
    await s.call('queryOrder', async () => (at.push(clock.mono()), answered() as unknown as CallResult<'queryOrder'>));
    assert.equal(at[3], 100, 'not paced');
  });

  it('a 37 pauses every background call: the pause doubles per 37 from backoffBaseMs up to backoffMaxMs, and halves per answer', async () => {
    const s = make({ minRequestIntervalMs: 0, backoffBaseMs: 1_000, backoffMaxMs: 3_000 });
    const at: number[] = [];
    const next = (answer: () => CallResult<'closeOrder'>): Promise<unknown> => clock.run(s.backgroundCall('closeOrder', async () => (at.push(clock.mono()), answer())));
    await next(limited); // t=0: pause 1 s
    await next(limited); // t=1000: pause 2 s
    await next(limited); // t=3000: pause 3 s (capped, not 4)
    await next(answered); // t=6000: the pause halves to 1.5 s
    await next(limited); // t=6000: pause 3 s (doubled from 1.5)
    await next(answered); // t=9000
    assert.deepEqual(at, [0, 1_000, 3_000, 6_000, 6_000, 9_000]);
    assert.equal(s.stats.rateLimited, 4);
    // A customer call answered 37 pauses the background work too.
    await s.call('closeOrder', async () => limited());
    await next(answered);
    assert.equal(at.at(-1), 9_000 + 3_000, 'paused 3 s (doubled from 1.5 s)');
  });

  it('a call that was not answered neither pauses nor relieves the pause', async () => {
    const { at, next } = oneByOne();
    const notSent = (): CallResult<'closeOrder'> => ({ ...answered('UNKNOWN', { cause: 'ECONNREFUSED' }), delivery: 'not-sent' });
    await next(limited); // pause 1 s
    await next(limited); // t=1000, pause 2 s
    await next(notSent); // t=3000: the penalty stays 2 s
    await next(limited); // t=3000: pause 4 s
    await next(answered); // t=7000
    assert.deepEqual(at, [0, 1_000, 3_000, 3_000, 7_000]);
  });

  it('an answer halves the pause (below the cap): the next 37 doubles from the halved pause', async () => {
    const { at, next } = oneByOne();
    await next(limited); // t=0: pause 1 s
    await next(limited); // t=1000: pause 2 s
    await next(answered); // t=3000: the penalty halves to 1 s
    await next(limited); // t=3000: pause 2 s (doubled from 1 s, not 4 s)
    await next(answered); // t=5000
    assert.deepEqual(at, [0, 1_000, 3_000, 3_000, 5_000]);
  });

  it('a gateway that throws null or undefined is "may have been sent" in words, not a crash', async () => {
    const s = make();
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- a gateway bug may throw anything
    const r = await s.call('refund', () => Promise.reject(null));
    assert.deepEqual([r.delivery, r.cause, r.threw], ['maybe-sent', 'gateway threw: null', true]);
  });

  it('a background call that waited for the gate leaves nothing on the stop signal (a kiosk runs for months)', async () => {
    const s = make({ concurrency: 1, minRequestIntervalMs: 0 });
    await clock.run(Promise.all([1, 2, 3].map(() => s.backgroundCall('closeOrder', async () => answered()))));
    assert.equal(getEventListeners(halt.signal, 'abort').length, 0);
  });

  it('backoff is base·2^(n-1) capped at max, with ±50 % jitter', () => {
    const s = make();
    random = 0.5;
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 8].map((n) => s.backoff(n, 1_000, 60_000)), [1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000]);
    assert.equal(s.backoff(1_000, 1, Number.MAX_SAFE_INTEGER), 2 ** 30, 'the exponent stops at 30');
    random = 0;
    assert.equal(s.backoff(3, 1_000, 60_000), 2_000);
    assert.equal(s.jitter(1_001), 501);
    random = 0.999;
    assert.equal(s.backoff(3, 1_000, 60_000), 5_996);
  });
});
