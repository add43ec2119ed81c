// What the bridge says of the network path to each replica, held by the sidecar: whether the path
// has room (the class scheduler sends a replica without room only its first class) and the links
// with their levels (stamped on each hop's span). Everything a request needs is worked out once
// per hint, so a request costs one map lookup. Fail static, then fail safe: once the hint's ttl
// passes without a fresh one, every path has room again and spans claim no path.
import type { Attributes } from '@opentelemetry/api';
import type { Cancel } from '../../bus/clock.ts';
import type { Clock, WeightsHint } from '../hints.ts';
import { trustedUntil } from './weights.ts';

/** Where room is applied: the class scheduler's `setRoom`. */
export interface RoomTarget {
  setRoom(service: string, replica: string, room: boolean): void;
}

const SEVERITY = { ok: 0, warning: 1, congested: 2, down: 3 } as const;
/** The level a span gives a link whose state the bridge did not know. */
export const UNKNOWN_LEVEL = 'unknown';

/** A path's span attributes: link ids in order, each link's level, the worst of them, over how many
 *  equal-cost paths connections were spread (a request may have crossed another), and whether it had room. */
export function pathAttributes(entry: NonNullable<WeightsHint['replicas']>[string]): Attributes {
  const out: Attributes = {};
  if (entry.path !== undefined) {
    let worst: keyof typeof SEVERITY | undefined;
    for (const p of entry.path) if (p.level !== undefined && (worst === undefined || SEVERITY[p.level] > SEVERITY[worst])) worst = p.level;
    out['meshflow.path.links'] = entry.path.map((p) => p.link);
    out['meshflow.path.levels'] = entry.path.map((p) => p.level ?? UNKNOWN_LEVEL);
    out['meshflow.path.worst_level'] = worst ?? UNKNOWN_LEVEL;
    if (entry.equalCost !== undefined) out['meshflow.path.equal_cost'] = entry.equalCost;
  }
  if (entry.room === false) out['meshflow.path.room'] = false;
  return out;
}

export class ReplicaPaths {
  /** replica id → span attributes of its path, while the hint is fresh */
  private attrs = new Map<string, Attributes>();
  /** "service\0replica" of the replicas marked without room now */
  private full = new Set<string>();
  private cancelExpiry: Cancel | undefined;

  constructor(
    private readonly services: Readonly<Record<string, { readonly replicas: readonly { readonly id: string }[] }>>,
    private readonly target: RoomTarget,
    private readonly clock: Pick<Clock, 'now' | 'setTimeout'>,
  ) {}

  /** Takes the per-replica part of a weights hint the weight store has just accepted. */
  update(hint: WeightsHint): void {
    const now = this.clock.now();
    const expiresAt = trustedUntil(hint, now);
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
    if (now > expiresAt) return this.clear();
    const given = hint.replicas ?? {};
    const attrs = new Map<string, Attributes>();
    const full = new Set<string>();
    for (const [service, { replicas }] of Object.entries(this.services)) {
      for (const { id } of replicas) {
        const entry = given[id];
        if (entry === undefined) continue;
        if (entry.room === false) full.add(`${service}\0${id}`);
        if (!attrs.has(id)) attrs.set(id, pathAttributes(entry));
      }
    }
    this.apply(full);
    this.attrs = attrs;
    // The clock's timers never keep the process alive; +1: stale once now passes expiresAt.
    this.cancelExpiry = this.clock.setTimeout(() => this.clear(), expiresAt - now + 1);
  }

  /** The span attributes of the path to a replica, or undefined when nothing fresh is known. */
  attributesOf(replica: string): Attributes | undefined {
    return this.attrs.get(replica);
  }

  /** Replicas marked without room now, as "service/replica" (for the admin view and tests). */
  withoutRoom(): string[] {
    return [...this.full].map((k) => k.replace('\0', '/'));
  }

  close(): void {
    this.cancelExpiry?.();
    this.cancelExpiry = undefined;
  }

  /** Stale: every path has room again, and spans claim no path. */
  private clear(): void {
    this.cancelExpiry = undefined;
    this.apply(new Set());
    this.attrs = new Map();
  }

  private apply(full: Set<string>): void {
    for (const k of this.full) if (!full.has(k)) this.set(k, true);
    for (const k of full) if (!this.full.has(k)) this.set(k, false);
    this.full = full;
  }

  private set(key: string, room: boolean): void {
    const [service = '', replica = ''] = key.split('\0');
    this.target.setRoom(service, replica, room);
  }
}
