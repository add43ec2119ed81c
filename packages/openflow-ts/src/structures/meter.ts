// Meter bands (spec 7.3.4.4), shared by meter_mod and the meter_config multipart reply.
import { OFPMBT_DROP, OFPMBT_DSCP_REMARK, OFPMBT_EXPERIMENTER } from '../constants.ts';
import { badProperty } from '../errors.ts';
import type { Reader, Writer } from '../wire.ts';

export type MeterBand =
  | { readonly type: 'drop'; readonly rate: number; readonly burstSize: number }
  | { readonly type: 'dscp_remark'; readonly rate: number; readonly burstSize: number; readonly precLevel: number }
  | { readonly type: 'experimenter'; readonly rate: number; readonly burstSize: number; readonly experimenter: number; readonly data: Buffer }
  /** A band type newer than 1.3.5: the bytes after the 12-byte band header, raw. */
  | { readonly type: 'unknown'; readonly bandType: number; readonly rate: number; readonly burstSize: number; readonly data: Buffer };

const BAND_HEADER_LEN = 12;

export function readBand(r: Reader): MeterBand {
  const start = r.pos;
  r.need(BAND_HEADER_LEN, 'meter band');
  const type = r.u16();
  const len = r.u16();
  if (len < BAND_HEADER_LEN || start + len > r.end) throw badProperty(`meter band type ${type} length ${len}`);
  const end = start + len;
  const rate = r.u32();
  const burstSize = r.u32();
  let band: MeterBand;
  switch (type) {
    case OFPMBT_DROP:
      if (len !== 16) throw badProperty(`drop band length ${len}`);
      band = { type: 'drop', rate, burstSize };
      break;
    case OFPMBT_DSCP_REMARK:
      if (len !== 16) throw badProperty(`dscp_remark band length ${len}`);
      band = { type: 'dscp_remark', rate, burstSize, precLevel: r.u8() };
      break;
    case OFPMBT_EXPERIMENTER:
      if (len < 16) throw badProperty(`experimenter band length ${len}`);
      band = { type: 'experimenter', rate, burstSize, experimenter: r.u32(), data: r.bytes(end - r.pos) };
      break;
    default:
      band = { type: 'unknown', bandType: type, rate, burstSize, data: r.bytes(end - r.pos) };
  }
  r.pos = end;
  return band;
}

export function readBands(r: Reader): MeterBand[] {
  const out: MeterBand[] = [];
  while (r.pos < r.end) out.push(readBand(r));
  return out;
}

export function bandSize(b: MeterBand): number {
  switch (b.type) {
    case 'drop':
    case 'dscp_remark':
      return 16;
    case 'experimenter':
      return 16 + b.data.length;
    case 'unknown':
      return BAND_HEADER_LEN + b.data.length;
  }
}

export function bandsSize(list: readonly MeterBand[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += bandSize(list[i]!);
  return n;
}

export function writeBands(w: Writer, list: readonly MeterBand[]): void {
  for (let i = 0; i < list.length; i++) {
    const b = list[i]!;
    const start = w.pos;
    const len = bandSize(b);
    switch (b.type) {
      case 'drop':
        w.u16(OFPMBT_DROP);
        break;
      case 'dscp_remark':
        w.u16(OFPMBT_DSCP_REMARK);
        break;
      case 'experimenter':
        w.u16(OFPMBT_EXPERIMENTER);
        break;
      case 'unknown':
        w.u16(b.bandType);
        break;
    }
    w.u16(len);
    w.u32(b.rate);
    w.u32(b.burstSize);
    switch (b.type) {
      case 'dscp_remark':
        w.u8(b.precLevel);
        break;
      case 'experimenter':
        w.u32(b.experimenter);
        w.bytes(b.data);
        break;
      case 'unknown':
        w.bytes(b.data);
        break;
      case 'drop':
        break;
    }
    w.pos = start + len;
  }
}
