// Intents as the outside sees them: the API's JSON and the detail of path_change events. The
// request's own fields come back as given, beside what the controller made of them.
import type { Hop } from '../routing/paths.ts';
import { intentCookie, INTENT_COOKIE_MASK } from '../cookies.ts';
import type { IntentRecord, IntentStatus, PathChange } from './types.ts';
import type { IntentRequest } from './request.ts';

/** The request's own fields as given (its `path`, for explicit intents, comes back as `explicitPath`), then the controller's. */
export interface IntentView extends Omit<IntentRequest, 'path'> {
  readonly id: string;
  /** The switches an explicit intent asked for (its `path` in the request). */
  readonly explicitPath?: readonly string[];
  readonly srcIpv4: string;
  readonly dstIpv4: string;
  readonly state: IntentStatus;
  /** Why it is unsatisfiable, or why it last moved. */
  readonly reason?: string;
  /** Hops src → dst; [] while unsatisfiable. */
  readonly path: readonly Hop[];
  readonly links: readonly string[];
  readonly switches: readonly string[];
  /** Replies dst → src, over the same cables. */
  readonly reversePath: readonly Hop[];
  readonly reverseLinks: readonly string[];
  /** Every rule of the intent has cookie & cookieMask === cookie. */
  readonly cookie: string;
  readonly cookieMask: string;
  readonly createdAt: string;
  readonly movedAt: string;
}

const hex = (n: bigint): string => `0x${n.toString(16).padStart(16, '0')}`;

export function intentView(r: IntentRecord): IntentView {
  const s = r.spec;
  const t = s.traffic;
  const p = s.policy;
  return {
    id: r.id,
    src: s.src,
    dst: s.dst,
    policy: p.name,
    ...(t.ipProto !== undefined ? { ipProto: t.ipProto } : {}),
    ...(t.srcPort !== undefined ? { srcPort: t.srcPort } : {}),
    ...(t.dstPort !== undefined ? { dstPort: t.dstPort } : {}),
    ...(p.name === 'avoid' ? { avoidLinks: p.avoid.map((a) => (a.kind === 'link' ? a.id : `${a.a}-${a.b}`)) } : {}),
    ...(p.name === 'explicit' ? { explicitPath: p.switches } : {}),
    ...(s.priority !== undefined ? { priority: s.priority } : {}),
    ...(s.dscp !== undefined ? { dscp: s.dscp } : {}),
    srcIpv4: t.srcIp,
    dstIpv4: t.dstIp,
    state: r.status,
    ...(r.reason !== undefined ? { reason: r.reason } : {}),
    path: r.path?.hops ?? [],
    links: r.path?.links ?? [],
    switches: r.path?.switches ?? [],
    reversePath: r.path?.reverseHops ?? [],
    reverseLinks: r.path?.reverseLinks ?? [],
    cookie: hex(intentCookie(r.num)),
    cookieMask: hex(INTENT_COOKIE_MASK),
    createdAt: new Date(r.createdAt).toISOString(),
    movedAt: new Date(r.movedAt).toISOString(),
  };
}

/** What a path_change event says: enough for a dashboard or a bridge to act without asking the API. */
export function pathChangeDetail(c: PathChange): Record<string, unknown> {
  const ends = c.to ?? c.from;
  return {
    intent: c.id,
    src: c.spec.src,
    dst: c.spec.dst,
    policy: c.spec.policy.name,
    reason: c.reason,
    state: c.to === undefined ? 'unsatisfiable' : 'active',
    srcPid: ends?.switches[0] ?? null,
    dstPid: ends?.switches.at(-1) ?? null,
    from: c.from?.switches ?? null,
    to: c.to?.switches ?? null,
    fromLinks: c.from?.links ?? null,
    toLinks: c.to?.links ?? null,
  };
}
