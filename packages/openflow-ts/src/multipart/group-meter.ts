// Group and meter multiparts (spec 7.3.5.9-7.3.5.14): statistics, descriptions and
// features of the group and meter tables.
import {
  OFPMP_GROUP,
  OFPMP_GROUP_DESC,
  OFPMP_GROUP_FEATURES,
  OFPMP_METER,
  OFPMP_METER_CONFIG,
  OFPMP_METER_FEATURES,
} from '../constants.ts';
import { bucketsSize, readBuckets, writeBuckets, type Bucket } from '../structures/group.ts';
import { bandsSize, readBands, writeBands, type MeterBand } from '../structures/meter.ts';
import type { Reader } from '../wire.ts';
import { emptyBody, expectExactly, readFixedList, readSized, sumOf, type BodyCodec, type MultipartEntry } from './codec.ts';

/** ofp_group_stats_request, ofp_meter_multipart_request: an id, pad(4). */
const ID_REQUEST_LEN = 8;
/** ofp_group_stats before the bucket counters. */
const GROUP_STATS_FIXED_LEN = 40;
/** ofp_bucket_counter and ofp_meter_band_stats: two u64 counters. */
const COUNTER_PAIR_LEN = 16;
/** ofp_group_desc before the buckets: length, type, pad, group_id. */
const GROUP_DESC_FIXED_LEN = 8;
/** ofp_group_features: types, capabilities, max_groups[4], actions[4]. */
const GROUP_FEATURES_LEN = 40;
/** ofp_meter_stats before the band stats. */
const METER_STATS_FIXED_LEN = 40;
/** Where ofp_meter_stats keeps its u16 length: after the 4-byte meter_id. */
const METER_STATS_LEN_AT = 4;
/** ofp_meter_config before the bands: length, flags, meter_id. */
const METER_CONFIG_FIXED_LEN = 8;
/** ofp_meter_features. */
const METER_FEATURES_LEN = 16;

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

export interface GroupRequest { readonly kind: 'group'; readonly groupId: number }
export interface GroupReply { readonly kind: 'group'; readonly stats: readonly GroupStats[] }
export interface GroupDescRequest { readonly kind: 'group_desc' }
export interface GroupDescReply { readonly kind: 'group_desc'; readonly groups: readonly GroupDesc[] }
export interface GroupFeaturesRequest { readonly kind: 'group_features' }
export interface GroupFeaturesReply {
  readonly kind: 'group_features';
  readonly types: number;
  readonly capabilities: number;
  /** indexed by group type: all, select, indirect, fast failover */
  readonly maxGroups: readonly [number, number, number, number];
  readonly actions: readonly [number, number, number, number];
}
export interface MeterRequest { readonly kind: 'meter'; readonly meterId: number }
export interface MeterReply { readonly kind: 'meter'; readonly stats: readonly MeterStats[] }
export interface MeterConfigRequest { readonly kind: 'meter_config'; readonly meterId: number }
export interface MeterConfigReply { readonly kind: 'meter_config'; readonly meters: readonly MeterConfig[] }
export interface MeterFeaturesRequest { readonly kind: 'meter_features' }
export interface MeterFeaturesReply {
  readonly kind: 'meter_features';
  readonly maxMeter: number;
  readonly bandTypes: number;
  readonly capabilities: number;
  readonly maxBands: number;
  readonly maxColor: number;
}

/** A request that names one group or meter: id, pad(4). */
function idRequest<K extends 'group' | 'meter' | 'meter_config', F extends 'groupId' | 'meterId'>(
  kind: K,
  field: F,
): BodyCodec<{ readonly kind: K } & { readonly [P in F]: number }> {
  return {
    size: () => ID_REQUEST_LEN,
    read(r) {
      expectExactly(r, ID_REQUEST_LEN, kind);
      const id = r.u32();
      r.skip(4);
      return { kind, [field]: id } as { readonly kind: K } & { readonly [P in F]: number };
    },
    write(w, b) {
      w.u32(b[field]);
      w.pad(4);
    },
  };
}

const four = (r: Reader): [number, number, number, number] => [r.u32(), r.u32(), r.u32(), r.u32()];

// ---- groups --------------------------------------------------------------------------

const groupStatsSize = (s: GroupStats): number => GROUP_STATS_FIXED_LEN + COUNTER_PAIR_LEN * s.bucketStats.length;

export const group: MultipartEntry<GroupRequest, GroupReply> = {
  code: OFPMP_GROUP,
  kind: 'group',
  request: idRequest('group', 'groupId'),
  reply: {
    size: (b) => sumOf(b.stats, groupStatsSize),
    read: (r) => ({
      kind: 'group',
      stats: readSized(r, GROUP_STATS_FIXED_LEN, 0, 'group stats', (q) => {
        q.skip(4); // length, pad
        const groupId = q.u32();
        const refCount = q.u32();
        q.skip(4);
        const packetCount = q.u64();
        const byteCount = q.u64();
        const durationSec = q.u32();
        const durationNsec = q.u32();
        const bucketStats = readFixedList(q, COUNTER_PAIR_LEN, 'bucket counters', (c) => ({ packetCount: c.u64(), byteCount: c.u64() }));
        return { groupId, refCount, packetCount, byteCount, durationSec, durationNsec, bucketStats };
      }),
    }),
    write(w, b) {
      for (const s of b.stats) {
        w.u16(groupStatsSize(s));
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
    },
  },
};

const groupDescSize = (g: GroupDesc): number => GROUP_DESC_FIXED_LEN + bucketsSize(g.buckets);

export const groupDesc: MultipartEntry<GroupDescRequest, GroupDescReply> = {
  code: OFPMP_GROUP_DESC,
  kind: 'group_desc',
  request: emptyBody('group_desc'),
  reply: {
    size: (b) => sumOf(b.groups, groupDescSize),
    read: (r) => ({
      kind: 'group_desc',
      groups: readSized(r, GROUP_DESC_FIXED_LEN, 0, 'group desc', (q) => {
        q.skip(2);
        const groupType = q.u8();
        q.skip(1);
        const groupId = q.u32();
        return { groupType, groupId, buckets: readBuckets(q) };
      }),
    }),
    write(w, b) {
      for (const g of b.groups) {
        w.u16(groupDescSize(g));
        w.u8(g.groupType);
        w.pad(1);
        w.u32(g.groupId);
        writeBuckets(w, g.buckets);
      }
    },
  },
};

export const groupFeatures: MultipartEntry<GroupFeaturesRequest, GroupFeaturesReply> = {
  code: OFPMP_GROUP_FEATURES,
  kind: 'group_features',
  request: emptyBody('group_features'),
  reply: {
    size: () => GROUP_FEATURES_LEN,
    read(r) {
      expectExactly(r, GROUP_FEATURES_LEN, 'group_features');
      const types = r.u32();
      const capabilities = r.u32();
      return { kind: 'group_features', types, capabilities, maxGroups: four(r), actions: four(r) };
    },
    write(w, b) {
      w.u32(b.types);
      w.u32(b.capabilities);
      for (const v of b.maxGroups) w.u32(v);
      for (const v of b.actions) w.u32(v);
    },
  },
};

// ---- meters --------------------------------------------------------------------------

const meterStatsSize = (s: MeterStats): number => METER_STATS_FIXED_LEN + COUNTER_PAIR_LEN * s.bandStats.length;

export const meter: MultipartEntry<MeterRequest, MeterReply> = {
  code: OFPMP_METER,
  kind: 'meter',
  request: idRequest('meter', 'meterId'),
  reply: {
    size: (b) => sumOf(b.stats, meterStatsSize),
    read: (r) => ({
      kind: 'meter',
      stats: readSized(r, METER_STATS_FIXED_LEN, METER_STATS_LEN_AT, 'meter stats', (q) => {
        const meterId = q.u32();
        q.skip(8); // len, pad
        const flowCount = q.u32();
        const packetInCount = q.u64();
        const byteInCount = q.u64();
        const durationSec = q.u32();
        const durationNsec = q.u32();
        const bandStats = readFixedList(q, COUNTER_PAIR_LEN, 'meter band stats', (c) => ({ packetBandCount: c.u64(), byteBandCount: c.u64() }));
        return { meterId, flowCount, packetInCount, byteInCount, durationSec, durationNsec, bandStats };
      }),
    }),
    write(w, b) {
      for (const s of b.stats) {
        w.u32(s.meterId);
        w.u16(meterStatsSize(s));
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
    },
  },
};

const meterConfigSize = (m: MeterConfig): number => METER_CONFIG_FIXED_LEN + bandsSize(m.bands);

export const meterConfig: MultipartEntry<MeterConfigRequest, MeterConfigReply> = {
  code: OFPMP_METER_CONFIG,
  kind: 'meter_config',
  request: idRequest('meter_config', 'meterId'),
  reply: {
    size: (b) => sumOf(b.meters, meterConfigSize),
    read: (r) => ({
      kind: 'meter_config',
      meters: readSized(r, METER_CONFIG_FIXED_LEN, 0, 'meter config', (q) => {
        q.skip(2);
        const flags = q.u16();
        const meterId = q.u32();
        return { flags, meterId, bands: readBands(q) };
      }),
    }),
    write(w, b) {
      for (const m of b.meters) {
        w.u16(meterConfigSize(m));
        w.u16(m.flags);
        w.u32(m.meterId);
        writeBands(w, m.bands);
      }
    },
  },
};

export const meterFeatures: MultipartEntry<MeterFeaturesRequest, MeterFeaturesReply> = {
  code: OFPMP_METER_FEATURES,
  kind: 'meter_features',
  request: emptyBody('meter_features'),
  reply: {
    size: () => METER_FEATURES_LEN,
    read(r) {
      expectExactly(r, METER_FEATURES_LEN, 'meter_features');
      const maxMeter = r.u32();
      const bandTypes = r.u32();
      const capabilities = r.u32();
      const maxBands = r.u8();
      const maxColor = r.u8();
      r.skip(2);
      return { kind: 'meter_features', maxMeter, bandTypes, capabilities, maxBands, maxColor };
    },
    write(w, b) {
      w.u32(b.maxMeter);
      w.u32(b.bandTypes);
      w.u32(b.capabilities);
      w.u8(b.maxBands);
      w.u8(b.maxColor);
      w.pad(2);
    },
  },
};
