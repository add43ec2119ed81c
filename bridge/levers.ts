// The bridge's two levers run as one step: either the arbiter decides both (the default), or each
// runs its own loop with its own hysteresis ('independent', what a plain mesh next to a separate
// traffic-engineering system does; kept for comparison in labs/conflict). Holds the arbiter's state
// so the runner only passes hints in and carries the result out.
import { arbitrate, decisionEvent, defaultArbiterParams, initialArbiterState, type ArbiterDecision, type ArbiterParams, type ArbiterState } from './arbiter.ts';
import type { EventHint } from './hints.ts';
import { computeWeights, intentsFor, type IntentDecision, type PolicyParams, type PolicyState, type WeightsResult } from './policy.ts';
import type { Registry } from './registry.ts';

export const LEVER_MODES = ['arbitrated', 'independent'] as const;
export type LeverMode = (typeof LEVER_MODES)[number];

export interface LeverStep {
  readonly weights: WeightsResult;
  readonly intents: IntentDecision;
  readonly decisions: readonly ArbiterDecision[];
  /** The decisions as event bodies for the bus. */
  readonly events: readonly Omit<EventHint, 'v' | 'ts' | 'seq' | 'ttlMs' | 'source'>[];
}

export class Levers {
  private state: ArbiterState = initialArbiterState;
  private readonly arbiter: ArbiterParams;

  constructor(
    readonly mode: LeverMode,
    private readonly params: PolicyParams,
    arbiter: Partial<ArbiterParams> = {},
    /** Whether the bridge has a controller to ask for paths. */
    private readonly paths = true,
  ) {
    this.arbiter = { ...defaultArbiterParams, ...arbiter };
  }

  step(registry: Registry, policy: PolicyState, active: ReadonlySet<string>, now: number): LeverStep {
    if (this.mode === 'independent') {
      return {
        weights: computeWeights(registry, policy, now, this.params),
        intents: intentsFor(registry, policy.costs, active, now, this.params),
        decisions: [],
        events: [],
      };
    }
    const s = arbitrate(registry, policy, this.state, active, now, this.params, this.arbiter, { paths: this.paths });
    this.state = s.state;
    return { weights: s.weights, intents: s.intents, decisions: s.decisions, events: s.decisions.map(decisionEvent) };
  }
}
