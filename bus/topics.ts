// Topic names of the hint bus: one builder and one parser per topic, over one table.
import type { Hint } from './hints.ts';

export const TOPIC_ROOT = 'meshflow/v1/';
/** Every hint on the bus. */
export const ALL_HINTS = `${TOPIC_ROOT}#`;

export const topics = {
  link: (linkId: string) => `${TOPIC_ROOT}links/${level(linkId)}`,
  events: () => `${TOPIC_ROOT}events`,
  costs: (srcPid: string) => `${TOPIC_ROOT}costs/${level(srcPid)}`,
  weights: (sidecarId: string) => `${TOPIC_ROOT}sidecars/${level(sidecarId)}/weights`,
  status: (sidecarId: string) => `${TOPIC_ROOT}sidecars/${level(sidecarId)}/status`,
  controller: (controllerId: string) => `${TOPIC_ROOT}controllers/${level(controllerId)}/status`,
} as const;

/** Subscription patterns per topic family. */
export const patterns = {
  links: `${TOPIC_ROOT}links/+`,
  events: `${TOPIC_ROOT}events`,
  costs: `${TOPIC_ROOT}costs/+`,
  weights: `${TOPIC_ROOT}sidecars/+/weights`,
  status: `${TOPIC_ROOT}sidecars/+/status`,
  sidecar: (sidecarId: string) => `${TOPIC_ROOT}sidecars/${level(sidecarId)}/+`,
  controllers: `${TOPIC_ROOT}controllers/+/status`,
} as const;

export type ParsedTopic =
  | { readonly kind: 'link_state'; readonly linkId: string }
  | { readonly kind: 'event' }
  | { readonly kind: 'cost_row'; readonly srcPid: string }
  | { readonly kind: 'weights'; readonly sidecarId: string }
  | { readonly kind: 'sidecar_status'; readonly sidecarId: string }
  | { readonly kind: 'controller_status'; readonly controllerId: string };

/** What a topic under meshflow/v1/ carries, or undefined for any other topic. */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (!topic.startsWith(TOPIC_ROOT)) return undefined;
  const parts = topic.slice(TOPIC_ROOT.length).split('/');
  const [a, b, c] = parts;
  if (parts.some((p) => p.length === 0)) return undefined;
  if (parts.length === 1 && a === 'events') return { kind: 'event' };
  if (parts.length === 2 && a === 'links' && b !== undefined) return { kind: 'link_state', linkId: b };
  if (parts.length === 2 && a === 'costs' && b !== undefined) return { kind: 'cost_row', srcPid: b };
  if (parts.length === 3 && a === 'sidecars' && b !== undefined) {
    if (c === 'weights') return { kind: 'weights', sidecarId: b };
    if (c === 'status') return { kind: 'sidecar_status', sidecarId: b };
  }
  if (parts.length === 3 && a === 'controllers' && b !== undefined && c === 'status') return { kind: 'controller_status', controllerId: b };
  return undefined;
}

/** The topic a hint belongs on, and whether the broker keeps it for late subscribers. */
export function routeOf(hint: Hint): { topic: string; retain: boolean } {
  switch (hint.kind) {
    case 'link_state':
      return { topic: topics.link(hint.linkId), retain: true };
    case 'event':
      return { topic: topics.events(), retain: false };
    case 'cost_row':
      return { topic: topics.costs(hint.srcPid), retain: true };
    case 'weights':
      return { topic: topics.weights(hint.sidecarId), retain: true };
    case 'sidecar_status':
      return { topic: topics.status(hint.sidecarId), retain: true };
    case 'controller_status':
      return { topic: topics.controller(hint.controllerId), retain: true };
  }
}

/** MQTT topic filter matching (`+` one level, `#` the rest, `$` topics never match wildcards). */
export function topicMatches(pattern: string, topic: string): boolean {
  const p = pattern.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (p[0] === '+' || p[0] === '#')) return false;
  for (let i = 0; i < p.length; i++) {
    const seg = p[i];
    if (seg === '#') return true;
    if (i >= t.length) return false;
    if (seg !== '+' && seg !== t[i]) return false;
  }
  return p.length === t.length;
}

function level(id: string): string {
  if (id.length === 0 || /[/+#\u0000]/.test(id)) {
    throw new RangeError(`not usable as one MQTT topic level: ${JSON.stringify(id)}`);
  }
  return id;
}
