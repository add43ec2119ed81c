// The bridge's one view of the hint bus. Everything bridge/ needs from bus/ passes
// through here, so the rest of the bridge names one module for the contract.
import type { CostRowHint, WeightsHint } from '../bus/hints.ts';

export type { CostRowHint, EventHint, Hint, Level, SidecarStatusHint, WeightsHint } from '../bus/hints.ts';
export { DEFAULT_TTL_MS, isStale, WEIGHT_MAX } from '../bus/hints.ts';
export { patterns, topics } from '../bus/topics.ts';
export { parseHint, type HintError } from '../bus/parse.ts';
export { HintPublisher } from '../bus/publisher.ts';
export { subscribeHints, type HintSubscription } from '../bus/subscriber.ts';
export { connectBus } from '../bus/client.ts';
export { systemClock, type Clock } from '../bus/clock.ts';

/** One destination in a cost row. */
export type CostEntry = CostRowHint['costs'][number];
/** Per service, per replica weight 0..1000. */
export type ServiceWeights = WeightsHint['services'];
