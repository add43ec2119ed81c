// The weights a sidecar trusts: the last hint from the bridge while it is fresh, even
// weights otherwise (fail static while the bridge or broker is away, then fail safe).
import type { Clock, WeightsHint } from '../hints.ts';

/**
 * Until when a hint is trusted: measured from the earlier of the sender's stamp and our receipt, so
 * a retained hint from long ago is not made fresh by arriving now, and a sender clock running ahead
 * cannot extend its own hints.
 */
export function trustedUntil(hint: WeightsHint, now: number): number {
  return Math.min(hint.ts, now) + hint.ttlMs;
}

export class WeightStore {
  private hint: WeightsHint | undefined;
  private expiresAt = -Infinity;
  private taken = 0;

  constructor(private readonly clock: Pick<Clock, 'now'>) {}

  /** Takes a hint unless it is older than the one held. Returns whether it was taken. */
  update(hint: WeightsHint): boolean {
    if (this.hint && hint.source === this.hint.source && hint.ts < this.hint.ts) return false;
    const now = this.clock.now();
    this.hint = hint;
    this.expiresAt = trustedUntil(hint, now);
    this.taken++;
    return true;
  }

  /** Counts the hints taken, so a reader can tell cheaply whether the weights changed. */
  get revision(): number {
    return this.taken;
  }

  fresh(): boolean {
    return this.hint !== undefined && this.clock.now() <= this.expiresAt;
  }

  /** Weights for one service over the given replicas. Never all zero. */
  effective(service: string, replicaIds: readonly string[]): Record<string, number> {
    const given = this.fresh() ? this.hint?.services[service] : undefined;
    const out: Record<string, number> = {};
    let total = 0;
    if (given) {
      // A replica the bridge does not mention gets nothing: the bridge speaks for the service.
      for (const id of replicaIds) {
        const w = Math.max(0, Math.round(given[id] ?? 0));
        out[id] = w;
        total += w;
      }
    }
    if (total > 0) return out;
    for (const id of replicaIds) out[id] = 1;
    return out;
  }
}
