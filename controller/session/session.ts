// A switch connection: binds the session step (machine.ts) to a socket, a timer and promises, and
// owns the switch's programmer (the one way out for flow programs). Replies the step matches come
// back as events; this class only keeps who waits for which xid.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { LogLimiter } from '../../bus/log-limiter.ts';
import { encode, encodeAll, OFPP_ANY } from 'openflow-ts';
import { tableMiss } from '../table-miss.ts';
import type { ErrorMsg, FeaturesReply, FlowRemoved, OfMessage, PacketIn, Port, PortStats, PortStatus, Unnumbered, OpenFlowError } from 'openflow-ts';
import { systemClock, type Clock, type Cancel } from '../../bus/clock.ts';
import { Programmer, type BatchSink } from '../programmer.ts';
import { SessionClosedError, SwitchRequestError } from './errors.ts';
import { allocXids, start, step, type MachineInput, type MachineState, type PacketInGate, type SessionCounters, type SessionState, type Step } from './machine.ts';
import type { MeterFeatures, MultipartKind, MultipartReplyBody, MultipartRequestBody, PartsOf, ReplyOf, SingleRequest } from './requests.ts';

/** Messages only a master (or an equal) may send: held back while the programmer is held. */
const WRITES: ReadonlySet<string> = new Set(['packet_out', 'flow_mod', 'group_mod', 'meter_mod', 'port_mod', 'table_mod']);

/** A message as the caller builds it: the session assigns the xid. */
export type Outgoing = Unnumbered;

/** The messages that put the table-miss entry in place, given what the switch says of its meters. */
export type TableMissPolicy = (meters: MeterFeatures | undefined) => Outgoing[];

export interface SessionOptions {
  readonly echoIntervalMs?: number;
  readonly requestTimeoutMs?: number;
  readonly clock?: Clock;
  readonly logger?: Logger;
  /** Offered every PACKET_IN before it is decoded; refused ones are dropped and counted. */
  readonly admission?: PacketInGate;
  /** The handshake's table-miss entry (default: everything unmatched to the controller, whole, unmetered). */
  readonly tableMiss?: TableMissPolicy;
  /** Output a switch may leave unread before its session is dropped (default 32 MiB: seconds of a busy switch). */
  readonly maxUnsentBytes?: number;
  /**
   * Where lines an outside party can repeat at will go (malformed messages, errors, sessions that
   * come and go): one limiter shared by every session, so a flood from many connections is summed.
   */
  readonly limitedLog?: LogLimiter;
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

/** Who waits for the reply to an xid. */
interface Waiter {
  replied(xid: number, reply: OfMessage | readonly MultipartReplyBody[]): void;
  failed(xid: number, error: Error): void;
}

export class SwitchSession extends EventEmitter<SessionEvents> {
  readonly address: string;
  readonly connectedAt: number;
  /** The switch's one way out for programs: flow-mods, group-mods, meter-mods, each batch to one barrier. */
  readonly programmer: Programmer;
  private readonly m: MachineState;
  private readonly waiting = new Map<number, Waiter>();
  private readonly stopTimer: Cancel;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly limitedLog: LogLimiter | undefined;
  private readonly tableMiss: TableMissPolicy;
  private readonly maxUnsentBytes: number;
  /** The programmer hears of its barriers through this waiter. */
  private readonly barrierWaiter: Waiter;

  constructor(
    private readonly socket: Socket,
    opts: SessionOptions = {},
  ) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.log = opts.logger;
    this.limitedLog = opts.limitedLog ?? (opts.logger ? new LogLimiter(opts.logger, opts.clock ? { clock: opts.clock } : {}) : undefined);
    this.tableMiss = opts.tableMiss ?? (() => tableMiss(undefined));
    this.maxUnsentBytes = opts.maxUnsentBytes ?? 32 << 20;
    const echoIntervalMs = opts.echoIntervalMs ?? 5000;
    const requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.address = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    this.connectedAt = this.clock.now();
    const sink: BatchSink = { write: (messages, barrier) => this.writeBatch(messages, barrier) };
    this.programmer = new Programmer(sink);
    const programmer = this.programmer;
    this.barrierWaiter = {
      replied: (xid) => programmer.barrierReplied(xid),
      failed: (xid, err) => programmer.barrierFailed(xid, err),
    };
    socket.setNoDelay(true);
    const first = start({ echoIntervalMs, requestTimeoutMs, admission: opts.admission }, this.connectedAt);
    this.m = first.state;
    socket.on('data', (chunk: Buffer) => this.input({ kind: 'data', chunk }));
    socket.on('error', (err) => this.close(`socket error: ${err.message}`));
    socket.on('close', () => this.close('connection closed'));
    // Checks at half the shorter period, so that neither a probe nor a deadline is late by more than that.
    const tickMs = Math.max(5, Math.min(echoIntervalMs, requestTimeoutMs) / 2);
    this.stopTimer = this.clock.setInterval(() => this.input({ kind: 'tick' }), tickMs);
    this.apply(first);
  }

  get state(): SessionState {
    return this.m.phase;
  }

  get datapathId(): bigint {
    return this.m.datapathId;
  }

  get dpid(): string {
    return this.m.dpid;
  }

  get features(): FeaturesReply | undefined {
    return this.m.features;
  }

  /** What the switch said of its meters during the handshake (undefined: none). */
  get meters(): MeterFeatures | undefined {
    return this.m.meters;
  }

  get ports(): Map<number, Port> {
    return this.m.ports;
  }

  get counters(): SessionCounters {
    return this.m.counters;
  }

  /**
   * Sends one message at once, ahead of programs still waiting for the end of the turn; returns its
   * xid. For messages whose order against programs does not matter (LLDP probes, requests); a
   * message that must follow a program goes through programmer.send.
   */
  send(msg: Outgoing): number {
    const xid = allocXids(this.m, 1);
    // A slave of a cluster writes nothing that changes the switch or sends packets (the switch would refuse it).
    if (this.programmer.held && WRITES.has(msg.type)) this.programmer.heldCount++;
    else if (this.m.phase !== 'closed') this.writeOne({ ...msg, xid } as OfMessage);
    return xid;
  }

  /** Sends a request and resolves with the switch's reply, of the type that answers it (an OFPT_ERROR rejects). */
  request<R extends SingleRequest>(msg: R): Promise<ReplyOf<R['type']>> {
    if (this.m.phase === 'closed') return Promise.reject(new SessionClosedError(`session with ${this.dpid} is closed`));
    return new Promise((resolve, reject) => {
      const xid = allocXids(this.m, 1);
      this.waiting.set(xid, { replied: (_x, r) => resolve(r as ReplyOf<R['type']>), failed: (_x, e) => reject(e) });
      this.input({ kind: 'request', xid, msg });
    });
  }

  /** A multipart request; resolves once every part (the REPLY_MORE chain) has arrived. */
  multipart<K extends MultipartKind>(body: Extract<MultipartRequestBody, { kind: K }>): Promise<PartsOf<K>> {
    if (this.m.phase === 'closed') return Promise.reject(new SessionClosedError(`session with ${this.dpid} is closed`));
    return new Promise((resolve, reject) => {
      const xid = allocXids(this.m, 1);
      this.waiting.set(xid, { replied: (_x, r) => resolve(r as PartsOf<K>), failed: (_x, e) => reject(e) });
      this.input({ kind: 'request', xid, msg: { type: 'multipart_request', flags: 0, body } });
    });
  }

  async portStats(portNo: number = OFPP_ANY): Promise<PortStats[]> {
    const parts = await this.multipart({ kind: 'port_stats', portNo });
    return parts.flatMap((p) => p.stats);
  }

  async portDescriptions(): Promise<Port[]> {
    const parts = await this.multipart({ kind: 'port_desc' });
    return parts.flatMap((p) => p.ports);
  }

  /**
   * Programs the switch with messages that have no reply of their own (flow-mods, group-mods):
   * through the programmer, batched with this turn's other programs. Resolves when the switch has
   * processed them; rejects if it refused any of them.
   */
  program(msgs: readonly Outgoing[]): Promise<void> {
    return this.programmer.submit(msgs);
  }

  /** Ends the session; whatever is already written still reaches the switch. */
  close(reason: string): void {
    this.input({ kind: 'close', reason });
  }

  /** Ends the session and drops the connection at once, unsent output included (shutdown). */
  destroy(reason: string): void {
    this.input({ kind: 'close', reason });
    this.socket.destroy();
  }

  /** The programmer's batch as one write; its barrier is a request the step watches like any other. */
  private writeBatch(messages: readonly Unnumbered[], barrier: boolean): number {
    const first = allocXids(this.m, messages.length);
    if (this.m.phase === 'closed' || this.socket.destroyed) return first;
    if (barrier) {
      const xid = first + messages.length - 1;
      this.waiting.set(xid, this.barrierWaiter);
      this.input({ kind: 'request', xid, msg: { type: 'barrier_request' }, written: true });
    }
    let flowMods = 0;
    for (let i = 0; i < messages.length; i++) if (messages[i]!.type === 'flow_mod') flowMods++;
    this.m.counters.flowMods += flowMods;
    this.m.counters.tx += messages.length;
    this.socket.write(encodeAll(messages, first));
    this.checkBacklog();
    return first;
  }

  /** A switch that stops reading must not make the controller hold its output without bound. */
  private checkBacklog(): void {
    const unsent = this.socket.writableLength;
    if (unsent > this.maxUnsentBytes) this.destroy(`switch not reading: ${unsent} bytes unsent`);
  }

  private input(input: MachineInput): void {
    if (this.m.phase === 'closed') return;
    this.apply(step(this.m, input, this.clock.now()));
  }

  private apply(s: Step): void {
    // Output first: an echo reply leaves before anything the events below make others queue.
    const out = s.output;
    if (out.length === 1) this.writeOne(out[0]!);
    else if (out.length > 1) {
      this.socket.cork();
      for (const msg of out) this.writeOne(msg);
      this.socket.uncork();
    }
    for (const ev of s.events) {
      switch (ev.kind) {
        case 'packet_in':
          this.emit('packet_in', ev.msg);
          break;
        case 'port_status':
          this.emit('port_status', ev.msg);
          break;
        case 'flow_removed':
          this.emit('flow_removed', ev.msg);
          break;
        case 'reply': {
          const w = this.waiting.get(ev.xid);
          this.waiting.delete(ev.xid);
          w?.replied(ev.xid, ev.reply);
          break;
        }
        case 'failed': {
          const w = this.waiting.get(ev.xid);
          this.waiting.delete(ev.xid);
          w?.failed(ev.xid, ev.error);
          break;
        }
        case 'switch_error':
          if (!this.programmer.errorReceived(ev.msg)) {
            this.limitedLog?.warn({ dpid: this.dpid, errorType: ev.msg.errorType, code: ev.msg.code }, 'switch reported an error');
            this.emit('protocol_error', ev.msg);
          }
          break;
        case 'malformed':
          this.limitedLog?.warn({ dpid: this.dpid, address: this.address, code: ev.error.code, err: ev.error.message }, 'malformed OpenFlow message');
          this.emit('protocol_error', ev.error);
          break;
        case 'configured':
          this.installTableMiss();
          break;
        case 'ready':
          this.limitedLog?.info({ dpid: this.dpid, address: this.address, ports: this.m.ports.size, meters: this.m.meters !== undefined }, 'switch ready');
          this.emit('ready');
          break;
        case 'closed':
          this.onClosed(ev.reason);
          break;
      }
    }
  }

  private installTableMiss(): void {
    const meters = this.m.meters;
    this.submitTableMiss(meters).then(
      () => this.input({ kind: 'programmed' }),
      async (err: Error) => {
        // A switch that describes meters but refuses ours still gets a table-miss entry, unmetered,
        // rather than a handshake that fails on every reconnect.
        if (!(err instanceof SwitchRequestError) || meters === undefined) throw err;
        this.log?.warn({ dpid: this.dpid, errorType: err.error.errorType, code: err.error.code }, 'switch refused the metered table-miss entry: installing it unmetered');
        await this.submitTableMiss(undefined);
        this.input({ kind: 'programmed' });
      },
    ).catch((err: Error) => this.close(`handshake failed: ${err.message}`));
  }

  private submitTableMiss(meters: MeterFeatures | undefined): Promise<void> {
    let msgs: Outgoing[];
    try {
      msgs = this.tableMiss(meters);
    } catch (err) {
      return Promise.reject(new Error(`table-miss entry: ${(err as Error).message}`));
    }
    return this.programmer.submit(msgs);
  }

  private onClosed(reason: string): void {
    this.stopTimer();
    this.programmer.close(reason);
    // The machine failed its own pending requests; anything left here lost its reply with the connection.
    for (const [xid, w] of this.waiting) w.failed(xid, new SessionClosedError(`session closed (${reason}) before the reply to xid ${xid}`));
    this.waiting.clear();
    this.socket.end();
    this.socket.destroySoon();
    this.limitedLog?.info({ dpid: this.dpid, address: this.address, reason }, 'switch session closed');
    this.emit('close', reason);
  }

  /** Writes what the step or a caller produced; the step's last words (an error before closing) included. */
  private writeOne(msg: OfMessage): void {
    if (this.socket.destroyed) return;
    if (msg.type === 'flow_mod') this.m.counters.flowMods++;
    this.m.counters.tx++;
    this.socket.write(encode(msg));
    this.checkBacklog();
  }
}
