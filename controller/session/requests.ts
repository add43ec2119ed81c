// Which reply answers which request: one table, so that a reply of the wrong type (or a multipart
// reply of the wrong kind) under a waiting xid is a protocol fault rather than a silent mix-up.
import type { MessageOf, MultipartReply, MultipartRequest, OfMessage, Unnumbered } from 'openflow-ts';

export const REPLY_TO = {
  features_request: 'features_reply',
  barrier_request: 'barrier_reply',
  echo_request: 'echo_reply',
  get_config_request: 'get_config_reply',
  role_request: 'role_reply',
  get_async_request: 'get_async_reply',
  queue_get_config_request: 'queue_get_config_reply',
  multipart_request: 'multipart_reply',
} as const satisfies Partial<Record<OfMessage['type'], OfMessage['type']>>;

export type RequestType = keyof typeof REPLY_TO;
export type ReplyType = (typeof REPLY_TO)[RequestType];
/** A request as a caller builds it (the session numbers it). */
export type RequestOf<T extends RequestType> = Omit<MessageOf<T>, 'xid'>;
export type AnyRequest = Extract<Unnumbered, { type: RequestType }>;
/** Requests with a single reply message (multipart requests have their own call). */
export type SingleRequest = Exclude<AnyRequest, { type: 'multipart_request' }>;
export type ReplyOf<T extends RequestType> = MessageOf<(typeof REPLY_TO)[T]>;

export type MultipartRequestBody = MultipartRequest['body'];
export type MultipartReplyBody = MultipartReply['body'];
export type MultipartKind = MultipartRequestBody['kind'];
/** The reply parts of a multipart request of kind K (a REPLY_MORE chain, in order). */
export type PartsOf<K extends MultipartKind> = readonly Extract<MultipartReplyBody, { kind: K }>[];
export type MeterFeatures = Extract<MultipartReplyBody, { kind: 'meter_features' }>;

/** What a waiting request expects: a reply type, and for multipart the body kind. */
export interface Expectation {
  readonly reply: ReplyType;
  readonly multipart: MultipartKind | undefined;
}

export function expectationOf(msg: AnyRequest): Expectation {
  return { reply: REPLY_TO[msg.type], multipart: msg.type === 'multipart_request' ? msg.body.kind : undefined };
}

/** Why a reply does not answer what was asked, or undefined when it does. */
export function mismatch(expected: Expectation, msg: OfMessage): string | undefined {
  if (msg.type !== expected.reply) return `expected ${expected.reply}, got ${msg.type}`;
  if (msg.type === 'multipart_reply' && expected.multipart !== undefined && msg.body.kind !== expected.multipart) {
    return `expected a ${expected.multipart} multipart reply, got ${msg.body.kind}`;
  }
  return undefined;
}
