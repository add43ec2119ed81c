// One switch connection: the OpenFlow 1.3 handshake, liveness, and request/reply correlation by xid.
// Every message to the switch leaves through send(), so the order on the wire is the order of calls.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  decode,
  encode,
  FrameReader,
  OpenFlowError,
  OFP_VERSION,
  OFPT_HELLO,
  OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE,
  OFPET_BAD_REQUEST,
  OFPBRC_BAD_VERSION,
  OFPMPF_REPLY_MORE,
  OFPP_ANY,
  OFPP_CONTROLLER,
  OFPCML_NO_BUFFER,
  OFPPR_DELETE,
  flowMod,
} from './openflow/index.ts';
import type {
  OfMessage,
  ErrorMsg,
  FeaturesReply,
  MultipartReply,
  MultipartRequest,
  PacketIn,
  PortStatus,
  FlowRemoved,
  Port,
  PortStats,
} from './openflow/index.ts';
import { systemClock, type Clock, type Cancel } from '../bus/clock.ts';
import { formatDpid } from './dpid.ts';

/** A message as the caller builds it: the session assigns the xid. */
export type Outgoing = OfMessage extends infer M ? (M extends OfMessage ? Omit<M, 'xid'> : never) : never;
type MultipartRequestBody = MultipartRequest['body'];
type MultipartReplyBody = MultipartReply['body'];

export type SessionState = 'hello' | 'features' | 'config' | 'ready' | 'closed';

export interface SessionOptions {
  readonly echoIntervalMs?: number;
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

export interface SessionEvents {
  ready: [];
  packet_in: [PacketIn];
  port_status: [PortStatus];
  flow_removed: [FlowRemoved];
  /** A malformed message or an error the switch sent without a request waiting for it. */
  protocol_error: [OpenFlowError | ErrorMsg];
  close: [reason: string];
}

/** The switch answered a request with OFPT_ERROR. */
export class SwitchRequestError extends Error {
  readonly code = 'OF_ERR_SWITCH_REJECTED';
  constructor(readonly error: ErrorMsg) {
    super(`switch rejected the request: error type ${error.errorType} code ${error.code}`);
  }
}

interface Pending {
  resolve(msg: OfMessage | readonly MultipartReplyBody[]): void;
  reject(err: Error): void;
  readonly parts: MultipartReplyBody[];
  cancel: Cancel;
}

export class SwitchSession extends EventEmitter<SessionEvents> {
  state: SessionState = 'hello';
  datapathId = 0n;
  features: FeaturesReply | undefined;
  readonly ports = new Map<number, Port>();
  readonly address: string;
  connectedAt = 0;
  readonly counters = { rx: 0, tx: 0, malformed: 0, packetIns: 0, flowMods: 0 };

  private readonly reader = new FrameReader();
  private readonly pending = new Map<number, Pending>();
  private nextXid = 1;
  private opening = Buffer.alloc(0);
  private lastRx: number;
  private readonly stopTimer: Cancel;
  private readonly echoIntervalMs: number;
  private readonly requestTimeoutMs: number;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;

  constructor(private readonly socket: Socket, opts: SessionOptions = {}) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.echoIntervalMs = opts.echoIntervalMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.log = opts.logger;
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.lastRx = this.clock.now();
    this.connectedAt = this.lastRx;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed'));
    this.stopTimer = this.clock.setInterval(() => this.tick(), this.echoIntervalMs);
    this.send({ type: 'hello', elements: [{ type: 'versionbitmap', versions: [OFP_VERSION] }] });
  }

  get dpid(): string {
    return formatDpid(this.datapathId);
  }

  /** Sends one message; returns the xid it was given. */
  send(msg: Outgoing): number {
    const xid = this.nextXid;
    this.nextXid = (this.nextXid % 0xffffffff) + 1;
    this.write({ ...msg, xid } as OfMessage);
    return xid;
  }

  /** Sends a request and resolves with the switch's reply (an OFPT_ERROR rejects it). */
  request(msg: Outgoing): Promise<OfMessage> {
    return this.expect(this.send(msg)) as Promise<OfMessage>;
  }

  /** A multipart request; resolves once every part (the REPLY_MORE chain) has arrived. */
  multipart(body: MultipartRequestBody): Promise<readonly MultipartReplyBody[]> {
    return this.expect(this.send({ type: 'multipart_request', flags: 0, body })) as Promise<
      readonly MultipartReplyBody[]
    >;
  }

  async portStats(portNo: number = OFPP_ANY): Promise<PortStats[]> {
    const parts = await this.multipart({ kind: 'port_stats', portNo });
    return parts.flatMap((p) => (p.kind === 'port_stats' ? p.stats : []));
  }

  async portDescriptions(): Promise<Port[]> {
    const parts = await this.multipart({ kind: 'port_desc' });
    return parts.flatMap((p) => (p.kind === 'port_desc' ? p.ports : []));
  }

  /**
   * Sends messages that have no reply of their own (flow-mods, group-mods) followed by a barrier.
   * Resolves when the switch has processed them all; rejects if it refused any of them.
   */
  async program(msgs: readonly Outgoing[]): Promise<void> {
    const xids = msgs.map((m) => this.send(m));
    const watched = xids.map((xid) => this.expect(xid));
    const barrier = this.request({ type: 'barrier_request' });
    try {
      await Promise.race([barrier, ...watched.map((w) => w.then(() => undefined))]);
      await barrier;
    } finally {
      // Messages that succeeded never get a reply: stop waiting for them.
      for (const xid of xids) this.settle(xid)?.cancel();
      for (const w of watched) w.catch(() => undefined);
    }
  }

  close(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.stopTimer();
    for (const [xid, p] of this.pending) {
      p.cancel();
      p.reject(new Error(`session closed (${reason}) before the reply to xid ${xid}`));
    }
    this.pending.clear();
    this.socket.end();
    this.socket.destroySoon();
    this.log?.info({ dpid: this.dpid, address: this.address, reason }, 'switch session closed');
    this.emit('close', reason);
  }

  private write(msg: OfMessage): void {
    if (this.state === 'closed') return;
    if (msg.type === 'flow_mod') this.counters.flowMods++;
    this.counters.tx++;
    this.socket.write(encode(msg));
  }

  private expect(xid: number): Promise<OfMessage | readonly MultipartReplyBody[]> {
    return new Promise((resolve, reject) => {
      const cancel = this.clock.setTimeout(() => {
        this.pending.delete(xid);
        reject(new Error(`no reply from switch ${this.dpid} to xid ${xid} within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(xid, { resolve, reject, parts: [], cancel });
    });
  }

  private settle(xid: number): Pending | undefined {
    const p = this.pending.get(xid);
    if (p) {
      this.pending.delete(xid);
      p.cancel();
    }
    return p;
  }

  private tick(): void {
    const silent = this.clock.now() - this.lastRx;
    if (silent >= 3 * this.echoIntervalMs) {
      this.close(`no message for ${silent} ms (echo timeout)`);
    } else if (silent >= this.echoIntervalMs && this.state !== 'hello') {
      this.send({ type: 'echo_request', data: Buffer.alloc(0) });
    }
  }

  private onData(chunk: Buffer): void {
    this.lastRx = this.clock.now();
    if (this.state === 'hello' && !this.checkOpening(chunk)) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (err) {
      // A bad length field loses the message boundaries: the stream cannot be trusted after it.
      this.counters.malformed++;
      this.reportMalformed(err);
      this.close(`unframeable stream: ${(err as Error).message}`);
      return;
    }
    for (const frame of frames) {
      if (this.state === 'closed') return;
      this.onFrame(frame);
    }
  }

  /**
   * A peer must open with HELLO. Checking the first header as soon as its type byte arrives drops a
   * peer speaking another protocol at once, instead of waiting for a "message" its garbage length announces.
   */
  private checkOpening(chunk: Buffer): boolean {
    if (this.opening.length >= 8) return true;
    this.opening = Buffer.concat([this.opening, chunk.subarray(0, 8 - this.opening.length)]);
    const type = this.opening[1];
    const length = this.opening.length >= 4 ? this.opening.readUInt16BE(2) : 8;
    if ((type !== undefined && type !== OFPT_HELLO) || length < 8) {
      this.counters.malformed++;
      this.reportMalformed(new OpenFlowError('OF_ERR_NO_HELLO', 'peer did not open with an OpenFlow HELLO'));
      this.close('peer did not open with an OpenFlow HELLO');
      return false;
    }
    return true;
  }

  private onFrame(frame: Buffer): void {
    this.counters.rx++;
    if (this.state === 'hello') {
      this.onHello(frame);
      return;
    }
    if (frame[0] !== OFP_VERSION) {
      this.counters.malformed++;
      this.replyError(frame, OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION);
      return;
    }
    let msg: OfMessage;
    try {
      msg = decode(frame);
    } catch (err) {
      this.counters.malformed++;
      this.reportMalformed(err);
      if (err instanceof OpenFlowError && err.ofpError) this.replyError(frame, err.ofpError.type, err.ofpError.code);
      return;
    }
    this.dispatch(msg);
  }

  private onHello(frame: Buffer): void {
    if (frame.length < 8 || frame[1] !== OFPT_HELLO) {
      this.counters.malformed++;
      this.close('peer did not open with HELLO');
      return;
    }
    // HELLO has the same layout in every version, so a peer's hello decodes whatever its version byte.
    const peerVersion = frame[0] ?? 0;
    const copy = Buffer.from(frame);
    copy[0] = OFP_VERSION;
    let versions: number[];
    try {
      const hello = decode(copy);
      const bitmap = hello.type === 'hello' ? hello.elements.find((e) => e.type === 'versionbitmap') : undefined;
      versions = bitmap && bitmap.type === 'versionbitmap' ? [...bitmap.versions] : [Math.min(peerVersion, OFP_VERSION)];
    } catch (err) {
      this.counters.malformed++;
      this.reportMalformed(err);
      this.close('malformed HELLO');
      return;
    }
    if (!versions.includes(OFP_VERSION)) {
      this.write({
        type: 'error',
        xid: frame.readUInt32BE(4),
        errorType: OFPET_HELLO_FAILED,
        code: OFPHFC_INCOMPATIBLE,
        data: Buffer.from(`meshflow speaks OpenFlow 1.3 (0x04) only; peer offered ${versions.join(',')}`),
      });
      this.close(`incompatible OpenFlow version (peer offers ${versions.join(',')})`);
      return;
    }
    this.state = 'features';
    void this.handshake();
  }

  private async handshake(): Promise<void> {
    try {
      const features = await this.request({ type: 'features_request' });
      if (features.type !== 'features_reply') throw new Error(`expected FEATURES_REPLY, got ${features.type}`);
      this.features = features;
      this.datapathId = features.datapathId;
      this.state = 'config';
      this.send({ type: 'set_config', flags: 0, missSendLen: OFPCML_NO_BUFFER });
      for (const port of await this.portDescriptions()) this.ports.set(port.portNo, port);
      // Table-miss entry: whatever no rule claims goes to the controller, whole.
      await this.program([
        flowMod({
          priority: 0,
          match: [],
          instructions: [{ type: 'apply_actions', actions: [{ type: 'output', port: OFPP_CONTROLLER, maxLen: OFPCML_NO_BUFFER }] }],
        }),
      ]);
      if (this.state !== 'config') return;
      this.state = 'ready';
      this.log?.info({ dpid: this.dpid, address: this.address, ports: this.ports.size }, 'switch ready');
      this.emit('ready');
    } catch (err) {
      this.close(`handshake failed: ${(err as Error).message}`);
    }
  }

  private dispatch(msg: OfMessage): void {
    switch (msg.type) {
      case 'echo_request':
        this.write({ type: 'echo_reply', xid: msg.xid, data: msg.data });
        return;
      case 'packet_in':
        this.counters.packetIns++;
        this.emit('packet_in', msg);
        return;
      case 'port_status':
        if (msg.reason === OFPPR_DELETE) this.ports.delete(msg.port.portNo);
        else this.ports.set(msg.port.portNo, msg.port);
        this.emit('port_status', msg);
        return;
      case 'flow_removed':
        this.emit('flow_removed', msg);
        return;
      case 'error': {
        const p = this.settle(msg.xid);
        if (p) p.reject(new SwitchRequestError(msg));
        else {
          this.log?.warn({ dpid: this.dpid, errorType: msg.errorType, code: msg.code }, 'switch reported an error');
          this.emit('protocol_error', msg);
        }
        return;
      }
      case 'multipart_reply': {
        const p = this.pending.get(msg.xid);
        if (!p) return;
        p.parts.push(msg.body);
        if ((msg.flags & OFPMPF_REPLY_MORE) === 0) {
          this.settle(msg.xid);
          p.resolve(p.parts);
        }
        return;
      }
      default: {
        // Replies to requests (echo, features, barrier, config, role, async, queue config).
        const p = this.settle(msg.xid);
        p?.resolve(msg);
      }
    }
  }

  private replyError(frame: Buffer, errorType: number, code: number): void {
    this.write({
      type: 'error',
      xid: frame.length >= 8 ? frame.readUInt32BE(4) : 0,
      errorType,
      code,
      // The spec asks for at least the first 64 bytes of the offending message.
      data: Buffer.from(frame.subarray(0, 64)),
    });
  }

  private reportMalformed(err: unknown): void {
    const e = err instanceof OpenFlowError ? err : new OpenFlowError('OF_ERR_INTERNAL', String(err));
    this.log?.warn({ dpid: this.dpid, address: this.address, code: e.code, err: e.message }, 'malformed OpenFlow message');
    this.emit('protocol_error', e);
  }
}
