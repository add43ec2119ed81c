// HAProxy as a sidecar: weights become `set server <backend>/<server> weight <n>` on its
// runtime API. HAProxy servers are named after replica ids.
import type { ServiceWeights } from '../hints.ts';
import type { HaproxyTarget, Sidecar } from '../registry.ts';
import type { WeightsAdapter } from './adapter.ts';
import { parseServersState, runtimeCommand, type ServerState } from './haproxy-socket.ts';

export const HAPROXY_MAX_WEIGHT = 256;

/** 0..1000 onto HAProxy's 0..256; a live replica never rounds down to 0 (which drains it). */
export function toHaproxyWeight(w: number): number {
  if (w <= 0) return 0;
  return Math.min(HAPROXY_MAX_WEIGHT, Math.max(1, Math.round((w * HAPROXY_MAX_WEIGHT) / 1000)));
}

export function backendFor(target: HaproxyTarget, service: string): string | undefined {
  return target.backends?.[service] ?? target.backend;
}

export class HaproxyAdapter implements WeightsAdapter {
  readonly kind = 'haproxy' as const;

  // HAProxy has no notion of a weight's lifetime; the runner republishes before the ttl
  // and falls back to even weights itself when its hints go stale.
  async apply(sidecar: Sidecar, services: ServiceWeights, _ttlMs: number): Promise<void> {
    const target = sidecar.haproxy;
    if (!target) throw new Error(`sidecar ${sidecar.id}: kind haproxy without a haproxy section`);
    const failures: string[] = [];
    for (const [service, replicas] of Object.entries(services)) {
      const backend = backendFor(target, service);
      if (!backend) continue;
      for (const [server, w] of Object.entries(replicas)) {
        const answer = (await runtimeCommand(target.socket, `set server ${backend}/${server} weight ${toHaproxyWeight(w)}`)).trim();
        // Success is silence; anything else is HAProxy explaining a refusal.
        if (answer.length > 0) failures.push(`${backend}/${server}: ${answer}`);
      }
    }
    if (failures.length) throw new Error(`haproxy ${target.socket}: ${failures.join('; ')}`);
  }

  async close(): Promise<void> {}
}

export async function readServers(socket: string, backend: string): Promise<ServerState[]> {
  return parseServersState(await runtimeCommand(socket, `show servers state ${backend}`));
}
