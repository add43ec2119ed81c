// Table features (spec 7.3.5.5): one 64-byte header per table, then properties, each
// padded to 8 bytes (the property's length excludes its padding). Unknown property types
// are kept raw so a newer switch's reply still decodes and re-encodes unchanged.
import {
  OFPTFPT_APPLY_ACTIONS,
  OFPTFPT_APPLY_ACTIONS_MISS,
  OFPTFPT_APPLY_SETFIELD,
  OFPTFPT_APPLY_SETFIELD_MISS,
  OFPTFPT_EXPERIMENTER,
  OFPTFPT_EXPERIMENTER_MISS,
  OFPTFPT_INSTRUCTIONS,
  OFPTFPT_INSTRUCTIONS_MISS,
  OFPTFPT_MATCH,
  OFPTFPT_NEXT_TABLES,
  OFPTFPT_NEXT_TABLES_MISS,
  OFPTFPT_WILDCARDS,
  OFPTFPT_WRITE_ACTIONS,
  OFPTFPT_WRITE_ACTIONS_MISS,
  OFPTFPT_WRITE_SETFIELD,
  OFPTFPT_WRITE_SETFIELD_MISS,
} from '../constants.ts';
import { badLength, badProperty } from '../errors.ts';
import type { ActionId } from './actions.ts';
import type { InstructionId } from './instructions.ts';
import { oxmIdSize, readOxmId, writeOxmId, type OxmId } from './oxm.ts';
import { pad8, type Reader, type Writer } from '../wire.ts';

/** Property tags by wire code, in four families by payload. */
export const TABLE_FEATURE_PROP_CODES = {
  instructions: OFPTFPT_INSTRUCTIONS,
  instructions_miss: OFPTFPT_INSTRUCTIONS_MISS,
  next_tables: OFPTFPT_NEXT_TABLES,
  next_tables_miss: OFPTFPT_NEXT_TABLES_MISS,
  write_actions: OFPTFPT_WRITE_ACTIONS,
  write_actions_miss: OFPTFPT_WRITE_ACTIONS_MISS,
  apply_actions: OFPTFPT_APPLY_ACTIONS,
  apply_actions_miss: OFPTFPT_APPLY_ACTIONS_MISS,
  match: OFPTFPT_MATCH,
  wildcards: OFPTFPT_WILDCARDS,
  write_setfield: OFPTFPT_WRITE_SETFIELD,
  write_setfield_miss: OFPTFPT_WRITE_SETFIELD_MISS,
  apply_setfield: OFPTFPT_APPLY_SETFIELD,
  apply_setfield_miss: OFPTFPT_APPLY_SETFIELD_MISS,
  experimenter: OFPTFPT_EXPERIMENTER,
  experimenter_miss: OFPTFPT_EXPERIMENTER_MISS,
} as const;

export type TableFeatureProp =
  | { readonly type: 'instructions' | 'instructions_miss'; readonly instructionIds: readonly InstructionId[] }
  | { readonly type: 'next_tables' | 'next_tables_miss'; readonly tableIds: readonly number[] }
  | {
      readonly type: 'write_actions' | 'write_actions_miss' | 'apply_actions' | 'apply_actions_miss';
      readonly actionIds: readonly ActionId[];
    }
  | {
      readonly type: 'match' | 'wildcards' | 'write_setfield' | 'write_setfield_miss' | 'apply_setfield' | 'apply_setfield_miss';
      readonly oxmIds: readonly OxmId[];
    }
  | { readonly type: 'experimenter' | 'experimenter_miss'; readonly experimenter: number; readonly expType: number; readonly data: Buffer }
  | { readonly type: 'unknown'; readonly propType: number; readonly data: Buffer };

export interface TableFeatures {
  readonly tableId: number;
  readonly name: string;
  readonly metadataMatch: bigint;
  readonly metadataWrite: bigint;
  readonly config: number;
  readonly maxEntries: number;
  readonly properties: readonly TableFeatureProp[];
}

type PropTag = keyof typeof TABLE_FEATURE_PROP_CODES;
const TAG_BY_CODE = new Map<number, PropTag>(
  (Object.entries(TABLE_FEATURE_PROP_CODES) as [PropTag, number][]).map(([k, v]) => [v, k]),
);

const TABLE_FEATURES_HEADER_LEN = 64;
const OFP_MAX_TABLE_NAME_LEN = 32;

/** Instruction or action ids: 4-byte headers whose own length may add bytes (experimenter ids). */
function readTlvIds(r: Reader): { type: number; data: Buffer }[] {
  const out: { type: number; data: Buffer }[] = [];
  while (r.pos < r.end) {
    r.need(4, 'id header');
    const type = r.u16();
    const len = r.u16();
    if (len < 4) throw badProperty(`id of type ${type} has length ${len}`);
    out.push({ type, data: r.bytes(len - 4) });
  }
  return out;
}

type TlvId = { readonly type: number; readonly data: Buffer };

function tlvIdsSize(ids: readonly TlvId[]): number {
  return ids.reduce((n, id) => n + 4 + id.data.length, 0);
}

function writeTlvIds(w: Writer, ids: readonly TlvId[]): void {
  for (const id of ids) {
    w.u16(id.type);
    w.u16(4 + id.data.length);
    w.bytes(id.data);
  }
}

function readProp(r: Reader): TableFeatureProp {
  const start = r.pos;
  r.need(4, 'table feature property');
  const code = r.u16();
  const len = r.u16();
  if (len < 4 || start + len > r.end) throw badProperty(`table feature property ${code} length ${len}`);
  const end = start + len;
  const outer = r.end;
  r.end = end;
  const tag = TAG_BY_CODE.get(code);
  let p: TableFeatureProp;
  switch (tag) {
    case 'instructions':
    case 'instructions_miss':
      p = { type: tag, instructionIds: readTlvIds(r) };
      break;
    case 'next_tables':
    case 'next_tables_miss': {
      const tableIds: number[] = [];
      while (r.pos < end) tableIds.push(r.u8());
      p = { type: tag, tableIds };
      break;
    }
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      p = { type: tag, actionIds: readTlvIds(r) };
      break;
    case 'match':
    case 'wildcards':
    case 'write_setfield':
    case 'write_setfield_miss':
    case 'apply_setfield':
    case 'apply_setfield_miss': {
      const oxmIds: OxmId[] = [];
      while (r.pos < end) oxmIds.push(readOxmId(r));
      p = { type: tag, oxmIds };
      break;
    }
    case 'experimenter':
    case 'experimenter_miss':
      p = { type: tag, experimenter: r.u32(), expType: r.u32(), data: r.rest() };
      break;
    case undefined:
      p = { type: 'unknown', propType: code, data: r.rest() };
      break;
  }
  r.end = outer;
  // Padding after the last property may be missing in a table's declared length; tolerate that.
  r.pos = Math.min(start + pad8(len), r.end);
  return p;
}

function readTable(r: Reader): TableFeatures {
  const start = r.pos;
  r.need(TABLE_FEATURES_HEADER_LEN, 'ofp_table_features');
  const length = r.u16();
  if (length < TABLE_FEATURES_HEADER_LEN || start + length > r.end) throw badLength(`table features length ${length}`);
  const tableId = r.u8();
  r.skip(5);
  const name = r.fixedString(OFP_MAX_TABLE_NAME_LEN);
  const metadataMatch = r.u64();
  const metadataWrite = r.u64();
  const config = r.u32();
  const maxEntries = r.u32();
  const outer = r.end;
  r.end = start + length;
  const properties: TableFeatureProp[] = [];
  while (r.pos < r.end) properties.push(readProp(r));
  r.end = outer;
  return { tableId, name, metadataMatch, metadataWrite, config, maxEntries, properties };
}

export function readTableFeatures(r: Reader): TableFeatures[] {
  const out: TableFeatures[] = [];
  while (r.pos < r.end) out.push(readTable(r));
  return out;
}

function propLength(p: TableFeatureProp): number {
  switch (p.type) {
    case 'instructions':
    case 'instructions_miss':
      return 4 + tlvIdsSize(p.instructionIds);
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      return 4 + tlvIdsSize(p.actionIds);
    case 'next_tables':
    case 'next_tables_miss':
      return 4 + p.tableIds.length;
    case 'match':
    case 'wildcards':
    case 'write_setfield':
    case 'write_setfield_miss':
    case 'apply_setfield':
    case 'apply_setfield_miss':
      return 4 + p.oxmIds.reduce((n, id) => n + oxmIdSize(id), 0);
    case 'experimenter':
    case 'experimenter_miss':
      return 12 + p.data.length;
    case 'unknown':
      return 4 + p.data.length;
  }
}

function tableSize(t: TableFeatures): number {
  let n = TABLE_FEATURES_HEADER_LEN;
  for (const p of t.properties) n += pad8(propLength(p));
  return n;
}

export function tableFeaturesSize(list: readonly TableFeatures[]): number {
  let n = 0;
  for (const t of list) n += tableSize(t);
  return n;
}

function writeProp(w: Writer, p: TableFeatureProp): void {
  const start = w.pos;
  const len = propLength(p);
  w.u16(p.type === 'unknown' ? p.propType : TABLE_FEATURE_PROP_CODES[p.type]);
  w.u16(len);
  switch (p.type) {
    case 'instructions':
    case 'instructions_miss':
      writeTlvIds(w, p.instructionIds);
      break;
    case 'write_actions':
    case 'write_actions_miss':
    case 'apply_actions':
    case 'apply_actions_miss':
      writeTlvIds(w, p.actionIds);
      break;
    case 'next_tables':
    case 'next_tables_miss':
      for (const t of p.tableIds) w.u8(t);
      break;
    case 'match':
    case 'wildcards':
    case 'write_setfield':
    case 'write_setfield_miss':
    case 'apply_setfield':
    case 'apply_setfield_miss':
      for (const id of p.oxmIds) writeOxmId(w, id);
      break;
    case 'experimenter':
    case 'experimenter_miss':
      w.u32(p.experimenter);
      w.u32(p.expType);
      w.bytes(p.data);
      break;
    case 'unknown':
      w.bytes(p.data);
      break;
  }
  w.pos = start + pad8(len);
}

export function writeTableFeatures(w: Writer, list: readonly TableFeatures[]): void {
  for (const t of list) {
    w.u16(tableSize(t));
    w.u8(t.tableId);
    w.pad(5);
    w.fixedString(t.name, OFP_MAX_TABLE_NAME_LEN);
    w.u64(t.metadataMatch);
    w.u64(t.metadataWrite);
    w.u32(t.config);
    w.u32(t.maxEntries);
    for (const p of t.properties) writeProp(w, p);
  }
}
