// Queue descriptions (spec 7.3.6.3) for queue_get_config_reply. Lengths are taken as
// declared: the 1.3 spec does not pad experimenter properties, and switches do not either.
import { OFPQT_EXPERIMENTER, OFPQT_MAX_RATE, OFPQT_MIN_RATE } from '../constants.ts';
import { badProperty } from '../errors.ts';
import type { Reader, Writer } from '../wire.ts';

export type QueueProperty =
  /** rate in 1/10 of a percent; > 1000 means disabled */
  | { readonly type: 'min_rate'; readonly rate: number }
  | { readonly type: 'max_rate'; readonly rate: number }
  | { readonly type: 'experimenter'; readonly experimenter: number; readonly data: Buffer }
  | { readonly type: 'unknown'; readonly property: number; readonly data: Buffer };

export interface PacketQueue {
  readonly queueId: number;
  readonly port: number;
  readonly properties: readonly QueueProperty[];
}

const QUEUE_HEADER_LEN = 16;
const PROP_HEADER_LEN = 8;

function readProperty(r: Reader): QueueProperty {
  const start = r.pos;
  r.need(PROP_HEADER_LEN, 'queue property');
  const property = r.u16();
  const len = r.u16();
  if (len < PROP_HEADER_LEN || start + len > r.end) throw badProperty(`queue property ${property} length ${len}`);
  const end = start + len;
  r.skip(4);
  let p: QueueProperty;
  switch (property) {
    case OFPQT_MIN_RATE:
    case OFPQT_MAX_RATE: {
      if (len !== 16) throw badProperty(`queue rate property length ${len}`);
      const rate = r.u16();
      p = property === OFPQT_MIN_RATE ? { type: 'min_rate', rate } : { type: 'max_rate', rate };
      break;
    }
    case OFPQT_EXPERIMENTER: {
      if (len < 16) throw badProperty(`queue experimenter property length ${len}`);
      const experimenter = r.u32();
      r.skip(4);
      p = { type: 'experimenter', experimenter, data: r.bytes(end - r.pos) };
      break;
    }
    default:
      p = { type: 'unknown', property, data: r.bytes(end - r.pos) };
  }
  r.pos = end;
  return p;
}

export function readQueues(r: Reader): PacketQueue[] {
  const out: PacketQueue[] = [];
  while (r.pos < r.end) {
    const start = r.pos;
    r.need(QUEUE_HEADER_LEN, 'ofp_packet_queue');
    const queueId = r.u32();
    const port = r.u32();
    const len = r.u16();
    if (len < QUEUE_HEADER_LEN || start + len > r.end) throw badProperty(`queue length ${len}`);
    r.skip(6);
    const outer = r.end;
    r.end = start + len;
    const properties: QueueProperty[] = [];
    while (r.pos < r.end) properties.push(readProperty(r));
    r.end = outer;
    out.push({ queueId, port, properties });
  }
  return out;
}

function propertySize(p: QueueProperty): number {
  switch (p.type) {
    case 'min_rate':
    case 'max_rate':
      return 16;
    case 'experimenter':
      return 16 + p.data.length;
    case 'unknown':
      return PROP_HEADER_LEN + p.data.length;
  }
}

function queueSize(q: PacketQueue): number {
  let n = QUEUE_HEADER_LEN;
  for (const p of q.properties) n += propertySize(p);
  return n;
}

export function queuesSize(list: readonly PacketQueue[]): number {
  let n = 0;
  for (const q of list) n += queueSize(q);
  return n;
}

export function writeQueues(w: Writer, list: readonly PacketQueue[]): void {
  for (const q of list) {
    w.u32(q.queueId);
    w.u32(q.port);
    w.u16(queueSize(q));
    w.pad(6);
    for (const p of q.properties) {
      const start = w.pos;
      const len = propertySize(p);
      switch (p.type) {
        case 'min_rate':
          w.u16(OFPQT_MIN_RATE);
          break;
        case 'max_rate':
          w.u16(OFPQT_MAX_RATE);
          break;
        case 'experimenter':
          w.u16(OFPQT_EXPERIMENTER);
          break;
        case 'unknown':
          w.u16(p.property);
          break;
      }
      w.u16(len);
      w.pad(4);
      switch (p.type) {
        case 'min_rate':
        case 'max_rate':
          w.u16(p.rate);
          break;
        case 'experimenter':
          w.u32(p.experimenter);
          w.pad(4);
          w.bytes(p.data);
          break;
        case 'unknown':
          w.bytes(p.data);
          break;
      }
      w.pos = start + len;
    }
  }
}
