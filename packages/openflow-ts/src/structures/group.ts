// Group buckets (spec 7.3.4.2), shared by group_mod and the group_desc multipart reply.
import { badLength } from '../errors.ts';
import { actionsSize, readActions, writeActions, type Action } from './actions.ts';
import type { Reader, Writer } from '../wire.ts';

export interface Bucket {
  readonly weight: number;
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: readonly Action[];
}

const BUCKET_HEADER_LEN = 16;

export function readBucket(r: Reader): Bucket {
  const start = r.pos;
  r.need(BUCKET_HEADER_LEN, 'ofp_bucket');
  const len = r.u16();
  if (len < BUCKET_HEADER_LEN || start + len > r.end) throw badLength(`bucket length ${len}`);
  const weight = r.u16();
  const watchPort = r.u32();
  const watchGroup = r.u32();
  r.skip(4);
  const actions = readActions(r, start + len - r.pos);
  return { weight, watchPort, watchGroup, actions };
}

/** Buckets until the cursor's limit. */
export function readBuckets(r: Reader): Bucket[] {
  const out: Bucket[] = [];
  while (r.pos < r.end) out.push(readBucket(r));
  return out;
}

export const bucketSize = (b: Bucket): number => BUCKET_HEADER_LEN + actionsSize(b.actions);

export function bucketsSize(list: readonly Bucket[]): number {
  let n = 0;
  for (let i = 0; i < list.length; i++) n += bucketSize(list[i]!);
  return n;
}

export function writeBuckets(w: Writer, list: readonly Bucket[]): void {
  for (let i = 0; i < list.length; i++) {
    const b = list[i]!;
    w.u16(bucketSize(b));
    w.u16(b.weight);
    w.u32(b.watchPort);
    w.u32(b.watchGroup);
    w.pad(4);
    writeActions(w, b.actions);
  }
}
