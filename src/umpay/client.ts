// The HTTP gateway to the platform (node-fetch, keep-alive). It never throws for a bad answer or a transport
// error: it returns UNKNOWN with the cause, and says whether the request can have reached the platform. The
// settlement file's download is settle-download.ts.
import http from 'node:http';
import https from 'node:https';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { createSecureContext } from 'node:tls';
import type { KeyObject } from 'node:crypto';
import fetch from 'node-fetch';
import type { Logger } from '../log.js';
import type { WireValue } from './canonical.js';
import { parseWireJson } from './json.js';
import { signRequest, verifyResponse } from './signature.js';
import { buildRequest, PATHS, type FieldsByCall } from './messages.js';
import { downloadSettleFile, type SettleDownload, type SettleDownloadOptions } from './settle-download.js';
import { classify, type Exchange } from './outcome.js';
import { ConnectionWarmer, type WarmMode } from './warm.js';
import type { Clock } from '../clock.js';
import { wireText } from './canonical.js';
import type { TimeEvidence } from './platform-clock.js';
import type { CallName, CallResult, Delivery, Gateway, Merchant, MicropayFields, QueryOrderFields, CancelOrderFields, CloseOrderFields, RefundFields, RefundQueryFields } from './types.js';

export type { SettleDownload, SettleDownloadOptions } from './settle-download.js';

export interface HttpGatewayOptions {
  /** e.g. http://111.205.18.100:8011/entry-provider-plat-client (no trailing slash needed). */
  baseUrl: string;
  merchant: Merchant;
  privateKey: KeyObject;
  platformKey: KeyObject;
  /** Until the TCP (and TLS) connection is up. Past it the request provably never left. */
  connectTimeoutMs: number;
  /** The whole call, connect to last byte of the answer. */
  timeoutMs: number;
  maxAnswerBytes?: number;
  log?: Logger;
  /** https: the CA certificate(s) (PEM) the gateway's certificate must chain to, instead of the system's list. */
  ca?: string | Buffer;
  /** The connection warm-up (warm.ts): 'keep' one open while idle, 'customer' (default) on warm() only, 'off'. */
  warm?: WarmMode;
  /** keep: at most one reopen per this long. Default KEEP_WARM_MIN_MS. */
  warmMinIntervalMs?: number;
  /** The warm-up's timers (tests: a fake clock). */
  timers?: Clock;
  /** Told the platform's time as each signed answer shows it (its HTTP Date header, platDate): platform-clock.ts. */
  timeEvidence?: (e: TimeEvidence) => void;
}

/** keep: a gateway that closes idle connections sooner still sees at most one connect a minute (1,440 a day). */
export const KEEP_WARM_MIN_MS = 60_000;

/** One signed POST and what came back, before classification. */
export interface PostedCall {
  request: Record<string, string>;
  plaintext: string;
  signature: string;
  delivery: Delivery;
  exchange: Exchange;
  httpStatus?: number;
  raw?: string;
  /** Transport or size problem, when there is one. */
  cause?: string;
  elapsedMs: number;
  /** The answer's HTTP Date header. */
  date?: string;
}

class AnswerTooLarge extends Error {}

interface Track {
  connected: boolean;
  connectTimedOut: boolean;
}

export class HttpGateway implements Gateway {
  private readonly base: string;
  private readonly agent: http.Agent;
  private readonly maxAnswerBytes: number;
  /** Keeps a connection ready for the next customer's request (warm.ts). */
  readonly warmer: ConnectionWarmer;

  constructor(private readonly options: HttpGatewayOptions) {
    const url = new URL(options.baseUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`baseUrl ${options.baseUrl}: must be http:// or https://`);
    this.base = options.baseUrl.replace(/\/+$/, '');
    const agentOptions = { keepAlive: true, keepAliveMsecs: 1000, maxSockets: 4, maxFreeSockets: 1, scheduling: 'lifo' as const };
    const secure = url.protocol === 'https:';
    // One TLS context for every connection: built per connection it costs a millisecond and more on the event
    // loop (the CA parsed again), in the customer's scan handler for a warm-up.
    const tlsContext = secure ? { secureContext: createSecureContext(options.ca ? { ca: options.ca } : {}) } : {};
    this.agent = secure ? new https.Agent({ ...agentOptions, ...tlsContext }) : new http.Agent(agentOptions);
    const port = Number(url.port || (secure ? 443 : 80));
    // Stryker disable next-line Regex: a hostname has brackets only around an IPv6 address: the anchors change nothing
    const host = url.hostname.replace(/^\[|\]$/g, '');
    this.warmer = new ConnectionWarmer(this.agent, {
      mode: options.warm ?? 'customer',
      minIntervalMs: options.warmMinIntervalMs ?? KEEP_WARM_MIN_MS,
      connectTimeoutMs: options.connectTimeoutMs,
      connect: { protocol: url.protocol, host, port, ...(secure && !isIP(host) ? { servername: host } : {}), ...tlsContext },
      timers: options.timers,
    });
    this.maxAnswerBytes = options.maxAnswerBytes ?? 65536;
  }

  /** Closes kept-alive sockets (on shutdown). */
  close(): void {
    this.warmer.stop();
    this.agent.destroy();
  }

  /**
   * A customer has started (a key press, a scan): the connection the payment will use is opened now, beside the
   * journal commit instead of after it. A connection only, never a request (warm.ts).
   */
  warm(): void {
    this.warmer.warm();
  }

  micropay(fields: MicropayFields): Promise<CallResult<'micropay'>> {
    return this.call('micropay', fields);
  }
  queryOrder(fields: QueryOrderFields): Promise<CallResult<'queryOrder'>> {
    return this.call('queryOrder', fields);
  }
  cancelOrder(fields: CancelOrderFields): Promise<CallResult<'cancelOrder'>> {
    return this.call('cancelOrder', fields);
  }
  closeOrder(fields: CloseOrderFields): Promise<CallResult<'closeOrder'>> {
    return this.call('closeOrder', fields);
  }
  refund(fields: RefundFields): Promise<CallResult<'refund'>> {
    return this.call('refund', fields);
  }
  refundQuery(fields: RefundQueryFields): Promise<CallResult<'refundQuery'>> {
    return this.call('refundQuery', fields);
  }

  /**
   * Validates (throws FieldError before anything is sent), signs, posts and classifies one call.
   * Never throws for the network or the answer.
   */
  async call<C extends CallName>(call: C, fields: FieldsByCall[C]): Promise<CallResult<C>> {
    const wire = buildRequest(call, this.options.merchant, fields);
    const posted = await this.postSigned(PATHS[call], wire);
    // What the answer must be about: only micropay and queryOrder answers are compared with it (outcome.ts).
    const expect =
      // Stryker disable next-line ConditionalExpression: equivalent (true): queryOrder has no txnAmt, others ignore it
      call === 'micropay'
        ? { orderNo: wire.orderNo, txnAmt: wire.txnAmt }
        : // Stryker disable next-line ConditionalExpression: equivalent, the other calls' decisions take no expectation
          call === 'queryOrder'
          ? { orderNo: wire.orderNo }
          : undefined;
    const c = classify(call, posted.exchange, (a) => verifyResponse(a, this.options.platformKey), expect);
    const result: CallResult<C> = {
      call,
      outcome: c.outcome,
      request: posted.request,
      plaintext: posted.plaintext,
      delivery: posted.delivery,
      elapsedMs: posted.elapsedMs,
    };
    if (posted.httpStatus !== undefined) result.httpStatus = posted.httpStatus;
    if (posted.raw !== undefined) result.raw = posted.raw;
    if (c.answer) result.answer = c.answer;
    if (c.signatureValid !== undefined) result.signatureValid = c.signatureValid;
    if (c.answerPlaintext !== undefined) result.answerPlaintext = c.answerPlaintext;
    const cause = posted.cause ?? c.cause;
    if (cause) result.cause = cause;
    if (c.signatureValid && c.answer) {
      const platDate = c.answer.platDate === undefined ? undefined : wireText(c.answer.platDate);
      this.options.timeEvidence?.({ date: posted.date, ...(platDate ? { platDate } : {}), elapsedMs: posted.elapsedMs });
    }
    this.options.log?.info(
      { call, orderNo: wire.orderNo, delivery: result.delivery, outcome: c.outcome.kind, httpStatus: result.httpStatus, respCode: c.answer?.respCode, cause, elapsedMs: result.elapsedMs },
      'umpay call',
    );
    return result;
  }

  /** The settlement file of `stlDate` (yyyyMMdd) into `dir` (settle-download.ts); never throws for the network. */
  downloadSettleFile(stlDate: string, dir: string, opts: SettleDownloadOptions = {}): Promise<SettleDownload> {
    const { merchant, privateKey, platformKey, timeoutMs, ca } = this.options;
    return downloadSettleFile({ base: this.base, acqSpId: merchant.acqSpId, privateKey, platformKey, timeoutMs, ca }, stlDate, dir, opts);
  }

  /**
   * Whether the gateway's host and port take a TCP connection (within the connect timeout), closed at once: the
   * link monitor's routine probe. It sends nothing, so the platform sees no trade call and nothing to rate-limit.
   */
  reach(): Promise<{ ok: boolean; cause: string; elapsedMs: number }> {
    const url = new URL(this.base);
    const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
    // Stryker disable next-line Regex: a hostname has brackets only around an IPv6 address: the anchors change nothing
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const started = performance.now();
    return new Promise((resolve) => {
      const socket = netConnect({ host, port });
      // At most one of the three comes: the timer is cleared and the socket destroyed (no error event) at once.
      const finish = (ok: boolean, cause: string) => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ ok, cause, elapsedMs: Math.round(performance.now() - started) });
      };
      const timer = setTimeout(() => finish(false, `connect to ${host}:${port}: no answer within ${this.options.connectTimeoutMs} ms`), this.options.connectTimeoutMs);
      socket.once('connect', () => finish(true, `${host}:${port} takes connections`));
      socket.once('error', (err: NodeJS.ErrnoException) => finish(false, `connect to ${host}:${port}: ${err.code ?? err.message}`));
    });
  }

  /** Signs `fields` as they are (no validation) and POSTs them to `path`. For the joint-debugging CLI. */
  async postSigned(path: string, fields: Readonly<Record<string, string>>): Promise<PostedCall> {
    const started = performance.now();
    const { plaintext, signature } = signRequest(fields, this.options.privateKey);
    const request: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) if (v !== '' && v != null && k !== 'signature') request[k] = v;
    request.signature = signature;
    const body = JSON.stringify(request);
    // Stryker disable next-line ObjectLiteral: equivalent, an absent flag reads as false
    const track: Track = { connected: false, connectTimedOut: false };
    const controller = new AbortController();
    const totalTimer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    const done = (rest: Omit<PostedCall, 'request' | 'plaintext' | 'signature' | 'elapsedMs'>): PostedCall => ({
      request,
      plaintext,
      signature,
      ...rest,
      elapsedMs: Math.round(performance.now() - started),
    });
    let status: number | undefined;
    try {
      const res = await fetch(this.base + path, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json; charset=utf-8', Accept: 'application/json' },
        body,
        agent: this.trackingAgent(track),
        signal: controller.signal,
        compress: false, // no decompression: the size cap counts the bytes that arrive
        redirect: 'manual', // a redirect is an HTTP status like any other: UNKNOWN
      });
      status = res.status;
      const raw = await this.readCapped(res.body, Number(res.headers.get('content-length') ?? NaN));
      const date = res.headers.get('date') ?? undefined;
      return done({ delivery: 'answered', exchange: { httpStatus: status, body: raw }, httpStatus: status, raw, ...(date ? { date } : {}) });
    } catch (err) {
      const { delivery, cause } = this.describeFailure(err, track, status, controller.signal.aborted);
      const rest: Omit<PostedCall, 'request' | 'plaintext' | 'signature' | 'elapsedMs'> = { delivery, exchange: { transportError: cause }, cause };
      if (status !== undefined) rest.httpStatus = status;
      return done(rest);
    } finally {
      clearTimeout(totalTimer);
    }
  }

  private describeFailure(err: unknown, track: Track, status: number | undefined, aborted: boolean): { delivery: Delivery; cause: string } {
    const e = err as NodeJS.ErrnoException & { type?: string; erroredSysCall?: string };
    if (err instanceof AnswerTooLarge) return { delivery: 'maybe-sent', cause: err.message };
    if (track.connectTimedOut) return { delivery: 'not-sent', cause: `connect timeout after ${this.options.connectTimeoutMs} ms` };
    // Stryker disable next-line OptionalChaining: equivalent, what fetch rejects with is never null
    const code = e?.code ?? (aborted ? 'ETIMEDOUT' : 'ERR');
    // Stryker disable next-line OptionalChaining: equivalent (above)
    const msg = aborted ? `no complete answer within ${this.options.timeoutMs} ms` : (e?.message ?? String(err));
    const where = status !== undefined ? ` (after HTTP ${status})` : '';
    // Not connected means not one byte was written: provably not sent (refused, DNS, no route, connect timeout).
    // Once connected the platform may have it, whatever the code: EHOSTUNREACH/ENETUNREACH also end established
    // connections.
    // Stryker disable next-line ConditionalExpression: a status implies track.connected; kept as a belt (money)
    const neverLeft = status === undefined && !track.connected;
    return { delivery: neverLeft ? 'not-sent' : 'maybe-sent', cause: `${code}: ${msg}${where}` };
  }

  // The agent is shared (keep-alive); per call, a thin view on it watches the socket this request gets, so that
  // the connect timeout is separate from the total one and we know whether the socket was ever connected.
  private trackingAgent(track: Track): http.Agent {
    const shared = this.agent;
    const connectTimeoutMs = this.options.connectTimeoutMs;
    const secure = shared instanceof https.Agent;
    const view = Object.create(shared) as http.Agent & { addRequest(req: http.ClientRequest, opts: unknown): void };
    view.addRequest = (req: http.ClientRequest, opts: unknown) => {
      req.once('socket', (socket: Socket) => {
        const tls = socket as Socket & { encrypted?: boolean; _secureEstablished?: boolean };
        const ready = secure ? tls._secureEstablished === true : !socket.connecting;
        if (ready) {
          track.connected = true; // a kept-alive socket
          return;
        }
        const timer = setTimeout(() => {
          track.connectTimedOut = true;
          // Stryker disable next-line StringLiteral,ObjectLiteral: equivalent, never shown (describeFailure says it)
          socket.destroy(Object.assign(new Error(`connect timeout after ${connectTimeoutMs} ms`), { code: 'ECONNECTTIMEOUT' }));
        }, connectTimeoutMs);
        const onUp = () => {
          clearTimeout(timer);
          track.connected = true;
        };
        socket.once(secure ? 'secureConnect' : 'connect', onUp);
        // Once closed, the timer could only set a flag nobody reads any more and destroy a destroyed socket.
        // Stryker disable next-line ArrowFunction,StringLiteral: equivalent (above)
        socket.once('close', () => clearTimeout(timer));
      });
      (shared as unknown as { addRequest(req: http.ClientRequest, opts: unknown): void }).addRequest(req, opts);
    };
    return view;
  }

  private async readCapped(body: NodeJS.ReadableStream | null, declared: number): Promise<string> {
    // node-fetch gives every answer a body stream (a 204's too): this guard is for the type, which allows null.
    // Stryker disable next-line ConditionalExpression,BlockStatement,StringLiteral: equivalent, never null (above)
    if (!body) return '';
    const cap = this.maxAnswerBytes;
    if (Number.isFinite(declared) && declared > cap) {
      // Stryker disable next-line OptionalChaining: equivalent, the body stream has destroy()
      (body as unknown as { destroy?: () => void }).destroy?.();
      throw new AnswerTooLarge(`answer larger than ${cap} bytes (Content-Length ${declared})`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of body as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > cap) {
        // Stryker disable next-line OptionalChaining: equivalent, the body stream has destroy()
        (body as unknown as { destroy?: () => void }).destroy?.();
        throw new AnswerTooLarge(`answer larger than ${cap} bytes`);
      }
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString('utf8');
  }
}

/** The answer object of a PostedCall, parsed when it is JSON (for display; classification does its own). */
export function answerOf(posted: PostedCall): Record<string, WireValue> | undefined {
  // Stryker disable next-line ConditionalExpression,BlockStatement: equivalent, no body fails to parse: undefined
  if (!('body' in posted.exchange)) return undefined;
  try {
    const v = parseWireJson(posted.exchange.body);
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, WireValue>) : undefined;
    // A next-line directive cannot reach a catch block: a range.
    // Stryker disable BlockStatement: equivalent, falling out of the function is undefined too
  } catch {
    return undefined;
  }
  // Stryker restore BlockStatement
}
