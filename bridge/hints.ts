// The bridge's one view of the hint bus. Everything bridge/ needs from bus/ passes
// through here, so the rest of the bridge names one module for the contract.
import type { WeightsHint } from '../bus/hints.ts';

/** A cost row carries its entries by column (CostColumns); CostEntry is one destination's entry. */
export type { CostColumns, CostEntry, CostRowHint, EventHint, Hint, Level, LinkStateHint, SidecarStatusHint, WeightsHint } from '../bus/hints.ts';
export { costColumns, costEntries, costEntryAt, DEFAULT_TTL_MS, EQUAL_COST_MAX, isStale, WEIGHT_MAX } from '../bus/hints.ts';
export { patterns, topics } from '../bus/topics.ts';
export { parseHint, isSignatureError, type HintError } from '../bus/parse.ts';
export { HintSigner, trustAlso, type TrustStore } from '../bus/signing.ts';
export { BusWatch, HintRejections, RECOVERY_BACKOFF, registerBusMetrics, type BusHealth } from '../bus/watch.ts';
export { HintPublisher } from '../bus/publisher.ts';
export { subscribeHints, type HintSubscription } from '../bus/subscriber.ts';
export { connectBus, type BusConnectOptions } from '../bus/client.ts';
export { systemClock, type Clock } from '../bus/clock.ts';

/** Per service, per replica weight 0..1000. */
export type ServiceWeights = WeightsHint['services'];
/** Per replica: whether its path has room, and the path with its links' levels (the weights hint's optional `replicas`). */
export type ReplicaHints = NonNullable<WeightsHint['replicas']>;
