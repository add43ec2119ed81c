// Actions (spec 7.2.6). Every action is a TLV whose length is a multiple of 8; the fixed
// ones have one legal length each, set_field pads its OXM to 8, and experimenter actions
// keep everything after the experimenter id raw (Nicira's subtype included).
import {
  OFPAT_COPY_TTL_IN,
  OFPAT_COPY_TTL_OUT,
  OFPAT_DEC_MPLS_TTL,
  OFPAT_DEC_NW_TTL,
  OFPAT_EXPERIMENTER,
  OFPAT_GROUP,
  OFPAT_OUTPUT,
  OFPAT_POP_MPLS,
  OFPAT_POP_PBB,
  OFPAT_POP_VLAN,
  OFPAT_PUSH_MPLS,
  OFPAT_PUSH_PBB,
  OFPAT_PUSH_VLAN,
  OFPAT_SET_FIELD,
  OFPAT_SET_MPLS_TTL,
  OFPAT_SET_NW_TTL,
  OFPAT_SET_QUEUE,
} from '../constants.ts';
import { badActionLen, badActionType } from '../errors.ts';
import { oxmSize, readOxm, writeOxm, type OxmField } from './oxm.ts';
import { pad8, type Reader, type Writer } from '../wire.ts';

export type Action =
  | { readonly type: 'output'; readonly port: number; readonly maxLen: number }
  | { readonly type: 'copy_ttl_out' }
  | { readonly type: 'copy_ttl_in' }
  | { readonly type: 'set_mpls_ttl'; readonly mplsTtl: number }
  | { readonly type: 'dec_mpls_ttl' }
  | { readonly type: 'push_vlan'; readonly ethertype: number }
  | { readonly type: 'pop_vlan' }
  | { readonly type: 'push_mpls'; readonly ethertype: number }
  | { readonly type: 'pop_mpls'; readonly ethertype: number }
  | { readonly type: 'set_queue'; readonly queueId: number }
  | { readonly type: 'group'; readonly groupId: number }
  | { readonly type: 'set_nw_ttl'; readonly nwTtl: number }
  | { readonly type: 'dec_nw_ttl' }
  | { readonly type: 'set_field'; readonly field: OxmField }
  | { readonly type: 'push_pbb'; readonly ethertype: number }
  | { readonly type: 'pop_pbb' }
  /** data: everything after the experimenter id, padding included (a multiple of 8 minus 8 bytes on the wire). */
  | { readonly type: 'experimenter'; readonly experimenter: number; readonly data: Buffer };

export type ActionType = Action['type'];

/** Wire code by action tag. */
export const ACTION_CODES = {
  output: OFPAT_OUTPUT,
  copy_ttl_out: OFPAT_COPY_TTL_OUT,
  copy_ttl_in: OFPAT_COPY_TTL_IN,
  set_mpls_ttl: OFPAT_SET_MPLS_TTL,
  dec_mpls_ttl: OFPAT_DEC_MPLS_TTL,
  push_vlan: OFPAT_PUSH_VLAN,
  pop_vlan: OFPAT_POP_VLAN,
  push_mpls: OFPAT_PUSH_MPLS,
  pop_mpls: OFPAT_POP_MPLS,
  set_queue: OFPAT_SET_QUEUE,
  group: OFPAT_GROUP,
  set_nw_ttl: OFPAT_SET_NW_TTL,
  dec_nw_ttl: OFPAT_DEC_NW_TTL,
  set_field: OFPAT_SET_FIELD,
  push_pbb: OFPAT_PUSH_PBB,
  pop_pbb: OFPAT_POP_PBB,
  experimenter: OFPAT_EXPERIMENTER,
} as const satisfies Record<ActionType, number>;

// Shared frozen instances for the field-less actions: decode allocates nothing for them.
const COPY_TTL_OUT: Action = Object.freeze({ type: 'copy_ttl_out' });
const COPY_TTL_IN: Action = Object.freeze({ type: 'copy_ttl_in' });
const DEC_MPLS_TTL: Action = Object.freeze({ type: 'dec_mpls_ttl' });
const POP_VLAN: Action = Object.freeze({ type: 'pop_vlan' });
const DEC_NW_TTL: Action = Object.freeze({ type: 'dec_nw_ttl' });
const POP_PBB: Action = Object.freeze({ type: 'pop_pbb' });

function fixedLen(type: number, len: number, want: number): void {
  if (len !== want) throw badActionLen(`action type ${type} has length ${len}, wants ${want}`);
}

/** One action at the cursor. */
export function readAction(r: Reader): Action {
  const start = r.pos;
  if (start + 4 > r.end) throw badActionLen('action header overruns its list');
  const type = r.u16();
  const len = r.u16();
  if (len < 8 || len % 8 !== 0) throw badActionLen(`action type ${type} has length ${len}`);
  const end = start + len;
  if (end > r.end) throw badActionLen(`action type ${type} length ${len} overruns its list`);
  let a: Action;
  switch (type) {
    case OFPAT_OUTPUT:
      fixedLen(type, len, 16);
      a = { type: 'output', port: r.u32(), maxLen: r.u16() };
      break;
    case OFPAT_COPY_TTL_OUT:
      fixedLen(type, len, 8);
      a = COPY_TTL_OUT;
      break;
    case OFPAT_COPY_TTL_IN:
      fixedLen(type, len, 8);
      a = COPY_TTL_IN;
      break;
    case OFPAT_SET_MPLS_TTL:
      fixedLen(type, len, 8);
      a = { type: 'set_mpls_ttl', mplsTtl: r.u8() };
      break;
    case OFPAT_DEC_MPLS_TTL:
      fixedLen(type, len, 8);
      a = DEC_MPLS_TTL;
      break;
    case OFPAT_PUSH_VLAN:
      fixedLen(type, len, 8);
      a = { type: 'push_vlan', ethertype: r.u16() };
      break;
    case OFPAT_POP_VLAN:
      fixedLen(type, len, 8);
      a = POP_VLAN;
      break;
    case OFPAT_PUSH_MPLS:
      fixedLen(type, len, 8);
      a = { type: 'push_mpls', ethertype: r.u16() };
      break;
    case OFPAT_POP_MPLS:
      fixedLen(type, len, 8);
      a = { type: 'pop_mpls', ethertype: r.u16() };
      break;
    case OFPAT_SET_QUEUE:
      fixedLen(type, len, 8);
      a = { type: 'set_queue', queueId: r.u32() };
      break;
    case OFPAT_GROUP:
      fixedLen(type, len, 8);
      a = { type: 'group', groupId: r.u32() };
      break;
    case OFPAT_SET_NW_TTL:
      fixedLen(type, len, 8);
      a = { type: 'set_nw_ttl', nwTtl: r.u8() };
      break;
    case OFPAT_DEC_NW_TTL:
      fixedLen(type, len, 8);
      a = DEC_NW_TTL;
      break;
    case OFPAT_SET_FIELD: {
      const outer = r.end;
      r.end = end;
      const field = readOxm(r);
      r.end = outer;
      if (pad8(r.pos - start) !== len) throw badActionLen(`set_field length ${len} does not fit its OXM`);
      a = { type: 'set_field', field };
      break;
    }
    case OFPAT_PUSH_PBB:
      fixedLen(type, len, 8);
      a = { type: 'push_pbb', ethertype: r.u16() };
      break;
    case OFPAT_POP_PBB:
      fixedLen(type, len, 8);
      a = POP_PBB;
      break;
    case OFPAT_EXPERIMENTER:
      a = { type: 'experimenter', experimenter: r.u32(), data: r.bytes(end - start - 8) };
      break;
    default:
      throw badActionType(type);
  }
  r.pos = end;
  return a;
}

/** Reads actions until `len` bytes are used. */
export function readActions(r: Reader, len: number): Action[] {
  const end = r.pos + len;
  if (end > r.end) throw badActionLen(`action list of ${len} bytes overruns its container`);
  const outer = r.end;
  r.end = end;
  const out: Action[] = [];
  while (r.pos < end) out.push(readAction(r));
  r.end = outer;
  return out;
}

export function actionSize(a: Action): number {
  switch (a.type) {
    case 'output':
      return 16;
    case 'set_field':
      return pad8(4 + oxmSize(a.field));
    case 'experimenter':
      return pad8(8 + a.data.length);
    case 'copy_ttl_out':
    case 'copy_ttl_in':
    case 'set_mpls_ttl':
    case 'dec_mpls_ttl':
    case 'push_vlan':
    case 'pop_vlan':
    case 'push_mpls':
    case 'pop_mpls':
    case 'set_queue':
    case 'group':
    case 'set_nw_ttl':
    case 'dec_nw_ttl':
    case 'push_pbb':
    case 'pop_pbb':
      return 8;
  }
}

export function actionsSize(list: readonly Action[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += actionSize(list[i]!);
  return n;
}

export function writeAction(w: Writer, a: Action): void {
  const start = w.pos;
  const len = actionSize(a);
  w.u16(ACTION_CODES[a.type]);
  w.u16(len);
  switch (a.type) {
    case 'output':
      w.u32(a.port);
      w.u16(a.maxLen);
      break;
    case 'set_mpls_ttl':
      w.u8(a.mplsTtl);
      break;
    case 'set_nw_ttl':
      w.u8(a.nwTtl);
      break;
    case 'push_vlan':
    case 'push_mpls':
    case 'pop_mpls':
    case 'push_pbb':
      w.u16(a.ethertype);
      break;
    case 'set_queue':
      w.u32(a.queueId);
      break;
    case 'group':
      w.u32(a.groupId);
      break;
    case 'set_field':
      writeOxm(w, a.field);
      break;
    case 'experimenter':
      w.u32(a.experimenter);
      w.bytes(a.data);
      break;
    case 'copy_ttl_out':
    case 'copy_ttl_in':
    case 'dec_mpls_ttl':
    case 'pop_vlan':
    case 'dec_nw_ttl':
    case 'pop_pbb':
      break;
  }
  w.pos = start + len;
}

export function writeActions(w: Writer, list: readonly Action[]): void {
  for (let i = 0; i < list.length; i++) writeAction(w, list[i]!);
}

// ---- action ids (table features): the 4-byte header, experimenter ids with their id ----

/** An action type as listed by table-features properties; data holds any bytes after the 4-byte header (an experimenter id). */
export interface ActionId {
  readonly type: number;
  readonly data: Buffer;
}
