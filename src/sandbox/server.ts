// The local UMPay gateway: node:http on loopback, the platform's six calls and the settlement file, every answer
// signed with the sandbox's platform key. Fault controls and the ledger are under /__sandbox/ (controls.ts).
// startSandbox (start.ts) makes the keys, ledger and faults and starts listening. A little over 350 lines: each
// route's faults are applied where its answer is written, so a drill's fault reads in one place.
import { createPublicKey, type KeyObject } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as TlsServer } from 'node:https';
import type { Logger } from 'pino';
import { scrub } from '../log.js';
import { wireText, type RequestRule, type WireValue } from '../umpay/canonical.js';
import { parseWireJson } from '../umpay/json.js';
import { signResponse, verifyRequest } from '../umpay/signature.js';
import type { CallName } from '../umpay/types.js';
import { controlRequest } from './controls.js';
import { formatProblem, structuralProblem } from './fields.js';
import type { FaultPlan, TokenBucket, Fault } from './faults.js';
import { ymd, type Answer, type Ledger, type LedgerSnapshot } from './ledger.js';
import { normaliseStlDate, settlementCsv, settlementFileName } from './settlement.js';

export interface SandboxStats {
  requests: Record<string, number>;
  total: number;
  inFlight: number;
  maxInFlight: number;
  rateLimited: number;
  faultsApplied: Record<string, number>;
  /** TCP connections accepted since start (reset() keeps it): how many handshakes clients made. */
  connections: number;
}

/** Emitted as 'request' (on arrival) and 'response' (after the answer was written or the connection dropped). */
export interface SandboxEvent {
  path: string;
  /** Request fields, authCode masked and signature shortened. */
  fields: Record<string, unknown>;
  orderNo?: string;
  respCode?: string;
  httpStatus?: number;
  fault?: string;
  dropped?: boolean;
}

const CALLS: Record<string, CallName> = {
  '/pay/micropay': 'micropay',
  '/pay/queryOrder': 'queryOrder',
  '/pay/cancelOrder': 'cancelOrder',
  '/pay/closeOrder': 'closeOrder',
  '/pay/refund': 'refund',
  '/pay/refundQuery': 'refundQuery',
};

const MAX_BODY = 64 * 1024;
/** What startSandbox (start.ts) made for the server: keys, ledger, faults, settings. */
export interface SandboxInternals {
  baseUrl: string;
  /** With tls: the CA certificate (PEM) a client trusts the sandbox with. */
  caFile?: string;
  stateDir: string;
  removeStateDir: boolean;
  platformCertPath: string;
  platformPrivateKey: KeyObject;
  merchantKeys: KeyObject[];
  merchantKeyPath?: string;
  ledger: Ledger;
  faults: FaultPlan;
  bucket?: TokenBucket;
  log: Logger;
  now: () => Date;
  signingRules: readonly RequestRule[];
  refundOrderType: boolean;
}

export class Sandbox extends EventEmitter {
  readonly baseUrl: string;
  /** DER certificate of the platform key (like the platform's `*.cert.crt`); PEM beside it as platform.cert.pem. */
  readonly platformCertPath: string;
  readonly platformPublicKey: KeyObject;
  /** The generated merchant private key (PKCS#8 PEM, mode 0600) when no merchantPublicKey was given. */
  readonly merchantKeyPath?: string;
  readonly stateDir: string;
  /** With tls: the CA certificate (PEM) to configure as gateway.ca. */
  readonly caFile?: string;

  constructor(
    private readonly server: Server | TlsServer,
    private readonly internals: SandboxInternals,
  ) {
    super();
    this.baseUrl = internals.baseUrl;
    this.platformCertPath = internals.platformCertPath;
    this.platformPublicKey = createPublicKey(internals.platformPrivateKey);
    this.merchantKeyPath = internals.merchantKeyPath;
    this.stateDir = internals.stateDir;
    this.caFile = internals.caFile;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.handle(req, res));
    server.on('connection', (socket: Socket) => {
      this.counters.connections++;
      this.unused.add(socket);
      socket.once('close', () => this.unused.delete(socket));
    });
  }

  private readonly counters: SandboxStats = { requests: {}, total: 0, inFlight: 0, maxInFlight: 0, rateLimited: 0, faultsApplied: {}, connections: 0 };
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Connections that have carried no request yet (node's closeIdleConnections leaves them open). */
  private readonly unused = new Set<Socket>();
  private closed = false;

  ledger(): LedgerSnapshot {
    return this.internals.ledger.snapshot();
  }

  /** Replaces the pending faults (and reseeds the generator when `seed` is given). */
  setFaults(faults: Fault[], seed?: number): void {
    this.internals.faults.set(faults, seed);
  }

  addFault(fault: Fault): void {
    this.internals.faults.add(fault);
  }

  pendingFaults(): Fault[] {
    return this.internals.faults.pending();
  }

  stats(): SandboxStats {
    return { ...this.counters, requests: { ...this.counters.requests }, faultsApplied: { ...this.counters.faultsApplied } };
  }

  /** Empties the ledger, the used codes, the faults and the counters. */
  reset(): void {
    this.internals.ledger.reset();
    this.internals.faults.set([]);
    Object.assign(this.counters, { requests: {}, total: 0, maxInFlight: this.counters.inFlight, rateLimited: 0, faultsApplied: {} });
  }

  /** Closes the connections that carry no request now: a gateway's idle timeout, at once (tests, bench). */
  closeIdleConnections(): void {
    this.server.closeIdleConnections();
    for (const socket of this.unused) socket.destroy();
    this.unused.clear();
  }

  /** Resolves with the next 'response' event that satisfies `match`. */
  waitFor(match: (e: SandboxEvent) => boolean = () => true): Promise<SandboxEvent> {
    return new Promise((resolve) => {
      const listener = (e: SandboxEvent) => {
        if (!match(e)) return;
        this.off('response', listener);
        resolve(e);
      };
      this.on('response', listener);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    this.internals.ledger.flush();
    if (this.internals.removeStateDir) rmSync(this.internals.stateDir, { recursive: true, force: true });
  }

  private delay(ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.add(t);
    });
  }

  private sign(fields: Record<string, WireValue>): Record<string, WireValue> {
    return signResponse(fields, this.internals.platformPrivateKey);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // https: the TLS socket's TCP socket is the one 'connection' gave.
    this.unused.delete((req.socket as Socket & { _parent?: Socket })._parent ?? req.socket);
    const started = performance.now();
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const path = url.pathname;
    // The platform's clock on every answer, as a real server sends it (the kiosk compares its own with it).
    res.setHeader('Date', this.internals.now().toUTCString());
    const c = this.counters;
    c.requests[path] = (c.requests[path] ?? 0) + 1;
    c.total++;
    c.inFlight++;
    c.maxInFlight = Math.max(c.maxInFlight, c.inFlight);
    const event: SandboxEvent = { path, fields: {} };
    try {
      const body = await readBody(req);
      if (path.startsWith('/__sandbox/')) {
        this.emit('request', event);
        const { status, value } = controlRequest(this, path, req.method ?? 'GET', body);
        event.httpStatus = status;
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value, (_k, v: unknown) => (v === Infinity ? -1 : v)) + '\n');
        return;
      }
      const call = CALLS[path];
      if (path === '/pay/downloadSettleFile' && req.method === 'GET') return this.settleFile(url, res, event);
      if (!call || req.method !== 'POST') {
        event.httpStatus = 404;
        res.writeHead(404, { 'content-type': 'text/plain' }).end(`no such path: ${req.method} ${path}\n`);
        return;
      }
      await this.platformCall(call, path, body, req, res, event);
    } catch (err) {
      this.internals.log.error({ path, err }, 'sandbox request failed');
      if (!res.headersSent) {
        event.httpStatus = 500;
        res.writeHead(500, { 'content-type': 'text/plain' }).end('sandbox internal error\n');
      }
    } finally {
      c.inFlight--;
      this.internals.log.info({ path, orderNo: event.orderNo, respCode: event.respCode, fault: event.fault, dropped: event.dropped, ms: Math.round(performance.now() - started) }, 'sandbox answer');
      this.emit('response', event);
    }
  }

  private async platformCall(call: CallName, path: string, body: Buffer | null, req: IncomingMessage, res: ServerResponse, event: SandboxEvent): Promise<void> {
    const answer = (fields: Record<string, WireValue>): void => {
      event.respCode = wireText(fields.respCode);
      event.httpStatus = 200;
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(this.sign(fields)));
    };
    const platDate = ymd(this.internals.now());
    if (body === null) return answer({ respCode: '10', respMsg: `格式错误: body larger than ${MAX_BODY} bytes`, platDate });
    let fields: Record<string, WireValue>;
    try {
      const parsed: unknown = parseWireJson(body.toString('utf8'));
      if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not a JSON object');
      fields = parsed as Record<string, WireValue>;
    } catch {
      this.emit('request', event);
      return answer({ respCode: '10', respMsg: '格式错误: body is not a JSON object', platDate });
    }
    event.fields = scrub(fields) as Record<string, unknown>;
    event.orderNo = typeof fields.orderNo === 'string' ? fields.orderNo : undefined;
    this.emit('request', event);

    if (this.internals.bucket && !this.internals.bucket.tryTake()) {
      this.counters.rateLimited++;
      return answer({ respCode: '37', respMsg: '查询过于频繁，请稍后再试', platDate, orderNo: event.orderNo });
    }
    const hit = this.internals.faults.take(path);
    const fault = hit.fault;
    if (fault) {
      event.fault = fault.kind;
      this.counters.faultsApplied[fault.kind] = (this.counters.faultsApplied[fault.kind] ?? 0) + 1;
    }
    if (hit.latencyBeforeMs || hit.latencyAfterMs) this.counters.faultsApplied.latency = (this.counters.faultsApplied.latency ?? 0) + 1;
    // A request that arrived is processed even if the client gave up meanwhile: the real platform does too.
    await this.delay(hit.latencyBeforeMs);
    switch (fault?.kind) {
      case 'drop-before-charge':
        return this.drop(req, event);
      case 'rate-limit':
        return answer({ respCode: '37', respMsg: '查询过于频繁，请稍后再试', platDate, orderNo: event.orderNo });
      case 'answer-99':
        return answer({ respCode: '99', respMsg: '其他错误', platDate, orderNo: event.orderNo });
      case 'http-500':
      case 'html':
        if (!fault.charge) return this.httpError(fault.kind, res, event);
    }

    const result = this.process(call, fields);
    await this.delay(hit.latencyAfterMs);
    if (result.loseAnswer || fault?.kind === 'drop-after-charge') {
      if (call === 'micropay' && !result.loseAnswer) this.internals.ledger.answerLost(wireText(fields.orderNo));
      event.respCode = wireText(result.fields.respCode);
      return this.drop(req, event);
    }
    switch (fault?.kind) {
      case 'http-500':
      case 'html':
        event.respCode = wireText(result.fields.respCode);
        return this.httpError(fault.kind, res, event);
      case 'truncated-json': {
        const text = JSON.stringify(this.sign(result.fields));
        event.respCode = wireText(result.fields.respCode);
        event.httpStatus = 200;
        res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(text.slice(0, Math.floor(text.length / 2)));
        return;
      }
      case 'bad-signature': {
        const signed = this.sign(result.fields);
        const sig = Buffer.from(wireText(signed.signature), 'base64');
        sig[sig.length >> 1]! ^= 0x01; // one bit: still well-formed base64 of the right length, but not the platform's
        event.respCode = wireText(result.fields.respCode);
        event.httpStatus = 200;
        res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify({ ...signed, signature: sig.toString('base64') }));
        return;
      }
    }
    answer(result.fields);
  }

  /** Field checks, the signature check, then the ledger. */
  private process(call: CallName, fields: Record<string, WireValue>): Answer {
    const platDate = ymd(this.internals.now());
    const echo = { orderNo: typeof fields.orderNo === 'string' ? fields.orderNo : undefined, txnAmt: typeof fields.txnAmt === 'string' ? fields.txnAmt : undefined };
    const opts = { refundOrderType: this.internals.refundOrderType };
    const structural = structuralProblem(call, fields, opts);
    if (structural) return { fields: { ...structural, platDate, ...echo } };
    if (!this.signedByMerchant(fields)) return { fields: { respCode: '11', respMsg: '验签失败', platDate, ...echo } };
    const format = formatProblem(call, fields, opts);
    if (format) return { fields: { ...format, platDate, ...echo } };
    return this.internals.ledger[call](fields);
  }

  private signedByMerchant(fields: Record<string, WireValue>): boolean {
    return this.internals.merchantKeys.some((k) => verifyRequest(fields, k, this.internals.signingRules).valid);
  }

  private drop(req: IncomingMessage, event: SandboxEvent): void {
    event.dropped = true;
    (req.socket).destroy();
  }

  private httpError(kind: 'http-500' | 'html', res: ServerResponse, event: SandboxEvent): void {
    if (kind === 'http-500') {
      event.httpStatus = 500;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error\n');
    } else {
      event.httpStatus = 502;
      res.writeHead(502, { 'content-type': 'text/html' }).end('<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n');
    }
  }

  private settleFile(url: URL, res: ServerResponse, event: SandboxEvent): void {
    const fields: Record<string, WireValue> = { acqSpId: url.searchParams.get('acqSpId') ?? '', stlDate: url.searchParams.get('stlDate') ?? '', signature: (url.searchParams.get('signature') ?? '').replace(/ /g, '+') };
    // ↑ a signature sent without URL-encoding has its '+' turned into spaces by the query parser
    event.fields = scrub(fields) as Record<string, unknown>;
    this.emit('request', event);
    const platDate = ymd(this.internals.now());
    const refuse = (respCode: string, respMsg: string) => {
      event.respCode = respCode;
      event.httpStatus = 200;
      res.writeHead(200, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(this.sign({ respCode, respMsg, platDate })));
    };
    const missing = Object.keys(fields).filter((k) => !fields[k]);
    if (missing.length) return refuse('13', `必填字段为空: ${missing.join(',')}`);
    if (!this.signedByMerchant(fields)) return refuse('11', '验签失败');
    let day: string;
    try {
      day = normaliseStlDate(wireText(fields.stlDate));
    } catch {
      return refuse('10', '格式错误: stlDate must be yyyyMMdd');
    }
    const csv = Buffer.from(settlementCsv(this.ledger(), day, { acqSpId: wireText(fields.acqSpId) }), 'utf8');
    const hit = this.internals.faults.take('/pay/downloadSettleFile');
    const fault = hit.fault?.kind === 'settle-drop' || hit.fault?.kind === 'settle-corrupt' ? hit.fault : undefined;
    const headers = { 'content-type': 'text/csv;charset=UTF-8', 'content-disposition': `attachment; filename="${settlementFileName(wireText(fields.acqSpId), day)}"`, 'content-length': String(csv.length) };
    event.httpStatus = 200;
    if (fault) {
      event.fault = fault.kind;
      this.counters.faultsApplied[fault.kind] = (this.counters.faultsApplied[fault.kind] ?? 0) + 1;
    }
    const half = csv.length >> 1;
    if (fault?.kind === 'settle-drop') {
      event.dropped = true;
      res.writeHead(200, headers);
      res.write(csv.subarray(0, half), () => res.destroy());
      return;
    }
    if (fault?.kind === 'settle-corrupt') {
      res.writeHead(200, headers).end(Buffer.concat([csv.subarray(0, half), Buffer.alloc(csv.length - half, 0xff)]));
      return;
    }
    res.writeHead(200, headers).end(csv);
  }

}

/** Reads the body; null when over the cap (the rest is discarded). */
function readBody(req: IncomingMessage): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) over = true;
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(over ? null : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

