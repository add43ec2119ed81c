// Multiparts that describe the switch (spec 7.3.5.1, 7.3.5.5.2, 7.3.5.7, 7.3.5.15): its
// description strings, its ports, its table features, and experimenter extensions.
import { OFPMP_DESC, OFPMP_EXPERIMENTER, OFPMP_PORT_DESC, OFPMP_TABLE_FEATURES } from '../constants.ts';
import { OFP_PORT_LEN, readPort, writePort, type Port } from '../structures/port.ts';
import { readTableFeatures, tableFeaturesSize, writeTableFeatures, type TableFeatures } from '../structures/table-features.ts';
import type { Reader } from '../wire.ts';
import { emptyBody, expectExactly, readFixedList, type BodyCodec, type MultipartEntry } from './codec.ts';

/** DESC_STR_LEN: the four description strings of ofp_desc. */
const DESC_STR_LEN = 256;
/** SERIAL_NUM_LEN: ofp_desc's serial number. */
const SERIAL_NUM_LEN = 32;
/** ofp_desc: mfr, hw, sw, serial, dp. */
const DESC_LEN = 4 * DESC_STR_LEN + SERIAL_NUM_LEN;
/** ofp_experimenter_multipart_header: experimenter, exp_type. */
const EXPERIMENTER_HEADER_LEN = 8;

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

export interface DescRequest { readonly kind: 'desc' }
export interface DescReply {
  readonly kind: 'desc';
  readonly mfrDesc: string;
  readonly hwDesc: string;
  readonly swDesc: string;
  readonly serialNum: string;
  readonly dpDesc: string;
}
export interface PortDescRequest { readonly kind: 'port_desc' }
export interface PortDescReply { readonly kind: 'port_desc'; readonly ports: readonly Port[] }
export interface TableFeaturesBody { readonly kind: 'table_features'; readonly tables: readonly TableFeatures[] }

export const desc: MultipartEntry<DescRequest, DescReply> = {
  code: OFPMP_DESC,
  kind: 'desc',
  request: emptyBody('desc'),
  reply: {
    size: () => DESC_LEN,
    read(r) {
      expectExactly(r, DESC_LEN, 'desc');
      return {
        kind: 'desc',
        mfrDesc: r.fixedString(DESC_STR_LEN),
        hwDesc: r.fixedString(DESC_STR_LEN),
        swDesc: r.fixedString(DESC_STR_LEN),
        serialNum: r.fixedString(SERIAL_NUM_LEN),
        dpDesc: r.fixedString(DESC_STR_LEN),
      };
    },
    write(w, b) {
      w.fixedString(b.mfrDesc, DESC_STR_LEN);
      w.fixedString(b.hwDesc, DESC_STR_LEN);
      w.fixedString(b.swDesc, DESC_STR_LEN);
      w.fixedString(b.serialNum, SERIAL_NUM_LEN);
      w.fixedString(b.dpDesc, DESC_STR_LEN);
    },
  },
};

export const portDesc: MultipartEntry<PortDescRequest, PortDescReply> = {
  code: OFPMP_PORT_DESC,
  kind: 'port_desc',
  request: emptyBody('port_desc'),
  reply: {
    size: (b) => OFP_PORT_LEN * b.ports.length,
    read: (r) => ({ kind: 'port_desc', ports: readFixedList(r, OFP_PORT_LEN, 'port_desc', readPort) }),
    write(w, b) {
      for (const p of b.ports) writePort(w, p);
    },
  },
};

/** Request and reply carry the same list (an empty request asks without changing anything). */
const tableFeaturesBody: BodyCodec<TableFeaturesBody> = {
  size: (b) => tableFeaturesSize(b.tables),
  read: (r) => ({ kind: 'table_features', tables: readTableFeatures(r) }),
  write: (w, b) => writeTableFeatures(w, b.tables),
};

export const tableFeatures: MultipartEntry<TableFeaturesBody, TableFeaturesBody> = {
  code: OFPMP_TABLE_FEATURES,
  kind: 'table_features',
  request: tableFeaturesBody,
  reply: tableFeaturesBody,
};

const experimenterBody: BodyCodec<ExperimenterMultipart> = {
  size: (b) => EXPERIMENTER_HEADER_LEN + b.data.length,
  read(r: Reader) {
    r.need(EXPERIMENTER_HEADER_LEN, 'experimenter multipart');
    return { kind: 'experimenter', experimenter: r.u32(), expType: r.u32(), data: r.rest() };
  },
  write(w, b) {
    w.u32(b.experimenter);
    w.u32(b.expType);
    w.bytes(b.data);
  },
};

export const experimenter: MultipartEntry<ExperimenterMultipart, ExperimenterMultipart> = {
  code: OFPMP_EXPERIMENTER,
  kind: 'experimenter',
  request: experimenterBody,
  reply: experimenterBody,
};

/** A multipart type this codec does not know: the body is kept raw. */
export const unknownBody = {
  size: (b: UnknownMultipart): number => b.data.length,
  read: (r: Reader, mpType: number): UnknownMultipart => ({ kind: 'unknown', mpType, data: r.rest() }),
} as const;
