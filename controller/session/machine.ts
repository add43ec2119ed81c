// One switch connection as a step: (state, input, now) → { state, output, events }. It frames the
// byte stream, runs the handshake (hello → features → config → ready), answers echoes, watches
// liveness from `now`, and matches replies to waiting requests by xid, with REPLY_MORE reassembly
// and deadlines kept as data. It never touches a socket, a timer or a promise: the adapter
// (session.ts) writes `output`, acts on `events` and feeds it ticks.
//
// The step updates the state it is given and returns it. A session's state has one owner, and
// copying it per frame (pending requests, ports, the framer) would make every packet-in pay for it.
import {
  decode,
  FrameReader,
  OpenFlowError,
  OFP_VERSION,
  OFPT_HELLO,
  OFPT_PACKET_IN,
  OFPET_HELLO_FAILED,
  OFPHFC_INCOMPATIBLE,
  OFPET_BAD_REQUEST,
  OFPBRC_BAD_VERSION,
  OFPMPF_REPLY_MORE,
  OFPCML_NO_BUFFER,
  OFPPR_DELETE,
} from 'openflow-ts';
import type { ErrorMsg, FeaturesReply, FlowRemoved, OfMessage, PacketIn, Port, PortStatus } from 'openflow-ts';
import { formatDpid } from '../dpid.ts';
import { expectationOf, mismatch, type AnyRequest, type Expectation, type MeterFeatures, type MultipartReplyBody } from './requests.ts';
import { SessionClosedError, SwitchRequestError, SwitchTimeoutError, UnexpectedReplyError } from './errors.ts';

export type SessionState = 'hello' | 'features' | 'config' | 'ready' | 'closed';

/** Decides, before decoding, whether a switch's PACKET_IN is worth the work (a token bucket, say). */
export interface PacketInGate {
  /** `frame` is the raw PACKET_IN, for a gate that tells LLDP from the rest without decoding. */
  admit(dpid: string, now: number, frame: Buffer): boolean;
}

export interface MachineSettings {
  /** A silent switch is probed with an echo after this long, and dead after three times it. */
  readonly echoIntervalMs: number;
  readonly requestTimeoutMs: number;
  /** Asked for every PACKET_IN once the switch's dpid is known; refused frames are dropped undecoded. */
  readonly admission?: PacketInGate | undefined;
}

export interface SessionCounters {
  rx: number;
  tx: number;
  malformed: number;
  packetIns: number;
  /** PACKET_INs that admission refused (dropped before decoding). */
  packetInsRefused: number;
  flowMods: number;
}

/** Who waits for a reply: a caller of the adapter, or a step of the handshake. */
type Purpose = 'caller' | 'features' | 'ports' | 'meters' | 'fence';

interface Pending {
  readonly purpose: Purpose;
  readonly expect: Expectation;
  readonly deadline: number;
  /** Multipart parts received so far (REPLY_MORE). */
  parts: MultipartReplyBody[] | undefined;
}

export interface MachineState {
  phase: SessionState;
  readonly settings: MachineSettings;
  datapathId: bigint;
  /** datapathId as 16 hex digits, kept so that admission needs no formatting per frame. */
  dpid: string;
  features: FeaturesReply | undefined;
  readonly ports: Map<number, Port>;
  /** The switch's meter features; undefined when it has none or did not say. */
  meters: MeterFeatures | undefined;
  /** Handshake parts still awaited in the config phase. */
  awaiting: { ports: boolean; meters: boolean; configured: boolean };
  nextXid: number;
  /** Waiting requests by xid; insertion order is deadline order (one timeout for all). */
  readonly pending: Map<number, Pending>;
  lastRx: number;
  lastProbe: number;
  /** Liveness checks that found the switch silent since it last sent a byte. */
  probes: number;
  readonly reader: FrameReader;
  /** The first bytes, until the opening header can be checked. */
  opening: Buffer | undefined;
  readonly counters: SessionCounters;
}

export type MachineInput =
  | { readonly kind: 'data'; readonly chunk: Buffer }
  | { readonly kind: 'tick' }
  /** A request numbered `xid` (see allocXids). `written`: the caller puts it on the wire itself (in a batch). */
  | { readonly kind: 'request'; readonly xid: number; readonly msg: AnyRequest; readonly written?: boolean }
  /** The table-miss entry that the `configured` event asked for is in place. */
  | { readonly kind: 'programmed' }
  | { readonly kind: 'close'; readonly reason: string };

export type MachineEvent =
  /** Features, ports and meter features are known: the table-miss entry can go in, then `programmed`. */
  | { readonly kind: 'configured' }
  | { readonly kind: 'ready' }
  | { readonly kind: 'packet_in'; readonly msg: PacketIn }
  | { readonly kind: 'port_status'; readonly msg: PortStatus }
  | { readonly kind: 'flow_removed'; readonly msg: FlowRemoved }
  | { readonly kind: 'reply'; readonly xid: number; readonly reply: OfMessage | readonly MultipartReplyBody[] }
  | { readonly kind: 'failed'; readonly xid: number; readonly error: Error }
  /** An OFPT_ERROR that no request of the machine waits for (a programmed message's, say). */
  | { readonly kind: 'switch_error'; readonly msg: ErrorMsg }
  | { readonly kind: 'malformed'; readonly error: OpenFlowError }
  | { readonly kind: 'closed'; readonly reason: string };

export interface Step {
  readonly state: MachineState;
  /** Messages to write now, in order, before anything the adapter has queued. */
  readonly output: OfMessage[];
  readonly events: MachineEvent[];
}

/** A new connection: the state, and the HELLO to send. */
export function start(settings: MachineSettings, now: number): Step {
  const state: MachineState = {
    phase: 'hello',
    settings,
    datapathId: 0n,
    dpid: formatDpid(0n),
    features: undefined,
    ports: new Map(),
    meters: undefined,
    awaiting: { ports: true, meters: true, configured: true },
    nextXid: 1,
    pending: new Map(),
    lastRx: now,
    lastProbe: now,
    probes: 0,
    reader: new FrameReader(),
    opening: Buffer.alloc(0),
    counters: { rx: 0, tx: 0, malformed: 0, packetIns: 0, packetInsRefused: 0, flowMods: 0 },
  };
  const out = step0(state, now);
  out.output.push({ type: 'hello', xid: allocXids(state, 1), elements: [{ type: 'versionbitmap', versions: [OFP_VERSION] }] });
  return out;
}

/**
 * Reserves n consecutive xids and returns the first. A range never wraps past 0xffffffff (it starts
 * again at 1), so a batch's xids are first .. first + n - 1.
 */
export function allocXids(state: MachineState, n: number): number {
  if (state.nextXid + n - 1 > 0xffffffff) state.nextXid = 1;
  const first = state.nextXid;
  state.nextXid += n;
  if (state.nextXid > 0xffffffff) state.nextXid = 1;
  return first;
}

export function step(state: MachineState, input: MachineInput, now: number): Step {
  const out = step0(state, now);
  if (state.phase === 'closed') return out;
  switch (input.kind) {
    case 'data':
      onData(out, input.chunk, now);
      break;
    case 'tick':
      onTick(out, now);
      break;
    case 'request':
      state.pending.set(input.xid, { purpose: 'caller', expect: expectationOf(input.msg), deadline: now + state.settings.requestTimeoutMs, parts: undefined });
      if (!input.written) out.output.push({ ...input.msg, xid: input.xid } as OfMessage);
      break;
    case 'programmed':
      if (state.phase === 'config' && !state.awaiting.configured) {
        state.phase = 'ready';
        out.events.push({ kind: 'ready' });
      }
      break;
    case 'close':
      close(out, input.reason);
      break;
  }
  return out;
}

/** The step being built; `now` rides along so that every helper dates what it starts. */
interface Out {
  readonly state: MachineState;
  readonly output: OfMessage[];
  readonly events: MachineEvent[];
  readonly now: number;
}

const step0 = (state: MachineState, now: number): Out => ({ state, output: [], events: [], now });

function close(out: Out, reason: string): void {
  const s = out.state;
  if (s.phase === 'closed') return;
  s.phase = 'closed';
  for (const [xid, p] of s.pending) {
    if (p.purpose === 'caller') out.events.push({ kind: 'failed', xid, error: new SessionClosedError(`session closed (${reason}) before the reply to xid ${xid}`) });
  }
  s.pending.clear();
  out.events.push({ kind: 'closed', reason });
}

function malformed(out: Out, err: unknown): void {
  out.state.counters.malformed++;
  const e = err instanceof OpenFlowError ? err : new OpenFlowError('OF_ERR_INTERNAL', String(err));
  out.events.push({ kind: 'malformed', error: e });
}

// ---- receiving ------------------------------------------------------------------------------

function onData(out: Out, chunk: Buffer, now: number): void {
  const s = out.state;
  // Any byte is life: a switch busy sending packet-ins is not silent, whatever its echo replies do.
  s.lastRx = now;
  s.probes = 0;
  if (s.opening !== undefined && !checkOpening(out, chunk)) return;
  let frames: Buffer[];
  try {
    frames = s.reader.push(chunk);
  } catch (err) {
    // A bad length field loses the message boundaries: the stream cannot be trusted after it.
    malformed(out, err);
    close(out, `unframeable stream: ${(err as Error).message}`);
    return;
  }
  for (let i = 0; i < frames.length; i++) {
    if (s.phase === 'closed') return;
    onFrame(out, frames[i]!, now);
  }
}

/**
 * A peer must open with HELLO. Checking the first header as soon as its type byte arrives drops a
 * peer speaking another protocol at once, instead of waiting for a "message" its garbage length announces.
 */
function checkOpening(out: Out, chunk: Buffer): boolean {
  const s = out.state;
  const opening = Buffer.concat([s.opening ?? Buffer.alloc(0), chunk.subarray(0, 8 - (s.opening?.length ?? 0))]);
  s.opening = opening.length >= 8 ? undefined : opening;
  const type = opening[1];
  const length = opening.length >= 4 ? opening.readUInt16BE(2) : 8;
  if ((type !== undefined && type !== OFPT_HELLO) || length < 8) {
    malformed(out, new OpenFlowError('OF_ERR_NO_HELLO', 'peer did not open with an OpenFlow HELLO'));
    close(out, 'peer did not open with an OpenFlow HELLO');
    return false;
  }
  return true;
}

function onFrame(out: Out, frame: Buffer, now: number): void {
  const s = out.state;
  s.counters.rx++;
  if (s.phase === 'hello') {
    onHello(out, frame);
    return;
  }
  if (frame[0] !== OFP_VERSION) {
    s.counters.malformed++;
    out.output.push(errorFor(frame, OFPET_BAD_REQUEST, OFPBRC_BAD_VERSION));
    return;
  }
  // Admission looks at the type byte only: a refused packet-in costs no decoding.
  if (frame[1] === OFPT_PACKET_IN && s.settings.admission !== undefined && s.features !== undefined && !s.settings.admission.admit(s.dpid, now, frame)) {
    s.counters.packetInsRefused++;
    return;
  }
  let msg: OfMessage;
  try {
    msg = decode(frame);
  } catch (err) {
    malformed(out, err);
    if (err instanceof OpenFlowError && err.ofpError) out.output.push(errorFor(frame, err.ofpError.type, err.ofpError.code));
    return;
  }
  dispatch(out, msg);
}

function onHello(out: Out, frame: Buffer): void {
  const s = out.state;
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
    malformed(out, err);
    close(out, 'malformed HELLO');
    return;
  }
  if (!versions.includes(OFP_VERSION)) {
    out.output.push({
      type: 'error',
      xid: frame.readUInt32BE(4),
      errorType: OFPET_HELLO_FAILED,
      code: OFPHFC_INCOMPATIBLE,
      data: Buffer.from(`meshflow speaks OpenFlow 1.3 (0x04) only; peer offered ${versions.join(',')}`),
    });
    close(out, `incompatible OpenFlow version (peer offers ${versions.join(',')})`);
    return;
  }
  s.phase = 'features';
  internal(out, 'features', { type: 'features_request' });
}

/** Sends a request whose reply the handshake consumes itself. */
function internal(out: Out, purpose: Purpose, msg: AnyRequest): void {
  const s = out.state;
  const xid = allocXids(s, 1);
  s.pending.set(xid, { purpose, expect: expectationOf(msg), deadline: out.now + s.settings.requestTimeoutMs, parts: undefined });
  out.output.push({ ...msg, xid } as OfMessage);
}

function dispatch(out: Out, msg: OfMessage): void {
  const s = out.state;
  switch (msg.type) {
    case 'echo_request':
      out.output.push({ type: 'echo_reply', xid: msg.xid, data: msg.data });
      return;
    case 'packet_in':
      s.counters.packetIns++;
      out.events.push({ kind: 'packet_in', msg });
      return;
    case 'port_status':
      if (msg.reason === OFPPR_DELETE) s.ports.delete(msg.port.portNo);
      else s.ports.set(msg.port.portNo, msg.port);
      out.events.push({ kind: 'port_status', msg });
      return;
    case 'flow_removed':
      out.events.push({ kind: 'flow_removed', msg });
      return;
    case 'error': {
      const p = s.pending.get(msg.xid);
      if (p === undefined) {
        out.events.push({ kind: 'switch_error', msg });
        return;
      }
      s.pending.delete(msg.xid);
      failed(out, msg.xid, p, new SwitchRequestError(msg));
      return;
    }
    case 'multipart_reply': {
      const p = s.pending.get(msg.xid);
      if (p === undefined) return;
      const wrong = mismatch(p.expect, msg);
      if (wrong !== undefined) {
        s.pending.delete(msg.xid);
        failed(out, msg.xid, p, new UnexpectedReplyError(`switch ${s.dpid}, xid ${msg.xid}: ${wrong}`));
        return;
      }
      (p.parts ??= []).push(msg.body);
      if ((msg.flags & OFPMPF_REPLY_MORE) === 0) {
        s.pending.delete(msg.xid);
        replied(out, msg.xid, p, p.parts);
      }
      return;
    }
    default: {
      // Replies to requests (echo, features, barrier, config, role, async, queue config); an
      // unsolicited one (the answer to a liveness probe) has done its work by arriving.
      const p = s.pending.get(msg.xid);
      if (p === undefined) return;
      s.pending.delete(msg.xid);
      const wrong = mismatch(p.expect, msg);
      if (wrong !== undefined) failed(out, msg.xid, p, new UnexpectedReplyError(`switch ${s.dpid}, xid ${msg.xid}: ${wrong}`));
      else replied(out, msg.xid, p, msg);
    }
  }
}

function replied(out: Out, xid: number, p: Pending, reply: OfMessage | MultipartReplyBody[]): void {
  const s = out.state;
  switch (p.purpose) {
    case 'caller':
      out.events.push({ kind: 'reply', xid, reply });
      return;
    case 'features': {
      if (Array.isArray(reply) || reply.type !== 'features_reply') return;
      s.features = reply;
      s.datapathId = reply.datapathId;
      s.dpid = formatDpid(reply.datapathId);
      s.phase = 'config';
      out.output.push({ type: 'set_config', xid: allocXids(s, 1), flags: 0, missSendLen: OFPCML_NO_BUFFER });
      internal(out, 'ports', { type: 'multipart_request', flags: 0, body: { kind: 'port_desc' } });
      internal(out, 'meters', { type: 'multipart_request', flags: 0, body: { kind: 'meter_features' } });
      // A switch answers whatever it answers before the barrier's reply: one that leaves meter
      // features unanswered has none, and the handshake need not wait out a timeout to learn it.
      internal(out, 'fence', { type: 'barrier_request' });
      return;
    }
    case 'ports':
      if (Array.isArray(reply)) for (const part of reply) if (part.kind === 'port_desc') for (const port of part.ports) s.ports.set(port.portNo, port);
      s.awaiting.ports = false;
      configured(out);
      return;
    case 'meters': {
      const part = Array.isArray(reply) ? reply[0] : undefined;
      s.meters = part?.kind === 'meter_features' && part.maxMeter > 0 ? part : undefined;
      s.awaiting.meters = false;
      configured(out);
      return;
    }
    case 'fence':
      if (s.awaiting.meters) {
        for (const [xid, q] of s.pending) if (q.purpose === 'meters') s.pending.delete(xid);
        s.awaiting.meters = false;
      }
      configured(out);
  }
}

function configured(out: Out): void {
  const s = out.state;
  if (s.phase !== 'config' || s.awaiting.ports || s.awaiting.meters || !s.awaiting.configured) return;
  s.awaiting.configured = false;
  out.events.push({ kind: 'configured' });
}

function failed(out: Out, xid: number, p: Pending, error: Error): void {
  const s = out.state;
  switch (p.purpose) {
    case 'caller':
      out.events.push({ kind: 'failed', xid, error });
      return;
    case 'meters':
      // A switch that refuses to describe meters has none to offer.
      s.meters = undefined;
      s.awaiting.meters = false;
      configured(out);
      return;
    default:
      close(out, `handshake failed: ${error.message}`);
  }
}

// ---- time -----------------------------------------------------------------------------------

function onTick(out: Out, now: number): void {
  const s = out.state;
  // Deadlines come in insertion order, so the expired requests are a prefix of the map.
  for (const [xid, p] of s.pending) {
    if (p.deadline > now) break;
    s.pending.delete(xid);
    failed(out, xid, p, new SwitchTimeoutError(`no reply from switch ${s.dpid} to xid ${xid} within ${s.settings.requestTimeoutMs} ms`));
    if (s.phase === 'closed') return;
  }
  const interval = s.settings.echoIntervalMs;
  const silent = now - s.lastRx;
  if (silent < interval) return;
  // Dead only after two checks of ours found it silent: after the event loop stalled, bytes may be
  // waiting unread in the socket, and one late check must not blame the switch for our delay.
  if (silent >= 3 * interval && s.probes >= 2) {
    close(out, `no message for ${silent} ms (echo timeout)`);
    return;
  }
  if (now - s.lastProbe < interval && s.probes > 0) return;
  s.probes++;
  s.lastProbe = now;
  if (s.phase !== 'hello') out.output.push({ type: 'echo_request', xid: allocXids(s, 1), data: Buffer.alloc(0) });
}

function errorFor(frame: Buffer, errorType: number, code: number): OfMessage {
  return {
    type: 'error',
    xid: frame.length >= 8 ? frame.readUInt32BE(4) : 0,
    errorType,
    code,
    // The spec asks for at least the first 64 bytes of the offending message.
    data: Buffer.from(frame.subarray(0, 64)),
  };
}
