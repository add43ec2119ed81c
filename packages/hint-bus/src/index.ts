// @meshflow/hint-bus: typed, validated meshflow hints for sidecars.
export * from './hints.ts';
export { connectHints, systemClock } from './subscriber.ts';
export type { HintBus, HintBusCounts, HintBusOptions, HintCallbacks, HintClock, HintMeta, InvalidHint, ExpiredHint } from './subscriber.ts';
export { decodeHint, idOf, schemaOf, INVALID_REASONS, MAX_HINT_BYTES } from './decode.ts';
export type { Decoded, DecodeOptions, InvalidReason } from './decode.ts';
export { splitSignature, verifySignature, loadKeys } from './signature.ts';
export type { SplitPayload, TrustedKeys } from './signature.ts';
export { TOPIC_ROOT, topicFilter, parseTopic } from './topics.ts';
export type { KeyedKind } from './topics.ts';
