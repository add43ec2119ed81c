// HAProxy as a sidecar: weights become `set server <backend>/<server> weight <n>` on its
// runtime API. HAProxy servers are named after replica ids.
//
// Fail-static: the weights also go on the bus as the sidecar's weights hint, with their ttl. A
// server with an agent-check (the meshflow agent, haproxy-agent.ts, running beside HAProxy) takes
// its weight from the agent, which answers the weight in force and falls back to the configured
// weight once the ttl passes without a fresh hint (the bridge or the broker gone): the adapter
// leaves those servers' weights to it, so the two never fight.
import type { HintPublisher, ServiceWeights } from '../hints.ts';
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

  /** With a publisher, weights also go on the bus for the agent (fail-static); without, the runtime API only. */
  constructor(private readonly publisher?: HintPublisher) {}

  // HAProxy has no notion of a weight's lifetime; the runner republishes before the ttl. Only the
  // agent can fall back to even weights when the runner is gone.
  async apply(sidecar: Sidecar, services: ServiceWeights, ttlMs: number): Promise<void> {
    const target = sidecar.haproxy;
    if (!target) throw new Error(`sidecar ${sidecar.id}: kind haproxy without a haproxy section`);
    // First the bus, so that an agent never answers older weights than the runtime API holds.
    await this.publisher?.publish({ kind: 'weights', sidecarId: sidecar.id, services }, { ttlMs });
    const failures: string[] = [];
    for (const [service, replicas] of Object.entries(services)) {
      const backend = backendFor(target, service);
      if (!backend) continue;
      const agentOwned = this.publisher ? await agentCheckedServers(target.socket, backend) : new Set<string>();
      for (const [server, w] of Object.entries(replicas)) {
        if (agentOwned.has(server)) continue;
        const answer = (await runtimeCommand(target.socket, `set server ${backend}/${server} weight ${toHaproxyWeight(w)}`)).trim();
        // Success is silence; anything else is HAProxy explaining a refusal.
        if (answer.length > 0) failures.push(`${backend}/${server}: ${answer}`);
      }
    }
    if (failures.length) throw new Error(`haproxy ${target.socket}: ${failures.join('; ')}`);
  }

  async close(): Promise<void> {}
}

/** Servers of `backend` whose weight the meshflow agent sets (an enabled agent-check). */
async function agentCheckedServers(socket: string, backend: string): Promise<Set<string>> {
  return new Set((await readServers(socket, backend)).filter((s) => s.agentCheck === true).map((s) => s.name));
}

export async function readServers(socket: string, backend: string): Promise<ServerState[]> {
  return parseServersState(await runtimeCommand(socket, `show servers state ${backend}`));
}
