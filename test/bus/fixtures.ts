// One valid example of every hint kind, shared by the bus tests.
import { HINT_VERSIONS, type Hint, type HintBody } from '../../bus/hints.ts';

export const A = '0000000000000001';
export const B = '0000000000000002';
export const LINK_AB = `${A}:2-${B}:1`;

export const bodies = {
  link_state: {
    kind: 'link_state',
    linkId: LINK_AB,
    src: { dpid: A, port: 2 },
    dst: { dpid: B, port: 1 },
    capacityBps: 10_000_000,
    rateBps: 9_200_000,
    utilization: 0.92,
    drops: 3.5,
    level: 'congested',
  },
  event: {
    kind: 'event',
    event: 'congestion_onset',
    linkId: LINK_AB,
    level: 'congested',
    utilization: 0.92,
    detail: { previous: 'warning' },
  },
  cost_row: {
    kind: 'cost_row',
    srcPid: 'edge-s1',
    // By column: edge-s2 one hop over a congested link; edge-s3 two paths of two hops, one loaded.
    costs: {
      dstPid: ['edge-s2', 'edge-s3'],
      hops: [1, 2],
      paths: [1, 2],
      bottleneckUtilization: [0.92, 0.1],
      availableBps: [800_000, 9_000_000],
      worstUtilization: [0.92, 0.7],
      worstAvailableBps: [800_000, 3_000_000],
      aggregateBps: [800_000, 12_000_000],
      level: ['congested', 'ok'],
      worstLevel: ['congested', 'warning'],
    },
  },
  weights: {
    kind: 'weights',
    sidecarId: 'sc-h1',
    services: { catalog: { 'catalog-1': 100, 'catalog-2': 900 } },
  },
  sidecar_status: {
    kind: 'sidecar_status',
    sidecarId: 'sc-h1',
    state: 'online',
    host: 'h1',
    services: ['catalog'],
  },
  controller_status: {
    kind: 'controller_status',
    controllerId: 'ctl-1',
    state: 'online',
    apiUrl: 'http://127.0.0.1:8080',
  },
} as const satisfies { [K in Hint['kind']]: Extract<HintBody, { kind: K }> };

export function full<K extends Hint['kind']>(kind: K, over: Record<string, unknown> = {}): Hint {
  return { v: HINT_VERSIONS[kind], ts: 1_700_000_000_000, seq: 1, ttlMs: 10_000, source: 'test', ...bodies[kind], ...over } as unknown as Hint;
}

export function eventAt(ts: number, seq: number, event: 'link_up' | 'link_down' | 'congestion_onset' = 'link_up'): Hint {
  return { v: 1, kind: 'event', ts, seq, ttlMs: 60_000, source: 'rec', event, linkId: LINK_AB };
}
