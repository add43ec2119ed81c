// One request through the sidecar and its answer: classified, scheduled by class, sent to the
// replica the weights pick over a kept-alive connection of its class, and retried once on another
// replica when the first never answered. Bytes pass through unchanged but for the head.
import type { Span } from '@opentelemetry/api';
import { BodyTracker, connectionHas, encodeHead, HOP_BY_HOP, HttpParseError, headEnd, parseResponseHead, plainAnswer, responseFraming, type RequestHead, type ResponseHead } from './http1.ts';
import type { ReplicaAddress } from './config.ts';
import type { ShedReason } from './scheduler.ts';
import { serverTimingMs, type HopTracer } from './spans.ts';
import type { UpstreamConnection, UpstreamOwner, UpstreamPool } from './upstreams.ts';

export const REPLICA_HEADER = 'x-meshflow-replica';

/** What an exchange needs of the proxy. */
export interface ExchangeHost {
  readonly tracer: HopTracer | undefined;
  now(): number;
  replica(service: string, id: string): ReplicaAddress | undefined;
  pool(service: string, replica: ReplicaAddress, cls: string): UpstreamPool;
  /** Another replica for a retry, not one of `tried`. */
  retryTarget(service: string, tried: ReadonlySet<string>): string | undefined;
  acquire(service: string, replica: string): void;
  release(service: string, replica: string): void;
  answered(service: string, replica: string, cls: string, seconds: number): void;
  failed(service: string, replica: string, reason: string): void;
  retried(service: string): void;
}

/** The caller's side: where the answer goes, and what happens after it. */
export interface Caller {
  readonly socket: import('node:net').Socket;
  readonly closed: boolean;
  /** The exchange is over; the connection may carry another request if `keepAlive`. */
  finished(keepAlive: boolean): void;
}

/** The request as the proxy resolved and classified it. */
export interface Routed {
  readonly service: string;
  readonly path: string;
  readonly cls: string;
  /** The request head to send on, its empty line included (a Host line goes before it when the caller sent none). */
  readonly head: Buffer;
  /** Whether the caller's head named a Host (else the replica's address is sent). */
  readonly hasHost: boolean;
}

/**
 * How long a caller's idle connection is kept, as told to the caller: a client that honours it
 * (node:http's agent does, less a second) stops using the connection before the sidecar closes it.
 */
export const KEEP_ALIVE_S = 5;
const KEEP_ALIVE_FIELD = `keep-alive: timeout=${KEEP_ALIVE_S}\r\n`;

/** Request body bytes held while no connection is ready for them; past this the caller is paused. */
const MAX_PENDING_BYTES = 256 * 1024;
const RETRYABLE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** An answer's fields not passed on: hop-by-hop ones, and a replica header the sidecar sets itself. */
const DROPPED = new Set([...HOP_BY_HOP, REPLICA_HEADER]);
/** Body bytes up to this many go out in the same write as the answer's head; more go in their own. */
const MAX_COPIED_BYTES = 16 * 1024;
/** How long a shed caller is asked to wait before trying again (s). */
const RETRY_AFTER_S = 1;

export class Exchange implements UpstreamOwner {
  private readonly start: number;
  private span: Span | undefined;
  private route: Routed | undefined;
  /** The replica whose slot this exchange holds, and the attempt's connection to it. */
  private holding: string | undefined;
  private up: UpstreamConnection | undefined;
  private retried = false;
  private queuedMs: number | undefined;
  private serverMs: number | undefined;
  /** Body bytes that came before a connection was ready for them (kept for a retry until sent). */
  private pending: Buffer[] | undefined;
  private pendingBytes = 0;
  private sent = false;
  private responseBuf: Buffer | undefined;
  private response: ResponseHead | undefined;
  private responseBody: BodyTracker | undefined;
  /** The replica sent more than its answer: its connection is not used again. */
  private overrun = false;
  private over = false;
  private readonly keepAlive: boolean;

  constructor(
    private readonly host: ExchangeHost,
    private readonly caller: Caller,
    readonly request: RequestHead,
    private readonly body: BodyTracker,
  ) {
    this.start = host.now();
    this.keepAlive = request.minor === 1 ? !connectionHas(request, 'close') : false;
  }

  get requestDone(): boolean {
    return this.body.done;
  }

  get requestChunked(): boolean {
    return this.body.framing.kind === 'chunked';
  }

  /** Sends the request on its way: `route` came from the proxy's resolve and classify. */
  begin(route: Routed, span: Span | undefined): void {
    this.route = route;
    this.span = span;
  }

  /** Takes the request body's bytes from buf[start..]; returns how many belonged to it. */
  requestBody(buf: Buffer, start: number): number {
    let n: number;
    try {
      n = this.body.take(buf, start);
    } catch (err) {
      if (!(err instanceof HttpParseError)) throw err;
      this.refuseBody(err);
      return buf.length - start;
    }
    if (n === 0 || this.over) return n;
    const part = start === 0 && n === buf.length ? buf : buf.subarray(start, start + n);
    if (this.sent && this.up) {
      if (!this.up.socket.write(part)) this.caller.socket.pause();
    } else {
      (this.pending ??= []).push(part);
      this.pendingBytes += n;
      if (this.pendingBytes > MAX_PENDING_BYTES) this.caller.socket.pause();
    }
    return n;
  }

  /** The scheduler gave this request a slot on `replica`. */
  dispatch(replica: string): void {
    if (this.over || this.caller.closed) return this.host.release(this.route?.service ?? '', replica);
    this.queuedMs = this.host.now() - this.start;
    this.holding = replica;
    this.attempt(replica);
  }

  shed(reason: ShedReason): void {
    if (this.over) return;
    const why = reason === 'no_room' ? 'no replica has room on its path' : reason === 'queue_full' ? 'queue full' : 'waited too long';
    const r = this.route;
    this.reply(503, `meshflow sidecar: ${r?.service} refused for class ${r?.cls}: ${why}\n`, `retry-after: ${RETRY_AFTER_S}\r\n`);
  }

  /**
   * Answers the caller itself (an error of the sidecar's, or a refusal) and ends the exchange; the
   * connection closes after it if `close`, or if the request's body was not all read.
   */
  reply(status: number, text: string, extra = '', close = false): void {
    if (this.over) return;
    this.dropUpstream();
    const s = this.caller.socket;
    const keepAlive = this.keepAlive && this.body.done && !close;
    if (!s.destroyed) s.write(plainAnswer(status, text, { extra: keepAlive ? extra + KEEP_ALIVE_FIELD : extra, keepAlive, head: this.request.method === 'HEAD' }), 'latin1');
    this.end(status, undefined);
    this.caller.finished(keepAlive);
  }

  private attempt(replicaId: string): void {
    const route = this.route;
    const rep = route ? this.host.replica(route.service, replicaId) : undefined;
    if (!route || !rep) return this.reply(502, `meshflow sidecar: no replica ${replicaId}\n`);
    this.up = this.host.pool(route.service, rep, route.cls).take(this);
    if (this.up.connected) this.onUpstreamConnect();
  }

  onUpstreamConnect(): void {
    const up = this.up;
    const route = this.route;
    if (!up || !route || this.sent) return;
    let head = route.head;
    if (!route.hasHost) {
      const rep = this.host.replica(route.service, this.holding ?? '');
      head = Buffer.concat([head.subarray(0, head.length - 2), Buffer.from(`host: ${rep?.host}:${rep?.port}\r\n\r\n`, 'latin1')]);
    }
    // The head and the body bytes already here go in one write: one segment for a small request.
    up.socket.write(this.pending ? Buffer.concat([head, ...this.pending]) : head);
    this.sent = true;
    if (this.pendingBytes > MAX_PENDING_BYTES) this.caller.socket.resume();
    this.pending = undefined;
    this.pendingBytes = 0;
  }

  onUpstreamData(chunk: Buffer): void {
    if (this.over) return;
    if (this.response === undefined) return this.responseHead(chunk);
    this.forward(chunk, 0);
  }

  private responseHead(chunk: Buffer): void {
    const buf = this.responseBuf ? Buffer.concat([this.responseBuf, chunk]) : chunk;
    let end: number;
    let head: ResponseHead;
    try {
      end = headEnd(buf);
      if (end < 0) return void (this.responseBuf = buf);
      head = parseResponseHead(buf, end);
    } catch (err) {
      if (err instanceof HttpParseError) return this.badGateway(err.message);
      throw err;
    }
    this.responseBuf = undefined;
    if (head.status < 200) {
      // 101 can't happen (Upgrade is not forwarded); 100 and 103 pass on to a caller that speaks 1.1.
      if (head.status === 101) return this.badGateway('unasked protocol switch');
      if (this.request.minor === 1) this.caller.socket.write(buf.subarray(0, end));
      if (end < buf.length) this.responseHead(buf.subarray(end));
      return;
    }
    const framing = responseFraming(head, this.request.method);
    if (!framing) return this.badGateway('contradictory response framing');
    const route = this.route;
    const replica = this.holding ?? '';
    this.response = head;
    this.responseBody = new BodyTracker(framing);
    if (this.span) this.serverMs = serverTimingMs(head.headers['server-timing']);
    const n = this.bodyIn(buf, end, false);
    if (n === undefined) return;
    // The head and the body bytes that came with it go in one write, when they are few.
    const s = this.caller.socket;
    const keepAlive = this.keepAlive && framing.kind !== 'close';
    const extra = `${framing.kind === 'chunked' ? 'transfer-encoding: chunked\r\n' : ''}${REPLICA_HEADER}: ${replica}\r\n${keepAlive ? KEEP_ALIVE_FIELD : 'connection: close\r\n'}`;
    const first = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
    let ok: boolean;
    if (n <= MAX_COPIED_BYTES) ok = s.write(encodeHead(first, head, DROPPED, extra, n > 0 ? buf.subarray(end, end + n) : undefined));
    else {
      s.write(encodeHead(first, head, DROPPED, extra));
      ok = s.write(buf.subarray(end, end + n));
    }
    // Bookkeeping comes after the answer is on its way, not before.
    if (route) this.host.answered(route.service, replica, route.cls, (this.host.now() - this.start) / 1000);
    this.afterBody(ok);
  }

  /** Passes the answer's body bytes in buf[start..] to the caller. */
  private forward(buf: Buffer, start: number): void {
    const n = this.bodyIn(buf, start, true);
    if (n === undefined) return;
    this.afterBody(n > 0 ? this.caller.socket.write(start === 0 && n === buf.length ? buf : buf.subarray(start, start + n)) : true);
  }

  /**
   * How many bytes of buf from `start` belong to the answer's body; undefined when they can't be
   * framed: the caller gets a 502 if the answer's head has not gone out yet, else a cut-short answer.
   */
  private bodyIn(buf: Buffer, start: number, headSent: boolean): number | undefined {
    const body = this.responseBody;
    if (!body) return undefined;
    let n: number;
    try {
      n = body.take(buf, start);
    } catch (err) {
      if (err instanceof HttpParseError) return void (headSent ? this.cutShort('malformed response body') : this.badGateway('malformed body'));
      throw err;
    }
    if (start + n < buf.length) this.overrun = true;
    return n;
  }

  /** After body bytes went to the caller: the end of the answer, or a replica to pause while the caller is slow. */
  private afterBody(written: boolean): void {
    if (this.responseBody?.done) this.complete();
    else if (!written) this.up?.socket.pause();
  }

  onUpstreamDrain(): void {
    if (this.caller.socket.isPaused() && !this.over) this.caller.socket.resume();
  }

  onCallerDrain(): void {
    if (this.up?.socket.isPaused()) this.up.socket.resume();
  }

  onUpstreamClose(err: Error | undefined): void {
    const up = this.up;
    this.up = undefined;
    if (this.over || !up) return;
    if (this.response) {
      // A body delimited by the close ends here; anything else was cut short.
      if (!err && this.responseBody?.framing.kind === 'close') return this.complete();
      return this.cutShort('replica closed mid-answer');
    }
    const route = this.route;
    const replica = this.holding;
    if (!route || replica === undefined) return;
    this.holding = undefined;
    this.host.release(route.service, replica);
    const reason = (err as NodeJS.ErrnoException | undefined)?.code ?? (err ? 'error' : 'closed');
    this.host.failed(route.service, replica, reason);
    // A connection that never opened sent nothing; a reused one the replica had closed meanwhile
    // (its idle timeout) took a request it never read, which is safe to send again without a body.
    const stale = up.reused && this.responseBuf === undefined && RETRYABLE.has(this.request.method) && this.body.framing.kind === 'none';
    if (!this.retried && (!up.connected || stale)) {
      const next = this.host.retryTarget(route.service, new Set([replica]));
      if (next !== undefined) {
        this.retried = true;
        this.host.retried(route.service);
        this.host.acquire(route.service, next);
        this.holding = next;
        this.sent = false;
        return this.attempt(next);
      }
    }
    this.reply(502, `meshflow sidecar: ${route.service} unavailable (${reason})\n`);
  }

  /** The caller went away: the replica's work on it stops too. */
  onCallerClose(): void {
    if (this.over) return;
    this.dropUpstream();
    this.end(this.response?.status, 'aborted');
  }

  private refuseBody(err: HttpParseError): void {
    if (this.over) return;
    // Before the answer's status line the caller can still be told; after it, only cut short.
    if (this.response === undefined) return this.reply(err.status, `meshflow sidecar: ${err.message}\n`);
    this.cutShort(err.message);
  }

  private badGateway(why: string): void {
    const route = this.route;
    if (route && this.holding !== undefined) this.host.failed(route.service, this.holding, 'bad_response');
    this.reply(502, `meshflow sidecar: ${route?.service} sent a bad answer (${why})\n`);
  }

  /** The answer can't be finished: the caller sees its connection close mid-answer. */
  private cutShort(why: string): void {
    this.dropUpstream();
    this.end(this.response?.status, why);
    this.caller.socket.destroy();
  }

  /** The whole answer reached the caller. */
  private complete(): void {
    const up = this.up;
    const head = this.response;
    const reusable =
      head !== undefined &&
      !this.overrun &&
      this.body.done &&
      this.responseBody?.framing.kind !== 'close' &&
      (head.minor === 1 ? !connectionHas(head, 'close') : connectionHas(head, 'keep-alive'));
    if (up && reusable) {
      this.up = undefined;
      up.giveBack(this.host.now(), head.headers['keep-alive']);
    } else this.dropUpstream();
    this.end(head?.status, undefined);
    this.caller.finished(this.keepAlive && this.body.done && this.responseBody?.framing.kind !== 'close');
  }

  private dropUpstream(): void {
    const up = this.up;
    this.up = undefined;
    if (!up) return;
    up.owner = undefined;
    up.socket.destroy();
  }

  /** Frees the slot and ends the span, once. */
  private end(status: number | undefined, error: string | undefined): void {
    this.over = true;
    const route = this.route;
    if (route && this.holding !== undefined) this.host.release(route.service, this.holding);
    const replica = this.holding;
    this.holding = undefined;
    if (this.span) {
      this.host.tracer?.end(this.span, { replica: this.response ? replica : undefined, status, retried: this.retried, queuedMs: this.queuedMs, serverMs: this.serverMs, error });
      this.span = undefined;
    }
  }
}
