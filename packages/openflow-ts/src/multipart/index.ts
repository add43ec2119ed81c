// Multipart bodies by table: the entries of the three families, indexed by wire code
// (decode) and by kind (encode). An unknown multipart type is kept raw as
// { kind: 'unknown', mpType, data }.
import type { Reader, Writer } from '../wire.ts';
import type { BodyCodec, MultipartEntry } from './codec.ts';
import * as groupMeter from './group-meter.ts';
import * as stats from './stats.ts';
import * as description from './switch-description.ts';
import type { ExperimenterMultipart, UnknownMultipart } from './switch-description.ts';

export type {
  FlowStatsRequestFields,
  FlowStats,
  TableStats,
  PortStats,
  QueueStats,
  FlowRequest,
  AggregateRequest,
  FlowReply,
  AggregateReply,
  TableRequest,
  TableReply,
  PortStatsRequest,
  PortStatsReply,
  QueueRequest,
  QueueReply,
} from './stats.ts';
export type {
  BucketCounter,
  GroupStats,
  GroupDesc,
  MeterBandStats,
  MeterStats,
  MeterConfig,
  GroupRequest,
  GroupReply,
  GroupDescRequest,
  GroupDescReply,
  GroupFeaturesRequest,
  GroupFeaturesReply,
  MeterRequest,
  MeterReply,
  MeterConfigRequest,
  MeterConfigReply,
  MeterFeaturesRequest,
  MeterFeaturesReply,
} from './group-meter.ts';
export type { DescRequest, DescReply, PortDescRequest, PortDescReply, TableFeaturesBody } from './switch-description.ts';
export type { BodyCodec, MultipartEntry } from './codec.ts';

/** Every known multipart type, one entry each. */
export const MULTIPART_ENTRIES = {
  desc: description.desc,
  flow: stats.flow,
  aggregate: stats.aggregate,
  table: stats.table,
  port_stats: stats.portStats,
  queue: stats.queue,
  group: groupMeter.group,
  group_desc: groupMeter.groupDesc,
  group_features: groupMeter.groupFeatures,
  meter: groupMeter.meter,
  meter_config: groupMeter.meterConfig,
  meter_features: groupMeter.meterFeatures,
  table_features: description.tableFeatures,
  port_desc: description.portDesc,
  experimenter: description.experimenter,
} as const;

export type MultipartKind = keyof typeof MULTIPART_ENTRIES;
type EntryOf<K extends MultipartKind> = (typeof MULTIPART_ENTRIES)[K];
type RequestOf<K extends MultipartKind> = EntryOf<K> extends MultipartEntry<infer Req, infer _Rep> ? Req : never;
type ReplyOf<K extends MultipartKind> = EntryOf<K> extends MultipartEntry<infer _Req, infer Rep> ? Rep : never;

/** The body of a multipart request, tagged by `kind`. */
export type MultipartRequestBody =
  | description.DescRequest
  | stats.FlowRequest
  | stats.AggregateRequest
  | stats.TableRequest
  | stats.PortStatsRequest
  | stats.QueueRequest
  | groupMeter.GroupRequest
  | groupMeter.GroupDescRequest
  | groupMeter.GroupFeaturesRequest
  | groupMeter.MeterRequest
  | groupMeter.MeterConfigRequest
  | groupMeter.MeterFeaturesRequest
  | description.TableFeaturesBody
  | description.PortDescRequest
  | ExperimenterMultipart
  | UnknownMultipart;

/** The body of a multipart reply, tagged by `kind`. */
export type MultipartReplyBody =
  | description.DescReply
  | stats.FlowReply
  | stats.AggregateReply
  | stats.TableReply
  | stats.PortStatsReply
  | stats.QueueReply
  | groupMeter.GroupReply
  | groupMeter.GroupDescReply
  | groupMeter.GroupFeaturesReply
  | groupMeter.MeterReply
  | groupMeter.MeterConfigReply
  | groupMeter.MeterFeaturesReply
  | description.TableFeaturesBody
  | description.PortDescReply
  | ExperimenterMultipart
  | UnknownMultipart;

// Compile-time check: the unions are exactly what the table describes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const requestsMatchTable: Same<MultipartRequestBody, { [K in MultipartKind]: RequestOf<K> }[MultipartKind] | UnknownMultipart> = true;
const repliesMatchTable: Same<MultipartReplyBody, { [K in MultipartKind]: ReplyOf<K> }[MultipartKind] | UnknownMultipart> = true;
void requestsMatchTable;
void repliesMatchTable;

/** Wire code by body kind. */
export const MULTIPART_CODES = Object.fromEntries(
  Object.values(MULTIPART_ENTRIES).map((e) => [e.kind, e.code]),
) as { readonly [K in MultipartKind]: EntryOf<K>['code'] };

// Each entry is a MultipartEntry over its own bodies; the tables see them through the
// unions (method parameters are bivariant, so this widening is checked, not forced).
type AnyEntry = MultipartEntry<MultipartRequestBody, MultipartReplyBody>;
const ENTRY_BY_KIND: Readonly<Record<MultipartKind, AnyEntry>> = MULTIPART_ENTRIES;
const ENTRY_BY_CODE = new Map<number, AnyEntry>(Object.values(ENTRY_BY_KIND).map((e) => [e.code, e]));
if (ENTRY_BY_CODE.size !== Object.keys(ENTRY_BY_KIND).length) throw new Error('openflow-ts: two multipart entries share a code');

export function multipartCode(body: MultipartRequestBody | MultipartReplyBody): number {
  return body.kind === 'unknown' ? body.mpType : ENTRY_BY_KIND[body.kind].code;
}

function requestCodec(b: MultipartRequestBody): BodyCodec<MultipartRequestBody> | undefined {
  return b.kind === 'unknown' ? undefined : ENTRY_BY_KIND[b.kind].request;
}

function replyCodec(b: MultipartReplyBody): BodyCodec<MultipartReplyBody> | undefined {
  return b.kind === 'unknown' ? undefined : ENTRY_BY_KIND[b.kind].reply;
}

/** The body of a multipart request; the cursor's limit is the message end. */
export function readMultipartRequestBody(r: Reader, mpType: number): MultipartRequestBody {
  const entry = ENTRY_BY_CODE.get(mpType);
  return entry === undefined ? description.unknownBody.read(r, mpType) : entry.request.read(r);
}

/** The body of a multipart reply; the cursor's limit is the message end. */
export function readMultipartReplyBody(r: Reader, mpType: number): MultipartReplyBody {
  const entry = ENTRY_BY_CODE.get(mpType);
  return entry === undefined ? description.unknownBody.read(r, mpType) : entry.reply.read(r);
}

export function multipartRequestBodySize(b: MultipartRequestBody): number {
  return b.kind === 'unknown' ? description.unknownBody.size(b) : requestCodec(b)!.size(b);
}

export function multipartReplyBodySize(b: MultipartReplyBody): number {
  return b.kind === 'unknown' ? description.unknownBody.size(b) : replyCodec(b)!.size(b);
}

export function writeMultipartRequestBody(w: Writer, b: MultipartRequestBody): void {
  if (b.kind === 'unknown') w.bytes(b.data);
  else requestCodec(b)!.write(w, b);
}

export function writeMultipartReplyBody(w: Writer, b: MultipartReplyBody): void {
  if (b.kind === 'unknown') w.bytes(b.data);
  else replyCodec(b)!.write(w, b);
}

export type { ExperimenterMultipart, UnknownMultipart };
