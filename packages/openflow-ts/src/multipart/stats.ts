// Statistics multiparts (spec 7.3.5.2-7.3.5.8): flow, aggregate, table, port and queue.
import { OFPMP_AGGREGATE, OFPMP_FLOW, OFPMP_PORT_STATS, OFPMP_QUEUE, OFPMP_TABLE } from '../constants.ts';
import { instructionsSize, readInstructions, writeInstructions, type Instruction } from '../structures/instructions.ts';
import { matchLength, readMatch, writeMatch, type Match } from '../structures/oxm.ts';
import { pad8, type Reader, type Writer } from '../wire.ts';
import { emptyBody, expectEmpty, expectExactly, readFixedList, readSized, sumOf, type BodyCodec, type MultipartEntry } from './codec.ts';

/** ofp_flow_stats_request / ofp_aggregate_stats_request before the match. */
const FLOW_REQUEST_FIXED_LEN = 32;
/** ofp_flow_stats before the match (its u16 length comes first). */
const FLOW_STATS_FIXED_LEN = 48;
/** ofp_aggregate_stats_reply: packet_count, byte_count, flow_count, pad(4). */
const AGGREGATE_REPLY_LEN = 24;
/** ofp_table_stats. */
const TABLE_STATS_LEN = 24;
/** ofp_port_stats_request / ofp_queue_stats_request. */
const PORT_REQUEST_LEN = 8;
/** ofp_port_stats. */
const PORT_STATS_LEN = 112;
/** ofp_queue_stats. */
const QUEUE_STATS_LEN = 40;

/** Flow and aggregate requests share one layout. */
export interface FlowStatsRequestFields {
  readonly tableId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}

export interface FlowStats {
  readonly tableId: number;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly priority: number;
  readonly idleTimeout: number;
  readonly hardTimeout: number;
  readonly flags: number;
  readonly cookie: bigint;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly match: Match;
  readonly instructions: readonly Instruction[];
}

export interface TableStats {
  readonly tableId: number;
  readonly activeCount: number;
  readonly lookupCount: bigint;
  readonly matchedCount: bigint;
}

export interface PortStats {
  readonly portNo: number;
  readonly rxPackets: bigint;
  readonly txPackets: bigint;
  readonly rxBytes: bigint;
  readonly txBytes: bigint;
  readonly rxDropped: bigint;
  readonly txDropped: bigint;
  readonly rxErrors: bigint;
  readonly txErrors: bigint;
  readonly rxFrameErr: bigint;
  readonly rxOverErr: bigint;
  readonly rxCrcErr: bigint;
  readonly collisions: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export interface QueueStats {
  readonly portNo: number;
  readonly queueId: number;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
}

export type FlowRequest = { readonly kind: 'flow' } & FlowStatsRequestFields;
export type AggregateRequest = { readonly kind: 'aggregate' } & FlowStatsRequestFields;
export interface FlowReply { readonly kind: 'flow'; readonly stats: readonly FlowStats[] }
export interface AggregateReply { readonly kind: 'aggregate'; readonly packetCount: bigint; readonly byteCount: bigint; readonly flowCount: number }
export interface TableRequest { readonly kind: 'table' }
export interface TableReply { readonly kind: 'table'; readonly stats: readonly TableStats[] }
export interface PortStatsRequest { readonly kind: 'port_stats'; readonly portNo: number }
export interface PortStatsReply { readonly kind: 'port_stats'; readonly stats: readonly PortStats[] }
export interface QueueRequest { readonly kind: 'queue'; readonly portNo: number; readonly queueId: number }
export interface QueueReply { readonly kind: 'queue'; readonly stats: readonly QueueStats[] }

// ---- flow and aggregate --------------------------------------------------------------

/** The flow/aggregate request body, shared by both kinds. */
function flowRequest<K extends 'flow' | 'aggregate'>(kind: K): BodyCodec<{ readonly kind: K } & FlowStatsRequestFields> {
  return {
    size: (b) => FLOW_REQUEST_FIXED_LEN + pad8(matchLength(b.match)),
    read(r) {
      r.need(FLOW_REQUEST_FIXED_LEN, 'flow stats request');
      const tableId = r.u8();
      r.skip(3);
      const outPort = r.u32();
      const outGroup = r.u32();
      r.skip(4);
      const cookie = r.u64();
      const cookieMask = r.u64();
      const match = readMatch(r);
      expectEmpty(r, 'flow stats request');
      return { kind, tableId, outPort, outGroup, cookie, cookieMask, match };
    },
    write(w, b) {
      w.u8(b.tableId);
      w.pad(3);
      w.u32(b.outPort);
      w.u32(b.outGroup);
      w.pad(4);
      w.u64(b.cookie);
      w.u64(b.cookieMask);
      writeMatch(w, b.match, matchLength(b.match));
    },
  };
}

const flowStatsSize = (s: FlowStats): number => FLOW_STATS_FIXED_LEN + pad8(matchLength(s.match)) + instructionsSize(s.instructions);

function readFlowStats(r: Reader): FlowStats {
  r.need(FLOW_STATS_FIXED_LEN, 'flow stats');
  r.skip(2); // length, already checked by readSized
  const tableId = r.u8();
  r.skip(1);
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const priority = r.u16();
  const idleTimeout = r.u16();
  const hardTimeout = r.u16();
  const flags = r.u16();
  r.skip(4);
  const cookie = r.u64();
  const packetCount = r.u64();
  const byteCount = r.u64();
  const match = readMatch(r);
  const instructions = readInstructions(r, r.end - r.pos);
  return { tableId, durationSec, durationNsec, priority, idleTimeout, hardTimeout, flags, cookie, packetCount, byteCount, match, instructions };
}

function writeFlowStats(w: Writer, s: FlowStats): void {
  w.u16(flowStatsSize(s));
  w.u8(s.tableId);
  w.pad(1);
  w.u32(s.durationSec);
  w.u32(s.durationNsec);
  w.u16(s.priority);
  w.u16(s.idleTimeout);
  w.u16(s.hardTimeout);
  w.u16(s.flags);
  w.pad(4);
  w.u64(s.cookie);
  w.u64(s.packetCount);
  w.u64(s.byteCount);
  writeMatch(w, s.match, matchLength(s.match));
  writeInstructions(w, s.instructions);
}

export const flow: MultipartEntry<FlowRequest, FlowReply> = {
  code: OFPMP_FLOW,
  kind: 'flow',
  request: flowRequest('flow'),
  reply: {
    size: (b) => sumOf(b.stats, flowStatsSize),
    read: (r) => ({ kind: 'flow', stats: readSized(r, FLOW_STATS_FIXED_LEN, 0, 'flow stats', readFlowStats) }),
    write(w, b) {
      for (const s of b.stats) writeFlowStats(w, s);
    },
  },
};

export const aggregate: MultipartEntry<AggregateRequest, AggregateReply> = {
  code: OFPMP_AGGREGATE,
  kind: 'aggregate',
  request: flowRequest('aggregate'),
  reply: {
    size: () => AGGREGATE_REPLY_LEN,
    read(r) {
      expectExactly(r, AGGREGATE_REPLY_LEN, 'aggregate');
      const packetCount = r.u64();
      const byteCount = r.u64();
      const flowCount = r.u32();
      r.skip(4);
      return { kind: 'aggregate', packetCount, byteCount, flowCount };
    },
    write(w, b) {
      w.u64(b.packetCount);
      w.u64(b.byteCount);
      w.u32(b.flowCount);
      w.pad(4);
    },
  },
};

// ---- table ---------------------------------------------------------------------------

export const table: MultipartEntry<TableRequest, TableReply> = {
  code: OFPMP_TABLE,
  kind: 'table',
  request: emptyBody('table'),
  reply: {
    size: (b) => TABLE_STATS_LEN * b.stats.length,
    read: (r) => ({
      kind: 'table',
      stats: readFixedList(r, TABLE_STATS_LEN, 'table', (q) => {
        const tableId = q.u8();
        q.skip(3);
        return { tableId, activeCount: q.u32(), lookupCount: q.u64(), matchedCount: q.u64() };
      }),
    }),
    write(w, b) {
      for (const s of b.stats) {
        w.u8(s.tableId);
        w.pad(3);
        w.u32(s.activeCount);
        w.u64(s.lookupCount);
        w.u64(s.matchedCount);
      }
    },
  },
};

// ---- port and queue ------------------------------------------------------------------

function readPortStats(r: Reader): PortStats {
  const portNo = r.u32();
  r.skip(4);
  return {
    portNo,
    rxPackets: r.u64(),
    txPackets: r.u64(),
    rxBytes: r.u64(),
    txBytes: r.u64(),
    rxDropped: r.u64(),
    txDropped: r.u64(),
    rxErrors: r.u64(),
    txErrors: r.u64(),
    rxFrameErr: r.u64(),
    rxOverErr: r.u64(),
    rxCrcErr: r.u64(),
    collisions: r.u64(),
    durationSec: r.u32(),
    durationNsec: r.u32(),
  };
}

function writePortStats(w: Writer, s: PortStats): void {
  w.u32(s.portNo);
  w.pad(4);
  w.u64(s.rxPackets);
  w.u64(s.txPackets);
  w.u64(s.rxBytes);
  w.u64(s.txBytes);
  w.u64(s.rxDropped);
  w.u64(s.txDropped);
  w.u64(s.rxErrors);
  w.u64(s.txErrors);
  w.u64(s.rxFrameErr);
  w.u64(s.rxOverErr);
  w.u64(s.rxCrcErr);
  w.u64(s.collisions);
  w.u32(s.durationSec);
  w.u32(s.durationNsec);
}

export const portStats: MultipartEntry<PortStatsRequest, PortStatsReply> = {
  code: OFPMP_PORT_STATS,
  kind: 'port_stats',
  request: {
    size: () => PORT_REQUEST_LEN,
    read(r) {
      expectExactly(r, PORT_REQUEST_LEN, 'port_stats');
      const portNo = r.u32();
      r.skip(4);
      return { kind: 'port_stats', portNo };
    },
    write(w, b) {
      w.u32(b.portNo);
      w.pad(4);
    },
  },
  reply: {
    size: (b) => PORT_STATS_LEN * b.stats.length,
    read: (r) => ({ kind: 'port_stats', stats: readFixedList(r, PORT_STATS_LEN, 'port_stats', readPortStats) }),
    write(w, b) {
      for (const s of b.stats) writePortStats(w, s);
    },
  },
};

export const queue: MultipartEntry<QueueRequest, QueueReply> = {
  code: OFPMP_QUEUE,
  kind: 'queue',
  request: {
    size: () => PORT_REQUEST_LEN,
    read(r) {
      expectExactly(r, PORT_REQUEST_LEN, 'queue');
      return { kind: 'queue', portNo: r.u32(), queueId: r.u32() };
    },
    write(w, b) {
      w.u32(b.portNo);
      w.u32(b.queueId);
    },
  },
  reply: {
    size: (b) => QUEUE_STATS_LEN * b.stats.length,
    read: (r) => ({
      kind: 'queue',
      stats: readFixedList(r, QUEUE_STATS_LEN, 'queue', (q) => ({
        portNo: q.u32(),
        queueId: q.u32(),
        txBytes: q.u64(),
        txPackets: q.u64(),
        txErrors: q.u64(),
        durationSec: q.u32(),
        durationNsec: q.u32(),
      })),
    }),
    write(w, b) {
      for (const s of b.stats) {
        w.u32(s.portNo);
        w.u32(s.queueId);
        w.u64(s.txBytes);
        w.u64(s.txPackets);
        w.u64(s.txErrors);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
      }
    },
  },
};
