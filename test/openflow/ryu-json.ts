// Turns a Ryu JSON description of an OpenFlow 1.3 message ({"OFPFlowMod": {...}}, snake_case
// spec names, base64 binaries, {"OXMTlv": {field, mask, value}}) into the typed value our
// decoder should produce, so the vector test can compare the two with deepStrictEqual.
//
// Strict on purpose: every converter reads its object through `Fields`, which fails when a
// key is left unread, so no field of the JSON is silently skipped. Length fields ("len",
// "length", "actions_len", "match_len") are checked against the size of the converted value
// where the codec exposes a size function (match, action, instruction, bucket, band), and
// otherwise are derived values proven by the byte-exact re-encode in the same test.
import { Buffer } from 'node:buffer';
import type {
  Action,
  Bucket,
  HelloElement,
  Instruction,
  InstructionId,
  ActionId,
  Match,
  MeterBand,
  MultipartReplyBody,
  MultipartRequestBody,
  OfMessage,
  OxmField,
  OxmId,
  PacketQueue,
  Port,
  QueueProperty,
  TableFeatureProp,
  TableFeatures,
} from 'openflow-ts';
import {
  MULTIPART_CODES,
  OFPXMC_EXPERIMENTER,
  OFPXMC_NXM_1,
  OFPXMC_OPENFLOW_BASIC,
  ONF_EXPERIMENTER_ID,
  OXM_BASIC_FIELDS,
  oxmCodeOf,
  type OxmBasicName,
} from 'openflow-ts';
import { actionSize } from 'openflow-ts/wire';
import { instructionSize } from 'openflow-ts/wire';
import { bucketSize } from 'openflow-ts/wire';
import { bandSize } from 'openflow-ts/wire';
import { matchLength, oxmSize, writeOxm } from 'openflow-ts/wire';
import { allocZeroed, pad8, Writer } from 'openflow-ts/wire';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

/**
 * JSON.parse loses integers above 2^53 (Ryu writes 64-bit cookies and ids as plain
 * numbers), so long integer literals are quoted before parsing; `big()` reads them back.
 */
export function parseRyuJson(text: string): Json {
  return JSON.parse(text.replace(/([:\[,]\s*)(\d{16,})(?=\s*[,\]}])/g, '$1"$2"')) as Json;
}

class Fields {
  private readonly used = new Set<string>();
  constructor(
    readonly cls: string,
    private readonly o: Obj,
  ) {}

  private take(k: string): Json {
    if (!(k in this.o)) throw new Error(`${this.cls}: no key ${k}`);
    this.used.add(k);
    return this.o[k]!;
  }
  has(k: string): boolean {
    return k in this.o;
  }
  num(k: string): number {
    const v = this.take(k);
    if (typeof v !== 'number') throw new Error(`${this.cls}.${k}: not a number: ${JSON.stringify(v)}`);
    return v;
  }
  big(k: string): bigint {
    const v = this.take(k);
    if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`${this.cls}.${k}: not an integer`);
    return BigInt(v);
  }
  str(k: string): string {
    const v = this.take(k);
    if (typeof v !== 'string') throw new Error(`${this.cls}.${k}: not a string`);
    return v;
  }
  b64(k: string): Buffer {
    return Buffer.from(this.str(k), 'base64');
  }
  nums(k: string): number[] {
    const v = this.take(k);
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) throw new Error(`${this.cls}.${k}: not a number list`);
    return v as number[];
  }
  list(k: string): Json[] {
    const v = this.take(k);
    if (!Array.isArray(v)) throw new Error(`${this.cls}.${k}: not a list`);
    return v;
  }
  any(k: string): Json {
    return this.take(k);
  }
  /** A length field: checked against `expected` when given, else only marked as read (derived; proven by re-encode). */
  len(k: string, expected?: number): void {
    const v = this.num(k);
    if (expected !== undefined && v !== expected) throw new Error(`${this.cls}.${k} is ${v}, our value sizes to ${expected}`);
  }
  /** A Ryu-only echo of the wire code the class name already says (e.g. an action's "type"). */
  code(k: string, expected: number): void {
    const v = this.num(k);
    if (v !== expected) throw new Error(`${this.cls}.${k} is ${v}, wants ${expected}`);
  }
  done(): void {
    const left = Object.keys(this.o).filter((k) => !this.used.has(k));
    if (left.length > 0) throw new Error(`${this.cls}: unread keys ${left.join(', ')}`);
  }
}

/** Unwraps {"ClassName": {...}}. */
function wrapped(j: Json): Fields {
  if (j === null || typeof j !== 'object' || Array.isArray(j)) throw new Error(`not a Ryu object: ${JSON.stringify(j)}`);
  const keys = Object.keys(j);
  if (keys.length !== 1) throw new Error(`not a class wrapper: ${keys.join(',')}`);
  const cls = keys[0]!;
  const body = j[cls]!;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new Error(`${cls}: body is not an object`);
  return new Fields(cls, body);
}

function expectClass(f: Fields, ...names: string[]): void {
  if (!names.includes(f.cls)) throw new Error(`expected ${names.join('|')}, got ${f.cls}`);
}

/** Byte list (Ryu's queue-property data) or u32 list (table-feature experimenter data). */
const bytesOf = (xs: number[]): Buffer => Buffer.from(xs);
function u32sOf(xs: number[]): Buffer {
  const b = Buffer.alloc(4 * xs.length);
  xs.forEach((x, i) => b.writeUInt32BE(x, 4 * i));
  return b;
}

// ---- OXM ------------------------------------------------------------------------------

const U64_FIELDS = new Set<string>(['metadata', 'tunnel_id']);
const BASIC_NAMES = new Set<string>(OXM_BASIC_FIELDS.map((r) => r[0]));
/** Nicira fields Ryu names that the vectors use: [class, field code, payload bytes]. */
const NXM_FIELDS: Readonly<Record<string, readonly [number, number, number]>> = {
  tun_ipv4_src: [OFPXMC_NXM_1, 31, 4],
  tun_ipv4_dst: [OFPXMC_NXM_1, 32, 4],
};
/** ONF experimenter OXMs (OF 1.3 extension 256): name → [field code, exp_type, payload bytes]. */
const ONF_FIELDS: Readonly<Record<string, readonly [number, number, number]>> = {
  pbb_uca: [0, 2560, 1],
};

function basicValue(name: string, v: Json): number | bigint | string {
  if (U64_FIELDS.has(name)) return BigInt(v as number | string);
  if (typeof v !== 'number' && typeof v !== 'string') throw new Error(`OXM ${name}: value ${JSON.stringify(v)}`);
  return v;
}

export function oxmFromRyu(j: Json): OxmField {
  const f = wrapped(j);
  expectClass(f, 'OXMTlv');
  const name = f.str('field');
  const value = f.any('value');
  const mask = f.any('mask');
  f.done();
  if (BASIC_NAMES.has(name)) {
    const field = { field: name, value: basicValue(name, value) } as Record<string, unknown>;
    if (mask !== null) field['mask'] = basicValue(name, mask);
    return field as unknown as OxmField;
  }
  const nx = NXM_FIELDS[name];
  if (nx !== undefined) {
    if (mask !== null) throw new Error(`masked ${name} not mapped`);
    const data = Buffer.alloc(nx[2]);
    if (typeof value !== 'string') throw new Error(`${name}: value`);
    value.split('.').forEach((o, i) => (data[i] = Number(o)));
    return { field: 'unknown', oxmClass: nx[0], fieldCode: nx[1], hasMask: false, data };
  }
  const onf = ONF_FIELDS[name];
  if (onf !== undefined) {
    if (mask !== null || typeof value !== 'number') throw new Error(`${name}: unmapped form`);
    const data = Buffer.alloc(2 + onf[2]);
    data.writeUInt16BE(onf[1], 0);
    data.writeUIntBE(value, 2, onf[2]);
    return { field: 'experimenter', oxmClass: OFPXMC_EXPERIMENTER, fieldCode: onf[0], hasMask: false, experimenter: ONF_EXPERIMENTER_ID, data };
  }
  throw new Error(`OXM field ${name} not mapped`);
}

export function matchFromRyu(j: Json): Match {
  const f = wrapped(j);
  expectClass(f, 'OFPMatch');
  f.code('type', 1);
  const fields = f.list('oxm_fields').map(oxmFromRyu);
  f.len('length', matchLength(fields));
  f.done();
  return fields;
}

function oxmIdFromRyu(j: Json): OxmId {
  const f = wrapped(j);
  expectClass(f, 'OFPOxmId');
  const name = f.str('type');
  const hasMask = f.num('hasmask') !== 0;
  const length = f.num('length');
  f.done();
  if (!BASIC_NAMES.has(name)) throw new Error(`OXM id ${name} not mapped`);
  return { oxmClass: OFPXMC_OPENFLOW_BASIC, fieldCode: oxmCodeOf(name as OxmBasicName), hasMask, length };
}

// ---- actions and instructions ---------------------------------------------------------

const SIMPLE_ACTIONS: Readonly<Record<string, [Action['type'], number]>> = {
  OFPActionCopyTtlOut: ['copy_ttl_out', 11],
  OFPActionCopyTtlIn: ['copy_ttl_in', 12],
  OFPActionDecMplsTtl: ['dec_mpls_ttl', 16],
  OFPActionPopVlan: ['pop_vlan', 18],
  OFPActionDecNwTtl: ['dec_nw_ttl', 24],
  OFPActionPopPbb: ['pop_pbb', 27],
};
const ETHERTYPE_ACTIONS: Readonly<Record<string, ['push_vlan' | 'push_mpls' | 'pop_mpls' | 'push_pbb', number]>> = {
  OFPActionPushVlan: ['push_vlan', 17],
  OFPActionPushMpls: ['push_mpls', 19],
  OFPActionPopMpls: ['pop_mpls', 20],
  OFPActionPushPbb: ['push_pbb', 26],
};

export function actionFromRyu(j: Json): Action {
  const f = wrapped(j);
  let a: Action;
  const simple = SIMPLE_ACTIONS[f.cls];
  const eth = ETHERTYPE_ACTIONS[f.cls];
  if (simple !== undefined) {
    f.code('type', simple[1]);
    a = { type: simple[0] } as Action;
  } else if (eth !== undefined) {
    f.code('type', eth[1]);
    a = { type: eth[0], ethertype: f.num('ethertype') };
  } else {
    switch (f.cls) {
      case 'OFPActionOutput':
        f.code('type', 0);
        a = { type: 'output', port: f.num('port'), maxLen: f.num('max_len') };
        break;
      case 'OFPActionSetMplsTtl':
        f.code('type', 15);
        a = { type: 'set_mpls_ttl', mplsTtl: f.num('mpls_ttl') };
        break;
      case 'OFPActionSetNwTtl':
        f.code('type', 23);
        a = { type: 'set_nw_ttl', nwTtl: f.num('nw_ttl') };
        break;
      case 'OFPActionSetQueue':
        f.code('type', 21);
        a = { type: 'set_queue', queueId: f.num('queue_id') };
        break;
      case 'OFPActionGroup':
        f.code('type', 22);
        a = { type: 'group', groupId: f.num('group_id') };
        break;
      case 'OFPActionSetField':
        f.code('type', 25);
        a = { type: 'set_field', field: oxmFromRyu(f.any('field')) };
        break;
      case 'OFPActionExperimenterUnknown': {
        f.code('type', 0xffff);
        const len = f.num('len');
        const data = Buffer.alloc(len - 8);
        f.b64('data').copy(data);
        a = { type: 'experimenter', experimenter: f.num('experimenter'), data };
        break;
      }
      case 'NXActionUnknown': {
        // Nicira actions: the subtype is the first two bytes of what we keep raw.
        f.code('type', 0xffff);
        const len = f.num('len');
        const data = Buffer.alloc(len - 8);
        data.writeUInt16BE(f.num('subtype'), 0);
        f.b64('data').copy(data, 2);
        a = { type: 'experimenter', experimenter: f.num('experimenter'), data };
        break;
      }
      default:
        throw new Error(`action class ${f.cls} not mapped`);
    }
  }
  f.len('len', actionSize(a));
  f.done();
  return a;
}

export function instructionFromRyu(j: Json): Instruction {
  const f = wrapped(j);
  let ins: Instruction;
  switch (f.cls) {
    case 'OFPInstructionGotoTable':
      f.code('type', 1);
      ins = { type: 'goto_table', tableId: f.num('table_id') };
      break;
    case 'OFPInstructionWriteMetadata':
      f.code('type', 2);
      ins = { type: 'write_metadata', metadata: f.big('metadata'), metadataMask: f.big('metadata_mask') };
      break;
    case 'OFPInstructionActions': {
      const code = f.num('type');
      const actions = f.list('actions').map(actionFromRyu);
      if (code === 3) ins = { type: 'write_actions', actions };
      else if (code === 4) ins = { type: 'apply_actions', actions };
      else if (code === 5) ins = { type: 'clear_actions', actions };
      else throw new Error(`OFPInstructionActions type ${code}`);
      break;
    }
    case 'OFPInstructionMeter':
      f.code('type', 6);
      ins = { type: 'meter', meterId: f.num('meter_id') };
      break;
    default:
      throw new Error(`instruction class ${f.cls} not mapped`);
  }
  f.len('len', instructionSize(ins));
  f.done();
  return ins;
}

function bucketFromRyu(j: Json): Bucket {
  const f = wrapped(j);
  expectClass(f, 'OFPBucket');
  const b: Bucket = {
    weight: f.num('weight'),
    watchPort: f.num('watch_port'),
    watchGroup: f.num('watch_group'),
    actions: f.list('actions').map(actionFromRyu),
  };
  f.len('len', bucketSize(b));
  f.done();
  return b;
}

function bandFromRyu(j: Json): MeterBand {
  const f = wrapped(j);
  let b: MeterBand;
  switch (f.cls) {
    case 'OFPMeterBandDrop':
      f.code('type', 1);
      b = { type: 'drop', rate: f.num('rate'), burstSize: f.num('burst_size') };
      break;
    case 'OFPMeterBandDscpRemark':
      f.code('type', 2);
      b = { type: 'dscp_remark', rate: f.num('rate'), burstSize: f.num('burst_size'), precLevel: f.num('prec_level') };
      break;
    case 'OFPMeterBandExperimenter':
      // Ryu models no payload for experimenter bands; the vector's band is exactly 16 bytes.
      f.code('type', 0xffff);
      b = { type: 'experimenter', rate: f.num('rate'), burstSize: f.num('burst_size'), experimenter: f.num('experimenter'), data: Buffer.alloc(0) };
      break;
    default:
      throw new Error(`band class ${f.cls} not mapped`);
  }
  f.len('len', bandSize(b));
  f.done();
  return b;
}

function portFromRyu(j: Json): Port {
  const f = wrapped(j);
  expectClass(f, 'OFPPort');
  const p: Port = {
    portNo: f.num('port_no'),
    hwAddr: f.str('hw_addr'),
    name: f.str('name'),
    config: f.num('config'),
    state: f.num('state'),
    curr: f.num('curr'),
    advertised: f.num('advertised'),
    supported: f.num('supported'),
    peer: f.num('peer'),
    currSpeed: f.num('curr_speed'),
    maxSpeed: f.num('max_speed'),
  };
  f.done();
  return p;
}

// ---- queues, table features -----------------------------------------------------------

function queuePropFromRyu(j: Json): QueueProperty {
  const f = wrapped(j);
  let p: QueueProperty;
  switch (f.cls) {
    case 'OFPQueuePropMinRate':
      f.code('property', 1);
      p = { type: 'min_rate', rate: f.num('rate') };
      f.len('len', 16);
      break;
    case 'OFPQueuePropMaxRate':
      f.code('property', 2);
      p = { type: 'max_rate', rate: f.num('rate') };
      f.len('len', 16);
      break;
    case 'OFPQueuePropExperimenter': {
      f.code('property', 0xffff);
      const data = bytesOf(f.nums('data'));
      p = { type: 'experimenter', experimenter: f.num('experimenter'), data };
      f.len('len', 16 + data.length);
      break;
    }
    default:
      throw new Error(`queue property class ${f.cls} not mapped`);
  }
  f.done();
  return p;
}

function queueFromRyu(j: Json): PacketQueue {
  const f = wrapped(j);
  expectClass(f, 'OFPPacketQueue');
  const q: PacketQueue = { queueId: f.num('queue_id'), port: f.num('port'), properties: f.list('properties').map(queuePropFromRyu) };
  f.len('len');
  f.done();
  return q;
}

function tlvIdFromRyu(cls: string) {
  return (j: Json): InstructionId | ActionId => {
    const f = wrapped(j);
    expectClass(f, cls);
    const id = { type: f.num('type'), data: Buffer.alloc(0) };
    f.len('len', 4);
    f.done();
    return id;
  };
}

const TF_TAGS: Readonly<Record<number, TableFeatureProp['type']>> = {
  0: 'instructions', 1: 'instructions_miss', 2: 'next_tables', 3: 'next_tables_miss',
  4: 'write_actions', 5: 'write_actions_miss', 6: 'apply_actions', 7: 'apply_actions_miss',
  8: 'match', 10: 'wildcards', 12: 'write_setfield', 13: 'write_setfield_miss',
  14: 'apply_setfield', 15: 'apply_setfield_miss', 0xfffe: 'experimenter', 0xffff: 'experimenter_miss',
};

function tableFeaturePropFromRyu(j: Json): TableFeatureProp {
  const f = wrapped(j);
  const tag = TF_TAGS[f.num('type')];
  if (tag === undefined) throw new Error(`${f.cls}: unmapped type`);
  let p: TableFeatureProp;
  switch (f.cls) {
    case 'OFPTableFeaturePropInstructions':
      p = { type: tag, instructionIds: f.list('instruction_ids').map(tlvIdFromRyu('OFPInstructionId')) } as TableFeatureProp;
      break;
    case 'OFPTableFeaturePropNextTables':
      p = { type: tag, tableIds: f.nums('table_ids') } as TableFeatureProp;
      break;
    case 'OFPTableFeaturePropActions':
      p = { type: tag, actionIds: f.list('action_ids').map(tlvIdFromRyu('OFPActionId')) } as TableFeatureProp;
      break;
    case 'OFPTableFeaturePropOxm':
      p = { type: tag, oxmIds: f.list('oxm_ids').map(oxmIdFromRyu) } as TableFeatureProp;
      break;
    case 'OFPTableFeaturePropExperimenter':
      p = { type: tag, experimenter: f.num('experimenter'), expType: f.num('exp_type'), data: u32sOf(f.nums('data')) } as TableFeatureProp;
      break;
    default:
      throw new Error(`table feature property class ${f.cls} not mapped`);
  }
  f.len('length');
  f.done();
  return p;
}

function tableFeaturesFromRyu(j: Json): TableFeatures {
  const f = wrapped(j);
  expectClass(f, 'OFPTableFeaturesStats');
  const t: TableFeatures = {
    tableId: f.num('table_id'),
    name: f.str('name'),
    metadataMatch: f.big('metadata_match'),
    metadataWrite: f.big('metadata_write'),
    config: f.num('config'),
    maxEntries: f.num('max_entries'),
    properties: f.list('properties').map(tableFeaturePropFromRyu),
  };
  f.len('length');
  f.done();
  return t;
}

// ---- multipart ------------------------------------------------------------------------

/** Ryu decodes ONF's flow-monitor request (an experimenter multipart); we keep its body raw, so rebuild those bytes here. */
function onfFlowMonitorBody(items: Json[]): Buffer {
  const parts = items.map((j) => {
    const f = wrapped(j);
    expectClass(f, 'ONFFlowMonitorRequest');
    const fields = matchFromRyu(f.any('match'));
    const oxmLen = fields.reduce((n, x) => n + oxmSize(x), 0);
    f.len('match_len', oxmLen);
    const buf = allocZeroed(16 + pad8(oxmLen));
    const w = new Writer(buf);
    w.u32(f.num('id'));
    w.u16(f.num('flags'));
    w.u16(oxmLen);
    w.u32(f.num('out_port'));
    w.u8(f.num('table_id'));
    w.pad(3);
    for (const x of fields) writeOxm(w, x);
    f.done();
    return buf;
  });
  return Buffer.concat(parts);
}

function single(f: Fields, k: string, cls: string): Fields {
  const inner = wrapped(f.any(k));
  expectClass(inner, cls);
  return inner;
}

function requestBodyFromRyu(f: Fields): MultipartRequestBody {
  const flow = () => ({
    tableId: f.num('table_id'),
    outPort: f.num('out_port'),
    outGroup: f.num('out_group'),
    cookie: f.big('cookie'),
    cookieMask: f.big('cookie_mask'),
    match: matchFromRyu(f.any('match')),
  });
  switch (f.cls) {
    case 'OFPDescStatsRequest':
      return { kind: 'desc' };
    case 'OFPFlowStatsRequest':
      return { kind: 'flow', ...flow() };
    case 'OFPAggregateStatsRequest':
      return { kind: 'aggregate', ...flow() };
    case 'OFPTableStatsRequest':
      return { kind: 'table' };
    case 'OFPPortStatsRequest':
      return { kind: 'port_stats', portNo: f.num('port_no') };
    case 'OFPQueueStatsRequest':
      return { kind: 'queue', portNo: f.num('port_no'), queueId: f.num('queue_id') };
    case 'OFPGroupStatsRequest':
      return { kind: 'group', groupId: f.num('group_id') };
    case 'OFPGroupDescStatsRequest':
      return { kind: 'group_desc' };
    case 'OFPGroupFeaturesStatsRequest':
      return { kind: 'group_features' };
    case 'OFPMeterStatsRequest':
      return { kind: 'meter', meterId: f.num('meter_id') };
    case 'OFPMeterConfigStatsRequest':
      return { kind: 'meter_config', meterId: f.num('meter_id') };
    case 'OFPMeterFeaturesStatsRequest':
      return { kind: 'meter_features' };
    case 'OFPTableFeaturesStatsRequest':
      return { kind: 'table_features', tables: f.list('body').map(tableFeaturesFromRyu) };
    case 'OFPPortDescStatsRequest':
      return { kind: 'port_desc' };
    case 'OFPExperimenterStatsRequest':
      return { kind: 'experimenter', experimenter: f.num('experimenter'), expType: f.num('exp_type'), data: f.b64('data') };
    case 'ONFFlowMonitorStatsRequest':
      return { kind: 'experimenter', experimenter: f.num('experimenter'), expType: f.num('exp_type'), data: onfFlowMonitorBody(f.list('body')) };
    default:
      throw new Error(`multipart request class ${f.cls} not mapped`);
  }
}

function replyBodyFromRyu(f: Fields): MultipartReplyBody {
  switch (f.cls) {
    case 'OFPDescStatsReply': {
      const d = single(f, 'body', 'OFPDescStats');
      const body: MultipartReplyBody = {
        kind: 'desc',
        mfrDesc: d.str('mfr_desc'),
        hwDesc: d.str('hw_desc'),
        swDesc: d.str('sw_desc'),
        serialNum: d.str('serial_num'),
        dpDesc: d.str('dp_desc'),
      };
      d.done();
      return body;
    }
    case 'OFPFlowStatsReply':
      return {
        kind: 'flow',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPFlowStats');
          const v = {
            tableId: s.num('table_id'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
            priority: s.num('priority'),
            idleTimeout: s.num('idle_timeout'),
            hardTimeout: s.num('hard_timeout'),
            flags: s.num('flags'),
            cookie: s.big('cookie'),
            packetCount: s.big('packet_count'),
            byteCount: s.big('byte_count'),
            match: matchFromRyu(s.any('match')),
            instructions: s.list('instructions').map(instructionFromRyu),
          };
          s.len('length', 48 + pad8(matchLength(v.match)) + v.instructions.reduce((n, i) => n + instructionSize(i), 0));
          s.done();
          return v;
        }),
      };
    case 'OFPAggregateStatsReply': {
      const d = single(f, 'body', 'OFPAggregateStats');
      const body: MultipartReplyBody = { kind: 'aggregate', packetCount: d.big('packet_count'), byteCount: d.big('byte_count'), flowCount: d.num('flow_count') };
      d.done();
      return body;
    }
    case 'OFPTableStatsReply':
      return {
        kind: 'table',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPTableStats');
          const v = { tableId: s.num('table_id'), activeCount: s.num('active_count'), lookupCount: s.big('lookup_count'), matchedCount: s.big('matched_count') };
          s.done();
          return v;
        }),
      };
    case 'OFPPortStatsReply':
      return {
        kind: 'port_stats',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPPortStats');
          const v = {
            portNo: s.num('port_no'),
            rxPackets: s.big('rx_packets'),
            txPackets: s.big('tx_packets'),
            rxBytes: s.big('rx_bytes'),
            txBytes: s.big('tx_bytes'),
            rxDropped: s.big('rx_dropped'),
            txDropped: s.big('tx_dropped'),
            rxErrors: s.big('rx_errors'),
            txErrors: s.big('tx_errors'),
            rxFrameErr: s.big('rx_frame_err'),
            rxOverErr: s.big('rx_over_err'),
            rxCrcErr: s.big('rx_crc_err'),
            collisions: s.big('collisions'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
          };
          s.done();
          return v;
        }),
      };
    case 'OFPQueueStatsReply':
      return {
        kind: 'queue',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPQueueStats');
          const v = {
            portNo: s.num('port_no'),
            queueId: s.num('queue_id'),
            txBytes: s.big('tx_bytes'),
            txPackets: s.big('tx_packets'),
            txErrors: s.big('tx_errors'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
          };
          s.done();
          return v;
        }),
      };
    case 'OFPGroupStatsReply':
      return {
        kind: 'group',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPGroupStats');
          const v = {
            groupId: s.num('group_id'),
            refCount: s.num('ref_count'),
            packetCount: s.big('packet_count'),
            byteCount: s.big('byte_count'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
            bucketStats: s.list('bucket_stats').map((c) => {
              const b = wrapped(c);
              expectClass(b, 'OFPBucketCounter');
              const x = { packetCount: b.big('packet_count'), byteCount: b.big('byte_count') };
              b.done();
              return x;
            }),
          };
          s.len('length', 40 + 16 * v.bucketStats.length);
          s.done();
          return v;
        }),
      };
    case 'OFPGroupDescStatsReply':
      return {
        kind: 'group_desc',
        groups: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPGroupDescStats');
          const v = { groupType: s.num('type'), groupId: s.num('group_id'), buckets: s.list('buckets').map(bucketFromRyu) };
          s.len('length', 8 + v.buckets.reduce((n, b) => n + bucketSize(b), 0));
          s.done();
          return v;
        }),
      };
    case 'OFPGroupFeaturesStatsReply': {
      const d = single(f, 'body', 'OFPGroupFeaturesStats');
      const four = (k: string): [number, number, number, number] => {
        const xs = d.nums(k);
        if (xs.length !== 4) throw new Error(`${k} has ${xs.length} entries`);
        return [xs[0]!, xs[1]!, xs[2]!, xs[3]!];
      };
      const body: MultipartReplyBody = { kind: 'group_features', types: d.num('types'), capabilities: d.num('capabilities'), maxGroups: four('max_groups'), actions: four('actions') };
      d.done();
      return body;
    }
    case 'OFPMeterStatsReply':
      return {
        kind: 'meter',
        stats: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPMeterStats');
          const v = {
            meterId: s.num('meter_id'),
            flowCount: s.num('flow_count'),
            packetInCount: s.big('packet_in_count'),
            byteInCount: s.big('byte_in_count'),
            durationSec: s.num('duration_sec'),
            durationNsec: s.num('duration_nsec'),
            bandStats: s.list('band_stats').map((c) => {
              const b = wrapped(c);
              expectClass(b, 'OFPMeterBandStats');
              const x = { packetBandCount: b.big('packet_band_count'), byteBandCount: b.big('byte_band_count') };
              b.done();
              return x;
            }),
          };
          s.len('len', 40 + 16 * v.bandStats.length);
          s.done();
          return v;
        }),
      };
    case 'OFPMeterConfigStatsReply':
      return {
        kind: 'meter_config',
        meters: f.list('body').map((j) => {
          const s = wrapped(j);
          expectClass(s, 'OFPMeterConfigStats');
          const v = { flags: s.num('flags'), meterId: s.num('meter_id'), bands: s.list('bands').map(bandFromRyu) };
          s.len('length', 8 + v.bands.reduce((n, b) => n + bandSize(b), 0));
          s.done();
          return v;
        }),
      };
    case 'OFPMeterFeaturesStatsReply': {
      // Ryu lists the one meter-features record; the wire holds exactly one.
      const list = f.list('body');
      if (list.length !== 1) throw new Error(`meter features body has ${list.length} records`);
      const d = wrapped(list[0]!);
      expectClass(d, 'OFPMeterFeaturesStats');
      const body: MultipartReplyBody = {
        kind: 'meter_features',
        maxMeter: d.num('max_meter'),
        bandTypes: d.num('band_types'),
        capabilities: d.num('capabilities'),
        maxBands: d.num('max_bands'),
        maxColor: d.num('max_color'),
      };
      d.done();
      return body;
    }
    case 'OFPTableFeaturesStatsReply':
      return { kind: 'table_features', tables: f.list('body').map(tableFeaturesFromRyu) };
    case 'OFPPortDescStatsReply':
      return { kind: 'port_desc', ports: f.list('body').map(portFromRyu) };
    case 'OFPExperimenterStatsReply': {
      const d = single(f, 'body', 'OFPExperimenterMultipart');
      const body: MultipartReplyBody = { kind: 'experimenter', experimenter: d.num('experimenter'), expType: d.num('exp_type'), data: d.b64('data') };
      d.done();
      return body;
    }
    default:
      throw new Error(`multipart reply class ${f.cls} not mapped`);
  }
}

// ---- messages -------------------------------------------------------------------------

function helloElementFromRyu(j: Json): HelloElement {
  const f = wrapped(j);
  expectClass(f, 'OFPHelloElemVersionBitmap');
  f.code('type', 1);
  const versions = f.nums('versions');
  f.len('length');
  f.done();
  return { type: 'versionbitmap', versions };
}

const asyncPair = (f: Fields, k: string): [number, number] => {
  const xs = f.nums(k);
  if (xs.length !== 2) throw new Error(`${k} has ${xs.length} entries`);
  return [xs[0]!, xs[1]!];
};

/**
 * The message a Ryu JSON file describes. Ryu's JSON carries no xid, so the caller passes
 * the one from the packet header.
 */
export function messageFromRyu(j: Json, xid: number): OfMessage {
  const f = wrapped(j);
  let m: OfMessage;
  switch (f.cls) {
    case 'OFPHello':
      m = { type: 'hello', xid, elements: f.list('elements').map(helloElementFromRyu) };
      break;
    case 'OFPErrorMsg': {
      const errorType = f.num('type');
      if (errorType === 0xffff) {
        const code = f.any('code');
        if (code !== null) throw new Error('experimenter error with a code');
        m = { type: 'error', xid, errorType, code: f.num('exp_type'), experimenter: f.num('experimenter'), data: f.b64('data') };
      } else {
        m = { type: 'error', xid, errorType, code: f.num('code'), data: f.b64('data') };
      }
      break;
    }
    case 'OFPEchoRequest':
      m = { type: 'echo_request', xid, data: f.b64('data') };
      break;
    case 'OFPEchoReply':
      m = { type: 'echo_reply', xid, data: f.b64('data') };
      break;
    case 'OFPExperimenter':
      m = { type: 'experimenter', xid, experimenter: f.num('experimenter'), expType: f.num('exp_type'), data: f.b64('data') };
      break;
    case 'OFPFeaturesRequest':
      m = { type: 'features_request', xid };
      break;
    case 'OFPSwitchFeatures':
      m = {
        type: 'features_reply',
        xid,
        datapathId: f.big('datapath_id'),
        nBuffers: f.num('n_buffers'),
        nTables: f.num('n_tables'),
        auxiliaryId: f.num('auxiliary_id'),
        capabilities: f.num('capabilities'),
      };
      break;
    case 'OFPGetConfigRequest':
      m = { type: 'get_config_request', xid };
      break;
    case 'OFPGetConfigReply':
      m = { type: 'get_config_reply', xid, flags: f.num('flags'), missSendLen: f.num('miss_send_len') };
      break;
    case 'OFPSetConfig':
      m = { type: 'set_config', xid, flags: f.num('flags'), missSendLen: f.num('miss_send_len') };
      break;
    case 'OFPPacketIn':
      m = {
        type: 'packet_in',
        xid,
        bufferId: f.num('buffer_id'),
        totalLen: f.num('total_len'),
        reason: f.num('reason'),
        tableId: f.num('table_id'),
        cookie: f.big('cookie'),
        match: matchFromRyu(f.any('match')),
        data: f.b64('data'),
      };
      break;
    case 'OFPFlowRemoved':
      m = {
        type: 'flow_removed',
        xid,
        cookie: f.big('cookie'),
        priority: f.num('priority'),
        reason: f.num('reason'),
        tableId: f.num('table_id'),
        durationSec: f.num('duration_sec'),
        durationNsec: f.num('duration_nsec'),
        idleTimeout: f.num('idle_timeout'),
        hardTimeout: f.num('hard_timeout'),
        packetCount: f.big('packet_count'),
        byteCount: f.big('byte_count'),
        match: matchFromRyu(f.any('match')),
      };
      break;
    case 'OFPPortStatus':
      m = { type: 'port_status', xid, reason: f.num('reason'), port: portFromRyu(f.any('desc')) };
      break;
    case 'OFPPacketOut': {
      const actions = f.list('actions').map(actionFromRyu);
      f.len('actions_len', actions.reduce((n, a) => n + actionSize(a), 0));
      m = { type: 'packet_out', xid, bufferId: f.num('buffer_id'), inPort: f.num('in_port'), actions, data: f.b64('data') };
      break;
    }
    case 'OFPFlowMod':
      m = {
        type: 'flow_mod',
        xid,
        cookie: f.big('cookie'),
        cookieMask: f.big('cookie_mask'),
        tableId: f.num('table_id'),
        command: f.num('command'),
        idleTimeout: f.num('idle_timeout'),
        hardTimeout: f.num('hard_timeout'),
        priority: f.num('priority'),
        bufferId: f.num('buffer_id'),
        outPort: f.num('out_port'),
        outGroup: f.num('out_group'),
        flags: f.num('flags'),
        match: matchFromRyu(f.any('match')),
        instructions: f.list('instructions').map(instructionFromRyu),
      };
      break;
    case 'OFPGroupMod':
      m = {
        type: 'group_mod',
        xid,
        command: f.num('command'),
        groupType: f.num('type'),
        groupId: f.num('group_id'),
        buckets: f.list('buckets').map(bucketFromRyu),
      };
      break;
    case 'OFPPortMod':
      m = {
        type: 'port_mod',
        xid,
        portNo: f.num('port_no'),
        hwAddr: f.str('hw_addr'),
        config: f.num('config'),
        mask: f.num('mask'),
        advertise: f.num('advertise'),
      };
      break;
    case 'OFPTableMod':
      m = { type: 'table_mod', xid, tableId: f.num('table_id'), config: f.num('config') };
      break;
    case 'OFPBarrierRequest':
      m = { type: 'barrier_request', xid };
      break;
    case 'OFPBarrierReply':
      m = { type: 'barrier_reply', xid };
      break;
    case 'OFPQueueGetConfigRequest':
      m = { type: 'queue_get_config_request', xid, port: f.num('port') };
      break;
    case 'OFPQueueGetConfigReply':
      m = { type: 'queue_get_config_reply', xid, port: f.num('port'), queues: f.list('queues').map(queueFromRyu) };
      break;
    case 'OFPRoleRequest':
      m = { type: 'role_request', xid, role: f.num('role'), generationId: f.big('generation_id') };
      break;
    case 'OFPRoleReply':
      m = { type: 'role_reply', xid, role: f.num('role'), generationId: f.big('generation_id') };
      break;
    case 'OFPGetAsyncRequest':
      m = { type: 'get_async_request', xid };
      break;
    case 'OFPGetAsyncReply':
    case 'OFPSetAsync': {
      const masks = {
        packetInMask: asyncPair(f, 'packet_in_mask'),
        portStatusMask: asyncPair(f, 'port_status_mask'),
        flowRemovedMask: asyncPair(f, 'flow_removed_mask'),
      };
      m = f.cls === 'OFPSetAsync' ? { type: 'set_async', xid, ...masks } : { type: 'get_async_reply', xid, ...masks };
      break;
    }
    case 'OFPMeterMod':
      m = {
        type: 'meter_mod',
        xid,
        command: f.num('command'),
        flags: f.num('flags'),
        meterId: f.num('meter_id'),
        bands: f.list('bands').map(bandFromRyu),
      };
      break;
    default:
      if (f.cls.endsWith('StatsRequest')) {
        const flags = f.num('flags');
        const body = requestBodyFromRyu(f);
        f.code('type', body.kind === 'unknown' ? body.mpType : MULTIPART_CODES[body.kind]);
        m = { type: 'multipart_request', xid, flags, body };
      } else if (f.cls.endsWith('StatsReply')) {
        const flags = f.num('flags');
        const body = replyBodyFromRyu(f);
        f.code('type', body.kind === 'unknown' ? body.mpType : MULTIPART_CODES[body.kind]);
        m = { type: 'multipart_reply', xid, flags, body };
      } else throw new Error(`message class ${f.cls} not mapped`);
  }
  f.done();
  return m;
}
