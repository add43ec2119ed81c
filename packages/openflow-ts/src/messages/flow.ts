// Flow messages (spec 7.3.4.1, 7.3.7, 7.4.1, 7.4.2): what the controller installs and
// sends (flow_mod, packet_out) and what the switch reports back (packet_in, flow_removed).
// Each carries a match or an action list whose length is computed, never stored.
import { OFPT_FLOW_MOD, OFPT_FLOW_REMOVED, OFPT_PACKET_IN, OFPT_PACKET_OUT } from '../constants.ts';
import { actionsSize, readActions, writeActions, type Action } from '../structures/actions.ts';
import { instructionsSize, readInstructions, writeInstructions, type Instruction } from '../structures/instructions.ts';
import { matchLength, readMatch, writeMatch, type Match } from '../structures/oxm.ts';
import { pad8 } from '../wire.ts';
import { expectBody, type MessageCodec } from './codec.ts';

/** ofp_packet_in before the match: buffer_id, total_len, reason, table_id, cookie. */
const PACKET_IN_FIXED_LEN = 16;
/** The two pad bytes between a packet_in's match and its frame. */
const PACKET_IN_PAD_LEN = 2;
/** ofp_flow_removed before the match. */
const FLOW_REMOVED_FIXED_LEN = 40;
/** ofp_packet_out before the actions: buffer_id, in_port, actions_len, pad(6). */
const PACKET_OUT_FIXED_LEN = 16;
/** ofp_flow_mod before the match. */
const FLOW_MOD_FIXED_LEN = 40;

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

export const packetIn: MessageCodec<PacketIn> = {
  code: OFPT_PACKET_IN,
  tag: 'packet_in',
  size: (m) => PACKET_IN_FIXED_LEN + pad8(matchLength(m.match)) + PACKET_IN_PAD_LEN + m.data.length,
  read(r, xid) {
    r.need(PACKET_IN_FIXED_LEN, 'packet_in');
    const bufferId = r.u32();
    const totalLen = r.u16();
    const reason = r.u8();
    const tableId = r.u8();
    const cookie = r.u64();
    const match = readMatch(r);
    r.skip(PACKET_IN_PAD_LEN);
    return { type: 'packet_in', xid, bufferId, totalLen, reason, tableId, cookie, match, data: r.rest() };
  },
  write(w, m) {
    w.u32(m.bufferId);
    w.u16(m.totalLen);
    w.u8(m.reason);
    w.u8(m.tableId);
    w.u64(m.cookie);
    writeMatch(w, m.match, matchLength(m.match));
    w.pad(PACKET_IN_PAD_LEN);
    w.bytes(m.data);
  },
};

export const flowRemoved: MessageCodec<FlowRemoved> = {
  code: OFPT_FLOW_REMOVED,
  tag: 'flow_removed',
  size: (m) => FLOW_REMOVED_FIXED_LEN + pad8(matchLength(m.match)),
  read(r, xid) {
    r.need(FLOW_REMOVED_FIXED_LEN, 'flow_removed');
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
  },
  write(w, m) {
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
  },
};

export const packetOut: MessageCodec<PacketOut> = {
  code: OFPT_PACKET_OUT,
  tag: 'packet_out',
  size: (m) => PACKET_OUT_FIXED_LEN + actionsSize(m.actions) + m.data.length,
  read(r, xid) {
    r.need(PACKET_OUT_FIXED_LEN, 'packet_out');
    const bufferId = r.u32();
    const inPort = r.u32();
    const actionsLen = r.u16();
    r.skip(6);
    const actions = readActions(r, actionsLen);
    return { type: 'packet_out', xid, bufferId, inPort, actions, data: r.rest() };
  },
  write(w, m) {
    w.u32(m.bufferId);
    w.u32(m.inPort);
    w.u16(actionsSize(m.actions));
    w.pad(6);
    writeActions(w, m.actions);
    w.bytes(m.data);
  },
};

export const flowMod: MessageCodec<FlowMod> = {
  code: OFPT_FLOW_MOD,
  tag: 'flow_mod',
  size: (m) => FLOW_MOD_FIXED_LEN + pad8(matchLength(m.match)) + instructionsSize(m.instructions),
  read(r, xid) {
    r.need(FLOW_MOD_FIXED_LEN, 'flow_mod');
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
  },
  write(w, m) {
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
  },
};
