// The message union and the top-level decode/encode (spec 7.1-7.5). Decode looks the
// description up by wire code, encode by tag; each description (in its family file) holds
// size, read and write side by side. Encode computes the total length first, allocates
// once, and writes in one pass.
import { MESSAGE_TYPE_NAMES, OFP_HEADER_LEN, OFP_VERSION, OFPT_HELLO, type MessageTypeName } from '../constants.ts';
import { asOpenFlowError, badLength, badType, badVersion, encodeError, OpenFlowError } from '../errors.ts';
import { allocZeroed, Reader, Writer } from '../wire.ts';
import type { MessageCodec } from './codec.ts';
import * as flow from './flow.ts';
import * as groupMeter from './group-meter.ts';
import * as multipart from './multipart.ts';
import * as switchConfig from './switch-config.ts';
import * as symmetric from './symmetric.ts';

export type { Hello, HelloElement, ErrorMsg, EchoRequest, EchoReply, Experimenter } from './symmetric.ts';
export type {
  FeaturesRequest,
  FeaturesReply,
  GetConfigRequest,
  GetConfigReply,
  SetConfig,
  PortStatus,
  PortMod,
  TableMod,
  BarrierRequest,
  BarrierReply,
  QueueGetConfigRequest,
  QueueGetConfigReply,
  RoleRequest,
  RoleReply,
  GetAsyncRequest,
  AsyncConfig,
  GetAsyncReply,
  SetAsync,
} from './switch-config.ts';
export type { PacketIn, FlowRemoved, PacketOut, FlowMod } from './flow.ts';
export type { GroupMod, MeterMod } from './group-meter.ts';
export type { MultipartRequest, MultipartReply } from './multipart.ts';
export type { MessageCodec, MessageBase } from './codec.ts';

/** Every OpenFlow 1.3 message, one entry each, keyed by tag. */
export const MESSAGE_CODECS = {
  hello: symmetric.hello,
  error: symmetric.error,
  echo_request: symmetric.echoRequest,
  echo_reply: symmetric.echoReply,
  experimenter: symmetric.experimenter,
  features_request: switchConfig.featuresRequest,
  features_reply: switchConfig.featuresReply,
  get_config_request: switchConfig.getConfigRequest,
  get_config_reply: switchConfig.getConfigReply,
  set_config: switchConfig.setConfig,
  packet_in: flow.packetIn,
  flow_removed: flow.flowRemoved,
  port_status: switchConfig.portStatus,
  packet_out: flow.packetOut,
  flow_mod: flow.flowMod,
  group_mod: groupMeter.groupMod,
  port_mod: switchConfig.portMod,
  table_mod: switchConfig.tableMod,
  multipart_request: multipart.multipartRequest,
  multipart_reply: multipart.multipartReply,
  barrier_request: switchConfig.barrierRequest,
  barrier_reply: switchConfig.barrierReply,
  queue_get_config_request: switchConfig.queueGetConfigRequest,
  queue_get_config_reply: switchConfig.queueGetConfigReply,
  role_request: switchConfig.roleRequest,
  role_reply: switchConfig.roleReply,
  get_async_request: switchConfig.getAsyncRequest,
  get_async_reply: switchConfig.getAsyncReply,
  set_async: switchConfig.setAsync,
  meter_mod: groupMeter.meterMod,
} as const;

type CodecOf<T extends keyof typeof MESSAGE_CODECS> = (typeof MESSAGE_CODECS)[T];
type MessageIn<C> = C extends MessageCodec<infer M> ? M : never;

/** Every OpenFlow 1.3 message, tagged by `type`. */
export type OfMessage =
  | symmetric.Hello
  | symmetric.ErrorMsg
  | symmetric.EchoRequest
  | symmetric.EchoReply
  | symmetric.Experimenter
  | switchConfig.FeaturesRequest
  | switchConfig.FeaturesReply
  | switchConfig.GetConfigRequest
  | switchConfig.GetConfigReply
  | switchConfig.SetConfig
  | flow.PacketIn
  | flow.FlowRemoved
  | switchConfig.PortStatus
  | flow.PacketOut
  | flow.FlowMod
  | groupMeter.GroupMod
  | switchConfig.PortMod
  | switchConfig.TableMod
  | multipart.MultipartRequest
  | multipart.MultipartReply
  | switchConfig.BarrierRequest
  | switchConfig.BarrierReply
  | switchConfig.QueueGetConfigRequest
  | switchConfig.QueueGetConfigReply
  | switchConfig.RoleRequest
  | switchConfig.RoleReply
  | switchConfig.GetAsyncRequest
  | switchConfig.GetAsyncReply
  | switchConfig.SetAsync
  | groupMeter.MeterMod;
export type OfMessageType = OfMessage['type'];
/** The member of the union with tag T. */
export type MessageOf<T extends OfMessageType> = Extract<OfMessage, { type: T }>;

// Compile-time checks: the union is exactly what the table describes, and its tags are
// exactly the OFPT names table.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Described = { [T in keyof typeof MESSAGE_CODECS]: MessageIn<CodecOf<T>> }[keyof typeof MESSAGE_CODECS];
const unionMatchesTable: Same<OfMessage, Described> = true;
const tagsMatch: Same<OfMessageType, MessageTypeName> = true;
void unionMatchesTable;
void tagsMatch;

// The tables see every entry as a codec of the whole union; method parameters are
// bivariant, so this widening is checked by the compiler, not forced.
const BY_TAG: Readonly<Record<OfMessageType, MessageCodec<OfMessage>>> = MESSAGE_CODECS;
const BY_CODE: readonly (MessageCodec<OfMessage> | undefined)[] = (() => {
  const table: (MessageCodec<OfMessage> | undefined)[] = [];
  for (const c of Object.values(BY_TAG)) {
    // Each entry's code must be its tag's OFPT position; checked once, at load.
    if (MESSAGE_TYPE_NAMES[c.code] !== c.tag || table[c.code] !== undefined) throw new Error(`openflow-ts: entry ${c.tag} has code ${c.code}`);
    table[c.code] = c;
  }
  return table;
})();

// ---- decode --------------------------------------------------------------------------

/**
 * Decodes one whole message, header included. Throws OpenFlowError, and nothing else, on
 * anything malformed. Binary fields (data, raw payloads) are views into `frame`.
 */
export function decode(frame: Buffer): OfMessage {
  let xid: number | undefined;
  try {
    if (frame.length < OFP_HEADER_LEN) throw badLength(`frame of ${frame.length} bytes is shorter than the header`);
    const version = frame[0]!;
    const type = frame[1]!;
    const length = (frame[2]! << 8) | frame[3]!;
    xid = frame.readUInt32BE(4);
    if (length !== frame.length) throw badLength(`header says ${length} bytes, frame has ${frame.length}`);
    // Hello's layout is the same in every version, so the session can negotiate from it.
    if (version !== OFP_VERSION && type !== OFPT_HELLO) throw badVersion(version);
    const codec = BY_CODE[type];
    if (codec === undefined) throw badType(type);
    return codec.read(new Reader(frame, OFP_HEADER_LEN, length), xid);
  } catch (e) {
    const err = asOpenFlowError(e);
    if (xid !== undefined && err.xid === undefined) err.xid = xid;
    throw err;
  }
}

// ---- encode --------------------------------------------------------------------------

/** A message as a sender builds it: the connection numbers it (assigns the xid). */
export type Unnumbered = OfMessage extends infer M ? (M extends OfMessage ? Omit<M, 'xid'> : never) : never;

function writeMessage(w: Writer, codec: MessageCodec<OfMessage>, m: OfMessage, length: number, xid: number): void {
  const end = w.pos + length;
  w.u8(OFP_VERSION);
  w.u8(codec.code);
  w.u16(length);
  w.u32(xid);
  codec.write(w, m);
  if (w.pos !== end) throw new OpenFlowError('OF_ERR_INTERNAL', `wrote ${w.pos - end + length} of ${length} bytes`);
}

function lengthOf(codec: MessageCodec<OfMessage>, m: OfMessage): number {
  const length = OFP_HEADER_LEN + codec.size(m);
  if (length > 0xffff) throw encodeError(`message of ${length} bytes exceeds 65535`);
  return length;
}

function codecFor(m: { readonly type: OfMessageType }): MessageCodec<OfMessage> {
  const codec = BY_TAG[m.type];
  if (codec === undefined) throw encodeError(`unknown message type ${String(m.type)}`);
  return codec;
}

const batchSizes: number[] = [];

/**
 * Encodes messages back to back into one buffer, the i-th with xid firstXid + i: a batch for one
 * socket write, without a buffer per message. Throws like encode().
 */
export function encodeAll(msgs: readonly Unnumbered[], firstXid: number): Buffer {
  try {
    let total = 0;
    for (let i = 0; i < msgs.length; i++) {
      // The body writers never read the xid: the header carries it.
      const m = msgs[i] as OfMessage;
      batchSizes[i] = lengthOf(codecFor(m), m);
      total += batchSizes[i]!;
    }
    const w = new Writer(allocZeroed(total));
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i] as OfMessage;
      writeMessage(w, codecFor(m), m, batchSizes[i]!, (firstXid + i) >>> 0);
    }
    return w.buf;
  } catch (e) {
    if (e instanceof OpenFlowError) throw e;
    throw encodeError(e instanceof Error ? e.message : String(e), e);
  }
}

/**
 * Encodes one message with version 0x04. Pure: lengths and padding are computed here.
 * Throws OpenFlowError ('OF_ERR_ENCODE') for values that cannot be put on the wire.
 */
export function encode(msg: OfMessage): Buffer {
  try {
    const codec = codecFor(msg);
    const length = lengthOf(codec, msg);
    const w = new Writer(allocZeroed(length));
    writeMessage(w, codec, msg, length, msg.xid);
    return w.buf;
  } catch (e) {
    if (e instanceof OpenFlowError) throw e;
    throw encodeError(e instanceof Error ? e.message : String(e), e);
  }
}
