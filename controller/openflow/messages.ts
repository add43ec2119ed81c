// The message union and the top-level decode/encode dispatch (spec 7.1-7.5). Each message
// type has a reader and a size+writer pair beside it; encode computes the total length
// first, allocates once, and writes in one pass.
import {
  MESSAGE_TYPE_NAMES,
  OFP_HEADER_LEN,
  OFP_VERSION,
  OFPET_EXPERIMENTER,
  OFPHET_VERSIONBITMAP,
  OFPT_HELLO,
  type MessageTypeName,
} from './constants.ts';
import { asOpenFlowError, badLength, badProperty, badType, badVersion, encodeError, OpenFlowError } from './errors.ts';
import { actionsSize, readActions, writeActions, type Action } from './actions.ts';
import { bucketsSize, readBuckets, writeBuckets, type Bucket } from './group.ts';
import { instructionsSize, readInstructions, writeInstructions, type Instruction } from './instructions.ts';
import { bandsSize, readBands, writeBands, type MeterBand } from './meter.ts';
import {
  multipartCode,
  multipartReplyBodySize,
  multipartRequestBodySize,
  readMultipartReplyBody,
  readMultipartRequestBody,
  writeMultipartReplyBody,
  writeMultipartRequestBody,
  type MultipartReplyBody,
  type MultipartRequestBody,
} from './multipart.ts';
import { matchLength, readMatch, writeMatch, type Match } from './oxm.ts';
import { OFP_PORT_LEN, readPort, writePort, type Port } from './port.ts';
import { queuesSize, readQueues, writeQueues, type PacketQueue } from './queue.ts';
import { allocZeroed, pad8, Reader, Writer } from './wire.ts';

// ---- message types -------------------------------------------------------------------

export type HelloElement =
  | { readonly type: 'versionbitmap'; readonly versions: readonly number[] }
  | { readonly type: 'unknown'; readonly elementType: number; readonly data: Buffer };

export interface Hello { readonly type: 'hello'; readonly xid: number; readonly elements: readonly HelloElement[] }

/**
 * OFPT_ERROR. For experimenter errors (errorType 0xffff) `code` holds the 16-bit exp_code
 * that sits in the same wire slot, and `experimenter` the experimenter id; it is absent
 * on every other error.
 */
export interface ErrorMsg {
  readonly type: 'error';
  readonly xid: number;
  readonly errorType: number;
  readonly code: number;
  readonly experimenter?: number;
  readonly data: Buffer;
}

export interface EchoRequest { readonly type: 'echo_request'; readonly xid: number; readonly data: Buffer }
export interface EchoReply { readonly type: 'echo_reply'; readonly xid: number; readonly data: Buffer }
export interface Experimenter {
  readonly type: 'experimenter';
  readonly xid: number;
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Buffer;
}
export interface FeaturesRequest { readonly type: 'features_request'; readonly xid: number }
export interface FeaturesReply {
  readonly type: 'features_reply';
  readonly xid: number;
  readonly datapathId: bigint;
  readonly nBuffers: number;
  readonly nTables: number;
  readonly auxiliaryId: number;
  readonly capabilities: number;
}
export interface GetConfigRequest { readonly type: 'get_config_request'; readonly xid: number }
export interface GetConfigReply { readonly type: 'get_config_reply'; readonly xid: number; readonly flags: number; readonly missSendLen: number }
export interface SetConfig { readonly type: 'set_config'; readonly xid: number; readonly flags: number; readonly missSendLen: number }
export interface PacketIn {
  readonly type: 'packet_in';
  readonly xid: number;
  readonly bufferId: number;
  readonly totalLen: number;
  readonly reason: number;
  readonly tableId: number;
  readonly cookie: bigint;
  readonly match: Match;
  /** A view into the decoded frame, not a copy. */
  readonly data: Buffer;
}
export interface FlowRemoved {
  readonly type: 'flow_removed';
  readonly xid: number;
  readonly cookie: bigint;
  readonly priority: number;
  readonly reason: number;
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
}
export interface PortStatus { readonly type: 'port_status'; readonly xid: number; readonly reason: number; readonly port: Port }
export interface PacketOut {
  readonly type: 'packet_out';
  readonly xid: number;
  readonly bufferId: number;
  readonly inPort: number;
  readonly actions: readonly Action[];
  readonly data: Buffer;
}
export interface FlowMod {
  readonly type: 'flow_mod';
  readonly xid: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly tableId: number;
  readonly command: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly priority: number;
  readonly bufferId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly flags: number;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}
export interface GroupMod {
  readonly type: 'group_mod';
  readonly xid: number;
  readonly command: number;
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}
export interface PortMod {
  readonly type: 'port_mod';
  readonly xid: number;
  readonly portNo: number;
  readonly hwAddr: string;
  readonly config: number;
  readonly mask: number;
  readonly advertise: number;
}
export interface TableMod { readonly type: 'table_mod'; readonly xid: number; readonly tableId: number; readonly config: number }
export interface MultipartRequest {
  readonly type: 'multipart_request';
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartRequestBody;
}
export interface MultipartReply {
  readonly type: 'multipart_reply';
  readonly xid: number;
  readonly flags: number;
  readonly body: MultipartReplyBody;
}
export interface BarrierRequest { readonly type: 'barrier_request'; readonly xid: number }
export interface BarrierReply { readonly type: 'barrier_reply'; readonly xid: number }
export interface QueueGetConfigRequest { readonly type: 'queue_get_config_request'; readonly xid: number; readonly port: number }
export interface QueueGetConfigReply {
  readonly type: 'queue_get_config_reply';
  readonly xid: number;
  readonly port: number;
  readonly queues: readonly PacketQueue[];
}
export interface RoleRequest { readonly type: 'role_request'; readonly xid: number; readonly role: number; readonly generationId: bigint }
export interface RoleReply { readonly type: 'role_reply'; readonly xid: number; readonly role: number; readonly generationId: bigint }
export interface GetAsyncRequest { readonly type: 'get_async_request'; readonly xid: number }
/** Each mask pair is [master/equal role, slave role]. */
export interface AsyncConfig {
  readonly packetInMask: readonly [number, number];
  readonly portStatusMask: readonly [number, number];
  readonly flowRemovedMask: readonly [number, number];
}
export interface GetAsyncReply extends AsyncConfig { readonly type: 'get_async_reply'; readonly xid: number }
export interface SetAsync extends AsyncConfig { readonly type: 'set_async'; readonly xid: number }
export interface MeterMod {
  readonly type: 'meter_mod';
  readonly xid: number;
  readonly command: number;
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export type OfMessage =
  | Hello
  | ErrorMsg
  | EchoRequest
  | EchoReply
  | Experimenter
  | FeaturesRequest
  | FeaturesReply
  | GetConfigRequest
  | GetConfigReply
  | SetConfig
  | PacketIn
  | FlowRemoved
  | PortStatus
  | PacketOut
  | FlowMod
  | GroupMod
  | PortMod
  | TableMod
  | MultipartRequest
  | MultipartReply
  | BarrierRequest
  | BarrierReply
  | QueueGetConfigRequest
  | QueueGetConfigReply
  | RoleRequest
  | RoleReply
  | GetAsyncRequest
  | GetAsyncReply
  | SetAsync
  | MeterMod;

export type OfMessageType = OfMessage['type'];
/** The member of the union with tag T. */
export type MessageOf<T extends OfMessageType> = Extract<OfMessage, { type: T }>;

// Compile-time check that the union's tags are exactly the OFPT names table.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const tagsMatch: Same<OfMessageType, MessageTypeName> = true;
void tagsMatch;

const CODE_BY_TAG = Object.fromEntries(MESSAGE_TYPE_NAMES.map((n, i) => [n, i])) as Record<OfMessageType, number>;

// ---- decode --------------------------------------------------------------------------

function expectBody(r: Reader, n: number, what: string): void {
  if (r.end - r.pos !== n) throw badLength(`${what} body is ${r.end - r.pos} bytes, wants ${n}`);
}

function readHelloElements(r: Reader): HelloElement[] {
  const out: HelloElement[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(4, 'hello element');
    const type = r.u16();
    const len = r.u16();
    if (len < 4 || start + len > r.end) throw badProperty(`hello element ${type} length ${len}`);
    if (type === OFPHET_VERSIONBITMAP) {
      if ((len - 4) % 4 !== 0) throw badProperty(`version bitmap length ${len}`);
      const versions: number[] = [];
      for (let word = 0; word < (len - 4) / 4; word++) {
        const bits = r.u32();
        for (let bit = 0; bit < 32; bit++) if ((bits >>> bit) & 1) versions.push(word * 32 + bit);
      }
      out.push({ type: 'versionbitmap', versions });
    } else {
      out.push({ type: 'unknown', elementType: type, data: r.bytes(len - 4) });
    }
    // Elements are padded to 8; a last element without its padding is tolerated.
    r.pos = Math.min(start + pad8(len), r.end);
  }
  return out;
}

const pairOf = (r: Reader): [number, number] => [r.u32(), r.u32()];

function readBody(r: Reader, type: number, xid: number): OfMessage {
  switch (type) {
    case 0:
      return { type: 'hello', xid, elements: readHelloElements(r) };
    case 1: {
      r.need(4, 'error');
      const errorType = r.u16();
      const code = r.u16();
      if (errorType === OFPET_EXPERIMENTER) {
        r.need(4, 'experimenter error');
        const experimenter = r.u32();
        return { type: 'error', xid, errorType, code, experimenter, data: r.rest() };
      }
      return { type: 'error', xid, errorType, code, data: r.rest() };
    }
    case 2:
      return { type: 'echo_request', xid, data: r.rest() };
    case 3:
      return { type: 'echo_reply', xid, data: r.rest() };
    case 4:
      r.need(8, 'experimenter');
      return { type: 'experimenter', xid, experimenter: r.u32(), expType: r.u32(), data: r.rest() };
    case 5:
      expectBody(r, 0, 'features_request');
      return { type: 'features_request', xid };
    case 6: {
      expectBody(r, 24, 'features_reply');
      const datapathId = r.u64();
      const nBuffers = r.u32();
      const nTables = r.u8();
      const auxiliaryId = r.u8();
      r.skip(2);
      const capabilities = r.u32();
      r.skip(4); // reserved
      return { type: 'features_reply', xid, datapathId, nBuffers, nTables, auxiliaryId, capabilities };
    }
    case 7:
      expectBody(r, 0, 'get_config_request');
      return { type: 'get_config_request', xid };
    case 8:
      expectBody(r, 4, 'get_config_reply');
      return { type: 'get_config_reply', xid, flags: r.u16(), missSendLen: r.u16() };
    case 9:
      expectBody(r, 4, 'set_config');
      return { type: 'set_config', xid, flags: r.u16(), missSendLen: r.u16() };
    case 10: {
      r.need(16, 'packet_in');
      const bufferId = r.u32();
      const totalLen = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const cookie = r.u64();
      const match = readMatch(r);
      r.skip(2);
      return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
    }
    case 11: {
      r.need(40, 'flow_removed');
      const cookie = r.u64();
      const priority = r.u16();
      const reason = r.u8();
      const tableId = r.u8();
      const durationSec = r.u32();
      const durationNsec = r.u32();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const packetCount = r.u64();
      const byteCount = r.u64();
      const match = readMatch(r);
      expectBody(r, 0, 'flow_removed');
      return {
        type: 'flow_removed', xid, cookie, priority, reason, tableId, durationSec, durationNsec,
        idleTimeout, hardTimeout, packetCount, byteCount, match,
      };
    }
    case 12: {
      expectBody(r, 8 + OFP_PORT_LEN, 'port_status');
      const reason = r.u8();
      r.skip(7);
      return { type: 'port_status', xid, reason, port: readPort(r) };
    }
    case 13: {
      r.need(16, 'packet_out');
      const bufferId = r.u32();
      const inPort = r.u32();
      const actionsLen = r.u16();
      r.skip(6);
      const actions = readActions(r, actionsLen);
      return { type: 'packet_out', xid, bufferId, inPort, actions, data: r.rest() };
    }
    case 14: {
      r.need(40, 'flow_mod');
      const cookie = r.u64();
      const cookieMask = r.u64();
      const tableId = r.u8();
      const command = r.u8();
      const idleTimeout = r.u16();
      const hardTimeout = r.u16();
      const priority = r.u16();
      const bufferId = r.u32();
      const outPort = r.u32();
      const outGroup = r.u32();
      const flags = r.u16();
      r.skip(2);
      const match = readMatch(r);
      const instructions = readInstructions(r, r.end - r.pos);
      return {
        type: 'flow_mod', xid, cookie, cookieMask, tableId, command, idleTimeout, hardTimeout, priority,
        bufferId, outPort, outGroup, flags, match, instructions,
      };
    }
    case 15: {
      r.need(8, 'group_mod');
      const command = r.u16();
      const groupType = r.u8();
      r.skip(1);
      const groupId = r.u32();
      return { type: 'group_mod', xid, command, groupType, groupId, buckets: readBuckets(r) };
    }
    case 16: {
      expectBody(r, 32, 'port_mod');
      const portNo = r.u32();
      r.skip(4);
      const hwAddr = r.mac();
      r.skip(2);
      const config = r.u32();
      const mask = r.u32();
      const advertise = r.u32();
      r.skip(4);
      return { type: 'port_mod', xid, portNo, hwAddr, config, mask, advertise };
    }
    case 17: {
      expectBody(r, 8, 'table_mod');
      const tableId = r.u8();
      r.skip(3);
      return { type: 'table_mod', xid, tableId, config: r.u32() };
    }
    case 18:
    case 19: {
      r.need(8, 'multipart header');
      const mpType = r.u16();
      const flags = r.u16();
      r.skip(4);
      return type === 18
        ? { type: 'multipart_request', xid, flags, body: readMultipartRequestBody(r, mpType) }
        : { type: 'multipart_reply', xid, flags, body: readMultipartReplyBody(r, mpType) };
    }
    case 20:
      expectBody(r, 0, 'barrier_request');
      return { type: 'barrier_request', xid };
    case 21:
      expectBody(r, 0, 'barrier_reply');
      return { type: 'barrier_reply', xid };
    case 22: {
      expectBody(r, 8, 'queue_get_config_request');
      const port = r.u32();
      r.skip(4);
      return { type: 'queue_get_config_request', xid, port };
    }
    case 23: {
      r.need(8, 'queue_get_config_reply');
      const port = r.u32();
      r.skip(4);
      return { type: 'queue_get_config_reply', xid, port, queues: readQueues(r) };
    }
    case 24:
    case 25: {
      expectBody(r, 16, 'role message');
      const role = r.u32();
      r.skip(4);
      const generationId = r.u64();
      return type === 24 ? { type: 'role_request', xid, role, generationId } : { type: 'role_reply', xid, role, generationId };
    }
    case 26:
      expectBody(r, 0, 'get_async_request');
      return { type: 'get_async_request', xid };
    case 27:
    case 28: {
      expectBody(r, 24, 'async config');
      const packetInMask = pairOf(r);
      const portStatusMask = pairOf(r);
      const flowRemovedMask = pairOf(r);
      return type === 27
        ? { type: 'get_async_reply', xid, packetInMask, portStatusMask, flowRemovedMask }
        : { type: 'set_async', xid, packetInMask, portStatusMask, flowRemovedMask };
    }
    case 29: {
      r.need(8, 'meter_mod');
      const command = r.u16();
      const flags = r.u16();
      const meterId = r.u32();
      return { type: 'meter_mod', xid, command, flags, meterId, bands: readBands(r) };
    }
    default:
      throw badType(type);
  }
}

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
    return readBody(new Reader(frame, OFP_HEADER_LEN, length), type, xid);
  } catch (e) {
    const err = asOpenFlowError(e);
    if (xid !== undefined && err.xid === undefined) err.xid = xid;
    throw err;
  }
}

// ---- encode --------------------------------------------------------------------------

function bitmapWords(versions: readonly number[]): number {
  let max = -1;
  for (const v of versions) if (v > max) max = v;
  return max < 0 ? 0 : (max >>> 5) + 1;
}

function helloElementLength(e: HelloElement): number {
  return e.type === 'versionbitmap' ? 4 + 4 * bitmapWords(e.versions) : 4 + e.data.length;
}

/** Body size (after the 8-byte header) of a message. */
function bodySize(m: OfMessage): number {
  switch (m.type) {
    case 'hello':
      return m.elements.reduce((n, e) => n + pad8(helloElementLength(e)), 0);
    case 'error':
      return 4 + (m.errorType === OFPET_EXPERIMENTER ? 4 : 0) + m.data.length;
    case 'echo_request':
    case 'echo_reply':
      return m.data.length;
    case 'experimenter':
      return 8 + m.data.length;
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
    case 'get_async_request':
      return 0;
    case 'features_reply':
      return 24;
    case 'get_config_reply':
    case 'set_config':
      return 4;
    case 'packet_in':
      return 16 + pad8(matchLength(m.match)) + 2 + m.data.length;
    case 'flow_removed':
      return 40 + pad8(matchLength(m.match));
    case 'port_status':
      return 8 + OFP_PORT_LEN;
    case 'packet_out':
      return 16 + actionsSize(m.actions) + m.data.length;
    case 'flow_mod':
      return 40 + pad8(matchLength(m.match)) + instructionsSize(m.instructions);
    case 'group_mod':
      return 8 + bucketsSize(m.buckets);
    case 'port_mod':
      return 32;
    case 'table_mod':
      return 8;
    case 'multipart_request':
      return 8 + multipartRequestBodySize(m.body);
    case 'multipart_reply':
      return 8 + multipartReplyBodySize(m.body);
    case 'queue_get_config_request':
      return 8;
    case 'queue_get_config_reply':
      return 8 + queuesSize(m.queues);
    case 'role_request':
    case 'role_reply':
      return 16;
    case 'get_async_reply':
    case 'set_async':
      return 24;
    case 'meter_mod':
      return 8 + bandsSize(m.bands);
  }
}

function writeBody(w: Writer, m: OfMessage): void {
  switch (m.type) {
    case 'hello':
      for (const e of m.elements) {
        const start = w.pos;
        const len = helloElementLength(e);
        if (e.type === 'versionbitmap') {
          w.u16(OFPHET_VERSIONBITMAP);
          w.u16(len);
          const words = new Array<number>(bitmapWords(e.versions)).fill(0);
          for (const v of e.versions) {
            if (!Number.isInteger(v) || v < 0) throw encodeError(`hello version ${v}`);
            words[v >>> 5] = (words[v >>> 5]! | (1 << (v & 31))) >>> 0;
          }
          for (const word of words) w.u32(word);
        } else {
          w.u16(e.elementType);
          w.u16(len);
          w.bytes(e.data);
        }
        w.pos = start + pad8(len);
      }
      return;
    case 'error':
      w.u16(m.errorType);
      w.u16(m.code);
      if (m.errorType === OFPET_EXPERIMENTER) w.u32(m.experimenter ?? 0);
      w.bytes(m.data);
      return;
    case 'echo_request':
    case 'echo_reply':
      w.bytes(m.data);
      return;
    case 'experimenter':
      w.u32(m.experimenter);
      w.u32(m.expType);
      w.bytes(m.data);
      return;
    case 'features_request':
    case 'get_config_request':
    case 'barrier_request':
    case 'barrier_reply':
    case 'get_async_request':
      return;
    case 'features_reply':
      w.u64(m.datapathId);
      w.u32(m.nBuffers);
      w.u8(m.nTables);
      w.u8(m.auxiliaryId);
      w.pad(2);
      w.u32(m.capabilities);
      w.pad(4);
      return;
    case 'get_config_reply':
    case 'set_config':
      w.u16(m.flags);
      w.u16(m.missSendLen);
      return;
    case 'packet_in':
      w.u32(m.bufferId);
      w.u16(m.totalLen);
      w.u8(m.reason);
      w.u8(m.tableId);
      w.u64(m.cookie);
      writeMatch(w, m.match, matchLength(m.match));
      w.pad(2);
      w.bytes(m.data);
      return;
    case 'flow_removed':
      w.u64(m.cookie);
      w.u16(m.priority);
      w.u8(m.reason);
      w.u8(m.tableId);
      w.u32(m.durationSec);
      w.u32(m.durationNsec);
      w.u16(m.idleTimeout);
      w.u16(m.hardTimeout);
      w.u64(m.packetCount);
      w.u64(m.byteCount);
      writeMatch(w, m.match, matchLength(m.match));
      return;
    case 'port_status':
      w.u8(m.reason);
      w.pad(7);
      writePort(w, m.port);
      return;
    case 'packet_out':
      w.u32(m.bufferId);
      w.u32(m.inPort);
      w.u16(actionsSize(m.actions));
      w.pad(6);
      writeActions(w, m.actions);
      w.bytes(m.data);
      return;
    case 'flow_mod':
      w.u64(m.cookie);
      w.u64(m.cookieMask);
      w.u8(m.tableId);
      w.u8(m.command);
      w.u16(m.idleTimeout);
      w.u16(m.hardTimeout);
      w.u16(m.priority);
      w.u32(m.bufferId);
      w.u32(m.outPort);
      w.u32(m.outGroup);
      w.u16(m.flags);
      w.pad(2);
      writeMatch(w, m.match, matchLength(m.match));
      writeInstructions(w, m.instructions);
      return;
    case 'group_mod':
      w.u16(m.command);
      w.u8(m.groupType);
      w.pad(1);
      w.u32(m.groupId);
      writeBuckets(w, m.buckets);
      return;
    case 'port_mod':
      w.u32(m.portNo);
      w.pad(4);
      w.mac(m.hwAddr);
      w.pad(2);
      w.u32(m.config);
      w.u32(m.mask);
      w.u32(m.advertise);
      w.pad(4);
      return;
    case 'table_mod':
      w.u8(m.tableId);
      w.pad(3);
      w.u32(m.config);
      return;
    case 'multipart_request':
      w.u16(multipartCode(m.body));
      w.u16(m.flags);
      w.pad(4);
      writeMultipartRequestBody(w, m.body);
      return;
    case 'multipart_reply':
      w.u16(multipartCode(m.body));
      w.u16(m.flags);
      w.pad(4);
      writeMultipartReplyBody(w, m.body);
      return;
    case 'queue_get_config_request':
      w.u32(m.port);
      w.pad(4);
      return;
    case 'queue_get_config_reply':
      w.u32(m.port);
      w.pad(4);
      writeQueues(w, m.queues);
      return;
    case 'role_request':
    case 'role_reply':
      w.u32(m.role);
      w.pad(4);
      w.u64(m.generationId);
      return;
    case 'get_async_reply':
    case 'set_async':
      w.u32(m.packetInMask[0]);
      w.u32(m.packetInMask[1]);
      w.u32(m.portStatusMask[0]);
      w.u32(m.portStatusMask[1]);
      w.u32(m.flowRemovedMask[0]);
      w.u32(m.flowRemovedMask[1]);
      return;
    case 'meter_mod':
      w.u16(m.command);
      w.u16(m.flags);
      w.u32(m.meterId);
      writeBands(w, m.bands);
      return;
  }
}

/** A message as a sender builds it: the connection numbers it (assigns the xid). */
export type Unnumbered = OfMessage extends infer M ? (M extends OfMessage ? Omit<M, 'xid'> : never) : never;

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
      const length = OFP_HEADER_LEN + bodySize(msgs[i] as OfMessage);
      if (length > 0xffff) throw encodeError(`message of ${length} bytes exceeds 65535`);
      batchSizes[i] = length;
      total += length;
    }
    const buf = allocZeroed(total);
    const w = new Writer(buf);
    for (let i = 0; i < msgs.length; i++) {
      const m = msgs[i] as OfMessage;
      const end = w.pos + batchSizes[i]!;
      w.u8(OFP_VERSION);
      w.u8(CODE_BY_TAG[m.type]);
      w.u16(batchSizes[i]!);
      w.u32((firstXid + i) >>> 0);
      writeBody(w, m);
      if (w.pos !== end) throw new OpenFlowError('OF_ERR_INTERNAL', `wrote ${w.pos} of ${end} bytes`);
    }
    return buf;
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
    const length = OFP_HEADER_LEN + bodySize(msg);
    if (length > 0xffff) throw encodeError(`message of ${length} bytes exceeds 65535`);
    const buf = allocZeroed(length);
    const w = new Writer(buf);
    w.u8(OFP_VERSION);
    w.u8(CODE_BY_TAG[msg.type]);
    w.u16(length);
    w.u32(msg.xid);
    writeBody(w, msg);
    if (w.pos !== length) throw new OpenFlowError('OF_ERR_INTERNAL', `wrote ${w.pos} of ${length} bytes`);
    return buf;
  } catch (e) {
    if (e instanceof OpenFlowError) throw e;
    throw encodeError(e instanceof Error ? e.message : String(e), e);
  }
}
