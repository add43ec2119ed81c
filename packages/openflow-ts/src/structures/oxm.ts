// OXM match fields (spec 7.2.3). OXM basic-class fields are data: one table row per wire
// code says the name, payload size and value kind; decode and encode both run off it.
// Anything outside the basic class (experimenter OXMs such as ONF's pbb_uca, Nicira NXM
// fields, basic codes newer than 1.3.5) is kept as raw bytes and written back unchanged.
import { OFPMT_OXM, OFPXMC_EXPERIMENTER, OFPXMC_OPENFLOW_BASIC } from '../constants.ts';
import { badMatchLen, badMatchType, encodeError } from '../errors.ts';
import { pad8, type Reader, type Writer } from '../wire.ts';

type Kind = 'u8' | 'u16' | 'u24' | 'u32' | 'u64' | 'mac' | 'ipv4' | 'ipv6';

/** [name, payload bytes, kind]; the index is the OXM field code. */
export const OXM_BASIC_FIELDS = [
  ['in_port', 4, 'u32'],
  ['in_phy_port', 4, 'u32'],
  ['metadata', 8, 'u64'],
  ['eth_dst', 6, 'mac'],
  ['eth_src', 6, 'mac'],
  ['eth_type', 2, 'u16'],
  ['vlan_vid', 2, 'u16'],
  ['vlan_pcp', 1, 'u8'],
  ['ip_dscp', 1, 'u8'],
  ['ip_ecn', 1, 'u8'],
  ['ip_proto', 1, 'u8'],
  ['ipv4_src', 4, 'ipv4'],
  ['ipv4_dst', 4, 'ipv4'],
  ['tcp_src', 2, 'u16'],
  ['tcp_dst', 2, 'u16'],
  ['udp_src', 2, 'u16'],
  ['udp_dst', 2, 'u16'],
  ['sctp_src', 2, 'u16'],
  ['sctp_dst', 2, 'u16'],
  ['icmpv4_type', 1, 'u8'],
  ['icmpv4_code', 1, 'u8'],
  ['arp_op', 2, 'u16'],
  ['arp_spa', 4, 'ipv4'],
  ['arp_tpa', 4, 'ipv4'],
  ['arp_sha', 6, 'mac'],
  ['arp_tha', 6, 'mac'],
  ['ipv6_src', 16, 'ipv6'],
  ['ipv6_dst', 16, 'ipv6'],
  ['ipv6_flabel', 4, 'u32'],
  ['icmpv6_type', 1, 'u8'],
  ['icmpv6_code', 1, 'u8'],
  ['ipv6_nd_target', 16, 'ipv6'],
  ['ipv6_nd_sll', 6, 'mac'],
  ['ipv6_nd_tll', 6, 'mac'],
  ['mpls_label', 4, 'u32'],
  ['mpls_tc', 1, 'u8'],
  ['mpls_bos', 1, 'u8'],
  ['pbb_isid', 3, 'u24'],
  ['tunnel_id', 8, 'u64'],
  ['ipv6_exthdr', 2, 'u16'],
] as const satisfies readonly (readonly [string, number, Kind])[];

type Rows = typeof OXM_BASIC_FIELDS;
export type OxmBasicName = Rows[number][0];
type KindOf<N extends OxmBasicName> = Extract<Rows[number], readonly [N, number, Kind]>[2];
type ValueOfKind<K extends Kind> = K extends 'u64' ? bigint : K extends 'mac' | 'ipv4' | 'ipv6' ? string : number;
export type OxmValue<N extends OxmBasicName> = ValueOfKind<KindOf<N>>;

/** One OXM basic-class field, typed by name: e.g. { field: 'ipv4_src', value: '10.0.0.0', mask: '255.0.0.0' }. */
export type OxmBasicField = {
  readonly [N in OxmBasicName]: { readonly field: N; readonly value: OxmValue<N>; readonly mask?: OxmValue<N> };
}[OxmBasicName];

/** An experimenter-class OXM (class 0xffff): the experimenter id, then its payload kept raw. */
export interface OxmExperimenterField {
  readonly field: 'experimenter';
  readonly oxmClass: number;
  readonly fieldCode: number;
  readonly hasMask: boolean;
  readonly experimenter: number;
  /** Payload after the experimenter id (value and mask together when hasMask). */
  readonly data: Buffer;
}

/** Any other OXM (NXM classes, unknown basic codes): the payload kept raw. */
export interface OxmUnknownField {
  readonly field: 'unknown';
  readonly oxmClass: number;
  readonly fieldCode: number;
  readonly hasMask: boolean;
  readonly data: Buffer;
}

export type OxmField = OxmBasicField | OxmExperimenterField | OxmUnknownField;
export type Match = readonly OxmField[];

const KIND_BY_CODE: readonly Kind[] = OXM_BASIC_FIELDS.map((r) => r[2]);
const SIZE_BY_CODE: readonly number[] = OXM_BASIC_FIELDS.map((r) => r[1]);
const NAME_BY_CODE: readonly OxmBasicName[] = OXM_BASIC_FIELDS.map((r) => r[0]);
const CODE_BY_NAME: ReadonlyMap<string, number> = new Map(OXM_BASIC_FIELDS.map((r, i) => [r[0], i]));
const BASIC_COUNT = OXM_BASIC_FIELDS.length;

export function oxmCodeOf(name: OxmBasicName): number {
  return CODE_BY_NAME.get(name)!;
}
export function oxmNameOf(code: number): OxmBasicName | undefined {
  return NAME_BY_CODE[code];
}

type BasicValue = number | bigint | string;

function readValue(r: Reader, kind: Kind): BasicValue {
  switch (kind) {
    case 'u8':
      return r.u8();
    case 'u16':
      return r.u16();
    case 'u24':
      return (r.u8() << 16) | r.u16();
    case 'u32':
      return r.u32();
    case 'u64':
      return r.u64();
    case 'mac':
      return r.mac();
    case 'ipv4':
      return r.ipv4();
    case 'ipv6':
      return r.ipv6();
  }
}

function writeValue(w: Writer, kind: Kind, v: BasicValue, name: string): void {
  switch (kind) {
    case 'u8':
    case 'u16':
    case 'u24':
    case 'u32':
      if (typeof v !== 'number') throw encodeError(`${name} wants a number`);
      if (kind === 'u8') w.u8(v);
      else if (kind === 'u16') w.u16(v);
      else if (kind === 'u32') w.u32(v);
      else {
        if (v < 0 || v > 0xffffff || !Number.isInteger(v)) throw encodeError(`${name} ${v} does not fit 24 bits`);
        w.u8(v >>> 16);
        w.u16(v & 0xffff);
      }
      return;
    case 'u64':
      if (typeof v !== 'bigint') throw encodeError(`${name} wants a bigint`);
      w.u64(v);
      return;
    case 'mac':
      w.mac(v as string);
      return;
    case 'ipv4':
      w.ipv4(v as string);
      return;
    case 'ipv6':
      w.ipv6(v as string);
      return;
  }
}

/** One OXM TLV at the cursor; the cursor's limit bounds it. */
export function readOxm(r: Reader): OxmField {
  r.need(4, 'OXM header');
  const oxmClass = r.u16();
  const fh = r.u8();
  const len = r.u8();
  const fieldCode = fh >>> 1;
  const hasMask = (fh & 1) === 1;
  if (r.pos + len > r.end) throw badMatchLen(`OXM class 0x${oxmClass.toString(16)} field ${fieldCode} length ${len} overruns its container`);
  if (oxmClass === OFPXMC_OPENFLOW_BASIC && fieldCode < BASIC_COUNT) {
    const size = SIZE_BY_CODE[fieldCode]!;
    if (len !== (hasMask ? size * 2 : size)) throw badMatchLen(`OXM ${NAME_BY_CODE[fieldCode]} has length ${len}`);
    const kind = KIND_BY_CODE[fieldCode]!;
    const field = NAME_BY_CODE[fieldCode]!;
    const value = readValue(r, kind);
    // The cast is the table's promise: kind and name come from the same row.
    if (!hasMask) return { field, value } as OxmBasicField;
    return { field, value, mask: readValue(r, kind) } as OxmBasicField;
  }
  if (oxmClass === OFPXMC_EXPERIMENTER) {
    if (len < 4) throw badMatchLen(`experimenter OXM of length ${len}`);
    const experimenter = r.u32();
    return { field: 'experimenter', oxmClass, fieldCode, hasMask, experimenter, data: r.bytes(len - 4) };
  }
  return { field: 'unknown', oxmClass, fieldCode, hasMask, data: r.bytes(len) };
}

/** Bytes one OXM TLV takes, header included. */
export function oxmSize(f: OxmField): number {
  switch (f.field) {
    case 'experimenter':
      return 8 + f.data.length;
    case 'unknown':
      return 4 + f.data.length;
    default: {
      const code = CODE_BY_NAME.get(f.field);
      if (code === undefined) throw encodeError(`unknown OXM field ${String(f.field)}`);
      const size = SIZE_BY_CODE[code]!;
      return 4 + (f.mask === undefined ? size : size * 2);
    }
  }
}

export function writeOxm(w: Writer, f: OxmField): void {
  switch (f.field) {
    case 'experimenter':
      if (f.data.length + 4 > 255) throw encodeError('experimenter OXM payload over 251 bytes');
      w.u16(f.oxmClass);
      w.u8((f.fieldCode << 1) | (f.hasMask ? 1 : 0));
      w.u8(4 + f.data.length);
      w.u32(f.experimenter);
      w.bytes(f.data);
      return;
    case 'unknown':
      if (f.data.length > 255) throw encodeError('OXM payload over 255 bytes');
      w.u16(f.oxmClass);
      w.u8((f.fieldCode << 1) | (f.hasMask ? 1 : 0));
      w.u8(f.data.length);
      w.bytes(f.data);
      return;
    default: {
      const code = CODE_BY_NAME.get(f.field);
      if (code === undefined) throw encodeError(`unknown OXM field ${String(f.field)}`);
      const size = SIZE_BY_CODE[code]!;
      const kind = KIND_BY_CODE[code]!;
      const masked = f.mask !== undefined;
      w.u16(OFPXMC_OPENFLOW_BASIC);
      w.u8((code << 1) | (masked ? 1 : 0));
      w.u8(masked ? size * 2 : size);
      writeValue(w, kind, f.value, f.field);
      if (masked) writeValue(w, kind, f.mask, f.field);
    }
  }
}

// ---- ofp_match: type, length (without padding), OXM TLVs, zero padding to 8 -----------

/** Reads an ofp_match and its padding. */
export function readMatch(r: Reader): Match {
  r.need(4, 'ofp_match header');
  const start = r.pos;
  const type = r.u16();
  const length = r.u16();
  if (type !== OFPMT_OXM) throw badMatchType(`match type ${type} is not OFPMT_OXM`);
  if (length < 4) throw badMatchLen(`match length ${length}`);
  const end = start + length;
  if (end > r.end) throw badMatchLen(`match length ${length} overruns its container`);
  const fields: OxmField[] = [];
  const outer = r.end;
  r.end = end;
  while (r.pos < end) fields.push(readOxm(r));
  r.end = outer;
  const padded = start + pad8(length);
  if (padded > r.end) throw badMatchLen(`match padding overruns its container`);
  r.pos = padded;
  return fields;
}

/** ofp_match length field: header plus TLVs, without the padding. */
export function matchLength(m: Match): number {
  let n = 4;
  for (let i = 0; i < m.length; i++) n += oxmSize(m[i]!);
  return n;
}

export function writeMatch(w: Writer, m: Match, length: number): void {
  w.u16(OFPMT_OXM);
  w.u16(length);
  for (let i = 0; i < m.length; i++) writeOxm(w, m[i]!);
  w.pad(pad8(length) - length);
}

// ---- OXM ids (table features): headers without payload ------------------------------

/** An OXM header as listed by table-features properties; experimenter ids carry their id. */
export interface OxmId {
  readonly oxmClass: number;
  readonly fieldCode: number;
  readonly hasMask: boolean;
  readonly length: number;
  readonly experimenter?: number;
}

export function readOxmId(r: Reader): OxmId {
  const oxmClass = r.u16();
  const fh = r.u8();
  const length = r.u8();
  const base = { oxmClass, fieldCode: fh >>> 1, hasMask: (fh & 1) === 1, length };
  if (oxmClass === OFPXMC_EXPERIMENTER) return { ...base, experimenter: r.u32() };
  return base;
}

export const oxmIdSize = (id: OxmId): number => (id.oxmClass === OFPXMC_EXPERIMENTER ? 8 : 4);

export function writeOxmId(w: Writer, id: OxmId): void {
  w.u16(id.oxmClass);
  w.u8((id.fieldCode << 1) | (id.hasMask ? 1 : 0));
  w.u8(id.length);
  if (id.oxmClass === OFPXMC_EXPERIMENTER) w.u32(id.experimenter ?? 0);
}
