// One interface for everything that can put weights into effect, one file per kind
// (the shape of MQTT.js's connect/ folder).
import type { ReplicaHints, ServiceWeights } from '../hints.ts';
import type { Sidecar } from '../registry.ts';

export interface WeightsAdapter {
  /** Which sidecars this adapter serves (the registry's `kind`, `builtin` when absent). */
  readonly kind: 'builtin' | 'haproxy';
  /** Puts one sidecar's weights into effect; `ttlMs` says how long they may be trusted. `replicas`:
   *  what the network says of each replica's path (room, links and levels), for adapters that carry it. */
  apply(sidecar: Sidecar, weights: ServiceWeights, ttlMs: number, replicas?: ReplicaHints): Promise<void>;
  close(): Promise<void>;
}

export function kindOf(sidecar: Sidecar): WeightsAdapter['kind'] {
  return sidecar.kind ?? 'builtin';
}
