// The built-in sidecar's adapter: weights go out as a retained hint on the sidecar's own
// topic; the sidecar applies them and drops them when their ttl passes.
import type { HintPublisher, ReplicaHints, ServiceWeights } from '../hints.ts';
import type { Sidecar } from '../registry.ts';
import type { WeightsAdapter } from './adapter.ts';

export class MqttWeightsAdapter implements WeightsAdapter {
  readonly kind = 'builtin' as const;

  constructor(private readonly publisher: HintPublisher) {}

  async apply(sidecar: Sidecar, services: ServiceWeights, ttlMs: number, replicas?: ReplicaHints): Promise<void> {
    // Left out when empty: a sidecar that predates the field still takes the hint.
    const extra = replicas !== undefined && Object.keys(replicas).length > 0 ? { replicas } : {};
    await this.publisher.publish({ kind: 'weights', sidecarId: sidecar.id, services, ...extra }, { ttlMs });
  }

  async close(): Promise<void> {
    // The publisher's client belongs to the runner, which ends it.
  }
}
