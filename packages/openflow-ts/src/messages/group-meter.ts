// Group and meter table changes (spec 7.3.4.2, 7.3.4.4): a fixed part, then a list of
// buckets or bands that each carry their own length.
import { OFPT_GROUP_MOD, OFPT_METER_MOD } from '../constants.ts';
import { bucketsSize, readBuckets, writeBuckets, type Bucket } from '../structures/group.ts';
import { bandsSize, readBands, writeBands, type MeterBand } from '../structures/meter.ts';
import type { MessageCodec } from './codec.ts';

/** ofp_group_mod before the buckets: command, type, pad, group_id. */
const GROUP_MOD_FIXED_LEN = 8;
/** ofp_meter_mod before the bands: command, flags, meter_id. */
const METER_MOD_FIXED_LEN = 8;

export interface GroupMod {
  readonly type: 'group_mod';
  readonly xid: number;
  readonly command: number;
  readonly groupType: number;
  readonly groupId: number;
  readonly buckets: readonly Bucket[];
}
export interface MeterMod {
  readonly type: 'meter_mod';
  readonly xid: number;
  readonly command: number;
  readonly flags: number;
  readonly meterId: number;
  readonly bands: readonly MeterBand[];
}

export const groupMod: MessageCodec<GroupMod> = {
  code: OFPT_GROUP_MOD,
  tag: 'group_mod',
  size: (m) => GROUP_MOD_FIXED_LEN + bucketsSize(m.buckets),
  read(r, xid) {
    r.need(GROUP_MOD_FIXED_LEN, 'group_mod');
    const command = r.u16();
    const groupType = r.u8();
    r.skip(1);
    const groupId = r.u32();
    return { type: 'group_mod', xid, command, groupType, groupId, buckets: readBuckets(r) };
  },
  write(w, m) {
    w.u16(m.command);
    w.u8(m.groupType);
    w.pad(1);
    w.u32(m.groupId);
    writeBuckets(w, m.buckets);
  },
};

export const meterMod: MessageCodec<MeterMod> = {
  code: OFPT_METER_MOD,
  tag: 'meter_mod',
  size: (m) => METER_MOD_FIXED_LEN + bandsSize(m.bands),
  read(r, xid) {
    r.need(METER_MOD_FIXED_LEN, 'meter_mod');
    const command = r.u16();
    const flags = r.u16();
    const meterId = r.u32();
    return { type: 'meter_mod', xid, command, flags, meterId, bands: readBands(r) };
  },
  write(w, m) {
    w.u16(m.command);
    w.u16(m.flags);
    w.u32(m.meterId);
    writeBands(w, m.bands);
  },
};
