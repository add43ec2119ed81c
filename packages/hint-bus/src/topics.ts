// Topics of the hint bus (meshflow/v1/...): the filter per kind, and the kind and id a topic names.
import type { HintKind } from './hints.ts';

export const TOPIC_ROOT = 'meshflow/v1/';

/** Kinds whose topic carries an id (the key of the retained state). */
export type KeyedKind = Exclude<HintKind, 'event'>;

/** The topic filter of a kind: every id (`+`) or one id. */
export function topicFilter(kind: HintKind, id = '+'): string {
  if (id !== '+' && (id.length === 0 || /[/+#\u0000]/.test(id))) throw new RangeError(`not usable as one MQTT topic level: ${JSON.stringify(id)}`);
  switch (kind) {
    case 'link_state':
      return `${TOPIC_ROOT}links/${id}`;
    case 'event':
      return `${TOPIC_ROOT}events`;
    case 'cost_row':
      return `${TOPIC_ROOT}costs/${id}`;
    case 'weights':
      return `${TOPIC_ROOT}sidecars/${id}/weights`;
    case 'sidecar_status':
      return `${TOPIC_ROOT}sidecars/${id}/status`;
    case 'controller_status':
      return `${TOPIC_ROOT}controllers/${id}/status`;
  }
}

/** The kind a topic carries and the id in it ('' for events), or undefined for any other topic. */
export function parseTopic(topic: string): { readonly kind: HintKind; readonly id: string } | undefined {
  if (!topic.startsWith(TOPIC_ROOT)) return undefined;
  const parts = topic.slice(TOPIC_ROOT.length).split('/');
  if (parts.some((p) => p.length === 0)) return undefined;
  const [a, b = '', c] = parts;
  if (parts.length === 1 && a === 'events') return { kind: 'event', id: '' };
  if (parts.length === 2 && a === 'links') return { kind: 'link_state', id: b };
  if (parts.length === 2 && a === 'costs') return { kind: 'cost_row', id: b };
  if (parts.length === 3 && a === 'sidecars' && c === 'weights') return { kind: 'weights', id: b };
  if (parts.length === 3 && a === 'sidecars' && c === 'status') return { kind: 'sidecar_status', id: b };
  if (parts.length === 3 && a === 'controllers' && c === 'status') return { kind: 'controller_status', id: b };
  return undefined;
}
