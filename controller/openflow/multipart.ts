// Multipart requests and replies (spec 7.3.5): an 8-byte multipart header inside the
// message, then a body chosen by the multipart type. Bodies are unions tagged by `kind`;
// an unknown multipart type is kept raw as { kind: 'unknown', mpType, data }.
import {
  OFPMP_AGGREGATE,
  OFPMP_DESC,
  OFPMP_EXPERIMENTER,
  OFPMP_FLOW,
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  OFPMP_GROUP_FEATURES,
  OFPMP_METER,
  OFPMP_METER_CONFIG,
  OFPMP_METER_FEATURES,
  OFPMP_PORT_DESC,
  OFPMP_PORT_STATS,
  OFPMP_QUEUE,
  OFPMP_TABLE,
  OFPMP_TABLE_FEATURES,
} from './constants.ts';
import { badLength } from './errors.ts';
import { bucketsSize, readBuckets, writeBuckets, type Bucket } from './group.ts';
import { instructionsSize, readInstructions, writeInstructions, type Instruction } from './instructions.ts';
import { bandsSize, readBands, writeBands, type MeterBand } from './meter.ts';
import { matchLength, readMatch, writeMatch, type Match } from './oxm.ts';
import { OFP_PORT_LEN, readPort, writePort, type Port } from './port.ts';
import { readTableFeatures, tableFeaturesSize, writeTableFeatures, type TableFeatures } from './table-features.ts';
import { pad8, type Reader, type Writer } from './wire.ts';

/** Wire code by body kind. */
export const MULTIPART_CODES = {
  desc: OFPMP_DESC,
  flow: OFPMP_FLOW,
  aggregate: OFPMP_AGGREGATE,
  table: OFPMP_TABLE,
  port_stats: OFPMP_PORT_STATS,
  queue: OFPMP_QUEUE,
  group: OFPMP_GROUP,
  group_desc: OFPMP_GROUP_DESC,
  group_features: OFPMP_GROUP_FEATURES,
  meter: OFPMP_METER,
  meter_config: OFPMP_METER_CONFIG,
  meter_features: OFPMP_METER_FEATURES,
  table_features: OFPMP_TABLE_FEATURES,
  port_desc: OFPMP_PORT_DESC,
  experimenter: OFPMP_EXPERIMENTER,
} as const;
export type MultipartKind = keyof typeof MULTIPART_CODES;

// ---- request bodies ------------------------------------------------------------------

/** Flow and aggregate requests share one layout. */
export interface FlowStatsRequestFields {
  readonly tableId: number;
  readonly outPort: number;
  readonly outGroup: number;
  readonly cookie: bigint;
  readonly cookieMask: bigint;
  readonly match: Match;
}

export interface ExperimenterMultipart {
  readonly kind: 'experimenter';
  readonly experimenter: number;
  readonly expType: number;
  readonly data: Buffer;
}

export interface UnknownMultipart {
  readonly kind: 'unknown';
  readonly mpType: number;
  readonly data: Buffer;
}

export type MultipartRequestBody =
  | { readonly kind: 'desc' }
  | ({ readonly kind: 'flow' } & FlowStatsRequestFields)
  | ({ readonly kind: 'aggregate' } & FlowStatsRequestFields)
  | { readonly kind: 'table' }
  | { readonly kind: 'port_stats'; readonly portNo: number }
  | { readonly kind: 'queue'; readonly portNo: number; readonly queueId: number }
  | { readonly kind: 'group'; readonly groupId: number }
  | { readonly kind: 'group_desc' }
  | { readonly kind: 'group_features' }
  | { readonly kind: 'meter'; readonly meterId: number }
  | { readonly kind: 'meter_config'; readonly meterId: number }
  | { readonly kind: 'meter_features' }
  | { readonly kind: 'table_features'; readonly tables: readonly TableFeatures[] }
  | { readonly kind: 'port_desc' }
  | ExperimenterMultipart
  | UnknownMultipart;

// ---- reply bodies --------------------------------------------------------------------

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

export interface BucketCounter {
  readonly packetCount: bigint;
  readonly byteCount: bigint;
}

export interface GroupStats {
  readonly groupId: number;
  readonly refCount: number;
  readonly packetCount: bigint;
  readonly byteCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bucketStats: readonly BucketCounter[];
}

export interface GroupDesc {
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}

export interface MeterBandStats {
  readonly packetBandCount: bigint;
  readonly byteBandCount: bigint;
}

export interface MeterStats {
  readonly meterId: number;
  readonly flowCount: number;
  readonly packetInCount: bigint;
  readonly byteInCount: bigint;
  readonly durationSec: number;
  readonly durationNsec: number;
  readonly bandStats: readonly MeterBandStats[];
}

export interface MeterConfig {
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export type MultipartReplyBody =
  | {
      readonly kind: 'desc';
      readonly mfrDesc: string;
      readonly hwDesc: string;
      readonly swDesc: string;
      readonly serialNum: string;
      readonly dpDesc: string;
    }
  | { readonly kind: 'flow'; readonly stats: readonly FlowStats[] }
  | { readonly kind: 'aggregate'; readonly packetCount: bigint; readonly byteCount: bigint; readonly flowCount: number }
  | { readonly kind: 'table'; readonly stats: readonly TableStats[] }
  | { readonly kind: 'port_stats'; readonly stats: readonly PortStats[] }
  | { readonly kind: 'queue'; readonly stats: readonly QueueStats[] }
  | { readonly kind: 'group'; readonly stats: readonly GroupStats[] }
  | { readonly kind: 'group_desc'; readonly groups: readonly GroupDesc[] }
  | {
      readonly kind: 'group_features';
      readonly types: number;
      readonly capabilities: number;
      /** indexed by group type: all, select, indirect, fast failover */
      readonly maxGroups: readonly [number, number, number, number];
      readonly actions: readonly [number, number, number, number];
    }
  | { readonly kind: 'meter'; readonly stats: readonly MeterStats[] }
  | { readonly kind: 'meter_config'; readonly meters: readonly MeterConfig[] }
  | {
      readonly kind: 'meter_features';
      readonly maxMeter: number;
      readonly bandTypes: number;
      readonly capabilities: number;
      readonly maxBands: number;
      readonly maxColor: number;
    }
  | { readonly kind: 'table_features'; readonly tables: readonly TableFeatures[] }
  | { readonly kind: 'port_desc'; readonly ports: readonly Port[] }
  | ExperimenterMultipart
  | UnknownMultipart;

const KIND_BY_CODE = new Map<number, MultipartKind>(
  (Object.entries(MULTIPART_CODES) as [MultipartKind, number][]).map(([k, v]) => [v, k]),
);

export function multipartCode(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === 'unknown' ? body.mpType : MULTIPART_CODES[body.kind];
}

function expectEmpty(r: Reader, kind: string): void {
  if (r.pos !== r.end) throw badLength(`${kind} body has ${r.end - r.pos} unexpected bytes`);
}

function expectExactly(r: Reader, n: number, kind: string): void {
  if (r.end - r.pos !== n) throw badLength(`${kind} body is ${r.end - r.pos} bytes, wants ${n}`);
}

/** Repeats a fixed-size record reader until the body ends; the body must be a whole number of records. */
function readFixedList<T>(r: Reader, size: number, kind: string, one: (r: Reader) => T): T[] {
  if ((r.end - r.pos) % size !== 0) throw badLength(`${kind} body of ${r.end - r.pos} bytes is not a multiple of ${size}`);
  const out: T[] = [];
  while (r.pos < r.end) out.push(one(r));
  return out;
}

/**
 * Reads records that carry their own u16 length at `lenAt` bytes into the record; the
 * cursor's limit is narrowed to each record while `one` runs.
 */
function readSized<T>(r: Reader, header: number, lenAt: number, kind: string, one: (r: Reader) => T): T[] {
  const out: T[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(header, kind);
    const len = r.buf.readUInt16BE(r.pos + lenAt);
    if (len < header || start + len > r.end) throw badLength(`${kind} length ${len}`);
    const outer = r.end;
    r.end = start + len;
    out.push(one(r));
    r.pos = start + len;
    r.end = outer;
  }
  return out;
}

function readFlowRequest(r: Reader): FlowStatsRequestFields {
  r.need(32, 'flow stats request');
  const tableId = r.u8();
  r.skip(3);
  const outPort = r.u32();
  const outGroup = r.u32();
  r.skip(4);
  const cookie = r.u64();
  const cookieMask = r.u64();
  const match = readMatch(r);
  expectEmpty(r, 'flow stats request');
  return { tableId, outPort, outGroup, cookie, cookieMask, match };
}

function readExperimenter(r: Reader): ExperimenterMultipart {
  r.need(8, 'experimenter multipart');
  return { kind: 'experimenter', experimenter: r.u32(), expType: r.u32(), data: r.rest() };
}

/** The body of a multipart request; the cursor's limit is the message end. */
export function readMultipartRequestBody(r: Reader, mpType: number): MultipartRequestBody {
  const kind = KIND_BY_CODE.get(mpType);
  switch (kind) {
    case 'desc':
    case 'table':
    case 'group_desc':
    case 'group_features':
    case 'meter_features':
    case 'port_desc':
      expectEmpty(r, kind);
      return { kind };
    case 'flow':
    case 'aggregate':
      return { kind, ...readFlowRequest(r) };
    case 'port_stats': {
      expectExactly(r, 8, kind);
      const portNo = r.u32();
      r.skip(4);
      return { kind, portNo };
    }
    case 'queue':
      expectExactly(r, 8, kind);
      return { kind, portNo: r.u32(), queueId: r.u32() };
    case 'group': {
      expectExactly(r, 8, kind);
      const groupId = r.u32();
      r.skip(4);
      return { kind, groupId };
    }
    case 'meter':
    case 'meter_config': {
      expectExactly(r, 8, kind);
      const meterId = r.u32();
      r.skip(4);
      return { kind, meterId };
    }
    case 'table_features':
      return { kind, tables: readTableFeatures(r) };
    case 'experimenter':
      return readExperimenter(r);
    case undefined:
      return { kind: 'unknown', mpType, data: r.rest() };
  }
}

function readFlowStats(r: Reader): FlowStats {
  r.need(48, 'flow stats');
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

function readGroupStats(r: Reader): GroupStats {
  r.skip(4); // length, pad
  const groupId = r.u32();
  const refCount = r.u32();
  r.skip(4);
  const packetCount = r.u64();
  const byteCount = r.u64();
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const bucketStats = readFixedList(r, 16, 'bucket counters', (q) => ({ packetCount: q.u64(), byteCount: q.u64() }));
  return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
}

function readMeterStats(r: Reader): MeterStats {
  const meterId = r.u32();
  r.skip(8); // len, pad
  const flowCount = r.u32();
  const packetInCount = r.u64();
  const byteInCount = r.u64();
  const durationSec = r.u32();
  const durationNsec = r.u32();
  const bandStats = readFixedList(r, 16, 'meter band stats', (q) => ({ packetBandCount: q.u64(), byteBandCount: q.u64() }));
  return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
}

const four = (r: Reader): [number, number, number, number] => [r.u32(), r.u32(), r.u32(), r.u32()];

/** The body of a multipart reply; the cursor's limit is the message end. */
export function readMultipartReplyBody(r: Reader, mpType: number): MultipartReplyBody {
  const kind = KIND_BY_CODE.get(mpType);
  switch (kind) {
    case 'desc': {
      expectExactly(r, 1056, kind);
      return {
        kind,
        mfrDesc: r.fixedString(256),
        hwDesc: r.fixedString(256),
        swDesc: r.fixedString(256),
        serialNum: r.fixedString(32),
        dpDesc: r.fixedString(256),
      };
    }
    case 'flow':
      return { kind, stats: readSized(r, 48, 0, 'flow stats', readFlowStats) };
    case 'aggregate': {
      expectExactly(r, 24, kind);
      const packetCount = r.u64();
      const byteCount = r.u64();
      const flowCount = r.u32();
      r.skip(4);
      return { kind, packetCount, byteCount, flowCount };
    }
    case 'table':
      return {
        kind,
        stats: readFixedList(r, 24, kind, (q) => {
          const tableId = q.u8();
          q.skip(3);
          return { tableId, activeCount: q.u32(), lookupCount: q.u64(), matchedCount: q.u64() };
        }),
      };
    case 'port_stats':
      return { kind, stats: readFixedList(r, 112, kind, readPortStats) };
    case 'queue':
      return {
        kind,
        stats: readFixedList(r, 40, kind, (q) => ({
          portNo: q.u32(),
          queueId: q.u32(),
          txBytes: q.u64(),
          txPackets: q.u64(),
          txErrors: q.u64(),
          durationSec: q.u32(),
          durationNsec: q.u32(),
        })),
      };
    case 'group':
      return { kind, stats: readSized(r, 40, 0, 'group stats', readGroupStats) };
    case 'group_desc':
      return {
        kind,
        groups: readSized(r, 8, 0, 'group desc', (q) => {
          q.skip(2);
          const groupType = q.u8();
          q.skip(1);
          const groupId = q.u32();
          return { groupType, groupId, buckets: readBuckets(q) };
        }),
      };
    case 'group_features': {
      expectExactly(r, 40, kind);
      const types = r.u32();
      const capabilities = r.u32();
      return { kind, types, capabilities, maxGroups: four(r), actions: four(r) };
    }
    case 'meter':
      return { kind, stats: readSized(r, 40, 4, 'meter stats', readMeterStats) };
    case 'meter_config':
      return {
        kind,
        meters: readSized(r, 8, 0, 'meter config', (q) => {
          q.skip(2);
          const flags = q.u16();
          const meterId = q.u32();
          return { flags, meterId, bands: readBands(q) };
        }),
      };
    case 'meter_features': {
      expectExactly(r, 16, kind);
      const maxMeter = r.u32();
      const bandTypes = r.u32();
      const capabilities = r.u32();
      const maxBands = r.u8();
      const maxColor = r.u8();
      r.skip(2);
      return { kind, maxMeter, bandTypes, capabilities, maxBands, maxColor };
    }
    case 'table_features':
      return { kind, tables: readTableFeatures(r) };
    case 'port_desc':
      return { kind, ports: readFixedList(r, OFP_PORT_LEN, kind, readPort) };
    case 'experimenter':
      return readExperimenter(r);
    case undefined:
      return { kind: 'unknown', mpType, data: r.rest() };
  }
}

// ---- encode --------------------------------------------------------------------------

const flowRequestSize = (b: FlowStatsRequestFields): number => 32 + pad8(matchLength(b.match));
const flowStatsSize = (s: FlowStats): number => 48 + pad8(matchLength(s.match)) + instructionsSize(s.instructions);

export function multipartRequestBodySize(b: MultipartRequestBody): number {
  switch (b.kind) {
    case 'desc':
    case 'table':
    case 'group_desc':
    case 'group_features':
    case 'meter_features':
    case 'port_desc':
      return 0;
    case 'flow':
    case 'aggregate':
      return flowRequestSize(b);
    case 'port_stats':
    case 'queue':
    case 'group':
    case 'meter':
    case 'meter_config':
      return 8;
    case 'table_features':
      return tableFeaturesSize(b.tables);
    case 'experimenter':
      return 8 + b.data.length;
    case 'unknown':
      return b.data.length;
  }
}

export function writeMultipartRequestBody(w: Writer, b: MultipartRequestBody): void {
  switch (b.kind) {
    case 'desc':
    case 'table':
    case 'group_desc':
    case 'group_features':
    case 'meter_features':
    case 'port_desc':
      return;
    case 'flow':
    case 'aggregate': {
      w.u8(b.tableId);
      w.pad(3);
      w.u32(b.outPort);
      w.u32(b.outGroup);
      w.pad(4);
      w.u64(b.cookie);
      w.u64(b.cookieMask);
      writeMatch(w, b.match, matchLength(b.match));
      return;
    }
    case 'port_stats':
      w.u32(b.portNo);
      w.pad(4);
      return;
    case 'queue':
      w.u32(b.portNo);
      w.u32(b.queueId);
      return;
    case 'group':
      w.u32(b.groupId);
      w.pad(4);
      return;
    case 'meter':
    case 'meter_config':
      w.u32(b.meterId);
      w.pad(4);
      return;
    case 'table_features':
      writeTableFeatures(w, b.tables);
      return;
    case 'experimenter':
      w.u32(b.experimenter);
      w.u32(b.expType);
      w.bytes(b.data);
      return;
    case 'unknown':
      w.bytes(b.data);
      return;
  }
}

export function multipartReplyBodySize(b: MultipartReplyBody): number {
  switch (b.kind) {
    case 'desc':
      return 1056;
    case 'flow':
      return b.stats.reduce((n, s) => n + flowStatsSize(s), 0);
    case 'aggregate':
      return 24;
    case 'table':
      return 24 * b.stats.length;
    case 'port_stats':
      return 112 * b.stats.length;
    case 'queue':
      return 40 * b.stats.length;
    case 'group':
      return b.stats.reduce((n, s) => n + 40 + 16 * s.bucketStats.length, 0);
    case 'group_desc':
      return b.groups.reduce((n, g) => n + 8 + bucketsSize(g.buckets), 0);
    case 'group_features':
      return 40;
    case 'meter':
      return b.stats.reduce((n, s) => n + 40 + 16 * s.bandStats.length, 0);
    case 'meter_config':
      return b.meters.reduce((n, m) => n + 8 + bandsSize(m.bands), 0);
    case 'meter_features':
      return 16;
    case 'table_features':
      return tableFeaturesSize(b.tables);
    case 'port_desc':
      return OFP_PORT_LEN * b.ports.length;
    case 'experimenter':
      return 8 + b.data.length;
    case 'unknown':
      return b.data.length;
  }
}

export function writeMultipartReplyBody(w: Writer, b: MultipartReplyBody): void {
  switch (b.kind) {
    case 'desc':
      w.fixedString(b.mfrDesc, 256);
      w.fixedString(b.hwDesc, 256);
      w.fixedString(b.swDesc, 256);
      w.fixedString(b.serialNum, 32);
      w.fixedString(b.dpDesc, 256);
      return;
    case 'flow':
      for (const s of b.stats) {
        const ml = matchLength(s.match);
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
        writeMatch(w, s.match, ml);
        writeInstructions(w, s.instructions);
      }
      return;
    case 'aggregate':
      w.u64(b.packetCount);
      w.u64(b.byteCount);
      w.u32(b.flowCount);
      w.pad(4);
      return;
    case 'table':
      for (const s of b.stats) {
        w.u8(s.tableId);
        w.pad(3);
        w.u32(s.activeCount);
        w.u64(s.lookupCount);
        w.u64(s.matchedCount);
      }
      return;
    case 'port_stats':
      for (const s of b.stats) {
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
      return;
    case 'queue':
      for (const s of b.stats) {
        w.u32(s.portNo);
        w.u32(s.queueId);
        w.u64(s.txBytes);
        w.u64(s.txPackets);
        w.u64(s.txErrors);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
      }
      return;
    case 'group':
      for (const s of b.stats) {
        w.u16(40 + 16 * s.bucketStats.length);
        w.pad(2);
        w.u32(s.groupId);
        w.u32(s.refCount);
        w.pad(4);
        w.u64(s.packetCount);
        w.u64(s.byteCount);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
        for (const c of s.bucketStats) {
          w.u64(c.packetCount);
          w.u64(c.byteCount);
        }
      }
      return;
    case 'group_desc':
      for (const g of b.groups) {
        w.u16(8 + bucketsSize(g.buckets));
        w.u8(g.groupType);
        w.pad(1);
        w.u32(g.groupId);
        writeBuckets(w, g.buckets);
      }
      return;
    case 'group_features':
      w.u32(b.types);
      w.u32(b.capabilities);
      for (const v of b.maxGroups) w.u32(v);
      for (const v of b.actions) w.u32(v);
      return;
    case 'meter':
      for (const s of b.stats) {
        w.u32(s.meterId);
        w.u16(40 + 16 * s.bandStats.length);
        w.pad(6);
        w.u32(s.flowCount);
        w.u64(s.packetInCount);
        w.u64(s.byteInCount);
        w.u32(s.durationSec);
        w.u32(s.durationNsec);
        for (const c of s.bandStats) {
          w.u64(c.packetBandCount);
          w.u64(c.byteBandCount);
        }
      }
      return;
    case 'meter_config':
      for (const m of b.meters) {
        w.u16(8 + bandsSize(m.bands));
        w.u16(m.flags);
        w.u32(m.meterId);
        writeBands(w, m.bands);
      }
      return;
    case 'meter_features':
      w.u32(b.maxMeter);
      w.u32(b.bandTypes);
      w.u32(b.capabilities);
      w.u8(b.maxBands);
      w.u8(b.maxColor);
      w.pad(2);
      return;
    case 'table_features':
      writeTableFeatures(w, b.tables);
      return;
    case 'port_desc':
      for (const p of b.ports) writePort(w, p);
      return;
    case 'experimenter':
      w.u32(b.experimenter);
      w.u32(b.expType);
      w.bytes(b.data);
      return;
    case 'unknown':
      w.bytes(b.data);
      return;
  }
}
