// The ALTO (RFC 7285) documents made from the cost map and the host table: the directory (§9.2),
// the network map (§11.2.1) and the cost maps (§11.2.3, §11.3.2). Pure: what the controller knows
// in, a JSON document out; the routes in routes.ts only negotiate and send.
import { createHash } from 'node:crypto';
import type { CostEntry, CostMapView } from '../../monitor/costmap.ts';
import { MEDIA } from './media.ts';

export const ALTO_ROOT = '/alto';

export const RESOURCE = {
  networkMap: 'network-map',
  filteredCostMap: 'filtered-cost-map',
} as const;

/**
 * The PID holding every address no attachment point claims, so that the map is complete
 * (§11.2.2): longest-prefix matching then finds exactly one PID for any IPv4 address.
 * It has no costs (§11.2.3.6 lets a server omit undefined ones).
 */
export const DEFAULT_PID = 'default';

export type CostMode = 'numerical' | 'ordinal';

export interface CostType {
  readonly 'cost-mode': CostMode;
  readonly 'cost-metric': string;
  readonly description?: string;
}

/** A cost metric this server offers: its IRD names, where it lives, and its value for one entry. */
export interface Metric {
  /** Key in the IRD's meta.cost-types. */
  readonly typeName: string;
  readonly resourceId: string;
  readonly uri: string;
  readonly costType: CostType;
  value(e: CostEntry): number;
}

/**
 * Not an IANA-registered metric: the registry (RFC 7285 §14.2, RFC 9439) has delays, loss, hop
 * count, throughput and bandwidth, but nothing for utilization, and unregistered names must carry
 * the private-use prefix (§10.6).
 */
export const UTILIZATION_METRIC = 'priv:meshflow-bottleneck-util';

export const METRICS: readonly Metric[] = [
  {
    typeName: 'num-routingcost',
    resourceId: 'routingcost-map',
    uri: `${ALTO_ROOT}/costmap/routingcost`,
    costType: {
      'cost-mode': 'numerical',
      'cost-metric': 'routingcost',
      description: 'hop count: links between the two switches on each shortest path (0 within one switch)',
    },
    value: (e) => e.hops,
  },
  {
    typeName: 'num-bottleneck-util',
    resourceId: 'bottleneck-util-map',
    uri: `${ALTO_ROOT}/costmap/bottleneck-util`,
    costType: {
      'cost-mode': 'numerical',
      'cost-metric': UTILIZATION_METRIC,
      description: "utilization (0..1, above 1 when overloaded) of the busiest link on the least loaded shortest path, from the latest port statistics",
    },
    value: (e) => e.bottleneckUtilization,
  },
];

export function metricFor(t: { readonly 'cost-mode': string; readonly 'cost-metric': string }): Metric | undefined {
  return METRICS.find((m) => m.costType['cost-mode'] === t['cost-mode'] && m.costType['cost-metric'] === t['cost-metric']);
}

/** §10.1: at most 64 characters of A-Z a-z 0-9 - : @ _ ('.' is reserved). */
export const PID_NAME = /^[A-Za-z0-9\-:@_]{1,64}$/;

/**
 * PID names for the cost map's pids. A dpid (16 hex digits) is a valid PID name and is used as is,
 * so ALTO PIDs and /api/v1/costs pids are the same strings; any pid that is not valid gets a
 * stable name from its hash.
 */
export class PidNames {
  private readonly byAlto = new Map<string, string>();
  private readonly toAltoName = new Map<string, string>();

  constructor(pids: readonly string[]) {
    for (const pid of pids) {
      const name = PID_NAME.test(pid) && pid !== DEFAULT_PID ? pid : `pid-${createHash('sha1').update(pid).digest('hex').slice(0, 32)}`;
      this.byAlto.set(name, pid);
      this.toAltoName.set(pid, name);
    }
  }

  alto(pid: string): string {
    return this.toAltoName.get(pid) ?? pid;
  }

  /** The cost map's pid behind an ALTO PID name, if it is one of them. */
  pid(name: string): string | undefined {
    return this.byAlto.get(name);
  }
}

export interface VersionTag {
  readonly 'resource-id': string;
  readonly tag: string;
}

export interface EndpointAddrGroup {
  readonly ipv4: readonly string[];
}

export interface NetworkMapDocument {
  readonly meta: { readonly vtag: VersionTag };
  readonly 'network-map': Readonly<Record<string, EndpointAddrGroup>>;
}

/** What the network map needs of a host (controller/topology/types.ts Host has it). */
export interface AttachedHost {
  readonly ipv4: string | undefined;
  readonly at: { readonly dpid: string };
  readonly lastSeen: number;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function ipv4Number(a: string): number {
  return a.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

/**
 * PIDs are the attachment points, each with its hosts' addresses as /32 prefixes, plus the default
 * PID with 0.0.0.0/0. An address seen at two switches (a stale or duplicate host) goes only to the
 * one where it was seen last, so no prefix is in two PIDs (§11.2.2, non-overlapping).
 */
export function networkMapData(pids: readonly string[], hosts: Iterable<AttachedHost>, names: PidNames): Record<string, EndpointAddrGroup> {
  const wanted = new Set(pids);
  const owner = new Map<string, AttachedHost>();
  for (const h of hosts) {
    if (h.ipv4 === undefined || !IPV4.test(h.ipv4) || h.ipv4 === '0.0.0.0' || !wanted.has(h.at.dpid)) continue;
    const seen = owner.get(h.ipv4);
    if (seen === undefined || h.lastSeen > seen.lastSeen || (h.lastSeen === seen.lastSeen && h.at.dpid < seen.at.dpid)) owner.set(h.ipv4, h);
  }
  const byPid = new Map<string, { n: number; ip: string }[]>(pids.map((p) => [p, []]));
  for (const [ip, h] of owner) byPid.get(h.at.dpid)?.push({ n: ipv4Number(ip), ip });
  const data: Record<string, EndpointAddrGroup> = {};
  for (const pid of [...pids].sort()) {
    const ips = byPid.get(pid) ?? [];
    ips.sort((a, b) => a.n - b.n);
    data[names.alto(pid)] = { ipv4: ips.map((a) => `${a.ip}/32`) };
  }
  data[DEFAULT_PID] = { ipv4: ['0.0.0.0/0'] };
  return data;
}

/** A hash of the content (§10.3 suggests one): the tag moves when the PIDs or their hosts do, not on a poll. */
export function networkMapTag(data: Readonly<Record<string, EndpointAddrGroup>>): string {
  return createHash('sha1').update(JSON.stringify(data)).digest('hex');
}

export function networkMapDocument(data: Readonly<Record<string, EndpointAddrGroup>>): NetworkMapDocument {
  return { meta: { vtag: { 'resource-id': RESOURCE.networkMap, tag: networkMapTag(data) } }, 'network-map': data };
}

/** A constraint of a filtered cost map request (§11.3.2.3): "le 3", "gt 0.5". */
export interface Constraint {
  readonly op: 'gt' | 'lt' | 'ge' | 'le' | 'eq';
  readonly value: number;
}

export function meets(v: number, cs: readonly Constraint[]): boolean {
  return cs.every((c) => {
    switch (c.op) {
      case 'gt':
        return v > c.value;
      case 'lt':
        return v < c.value;
      case 'ge':
        return v >= c.value;
      case 'le':
        return v <= c.value;
      case 'eq':
        return v === c.value;
    }
  });
}

export interface CostSelection {
  /** Source pids (the cost map's names); all when absent. */
  readonly srcs?: readonly string[];
  /** Destination pids; all when absent. */
  readonly dsts?: ReadonlySet<string>;
  readonly constraints?: readonly Constraint[];
}

export type CostMapData = Record<string, Record<string, number>>;

/**
 * cost-map: source PID → destination PID → cost. Unreachable pairs have no cost and are left
 * out (§11.2.3.6); a PID to itself costs 0 (hosts on one switch cross no switch-to-switch link)
 * unless the row says otherwise. Sources left with no cost are left out.
 */
export function costMapData(view: CostMapView, metric: Metric, names: PidNames, sel: CostSelection = {}): CostMapData {
  const data: CostMapData = {};
  const constraints = sel.constraints ?? [];
  const dsts = sel.dsts;
  const keep = (dst: string, v: number): boolean => Number.isFinite(v) && (dsts === undefined || dsts.has(dst)) && (constraints.length === 0 || meets(v, constraints));
  for (const src of sel.srcs ?? view.pids()) {
    const row = view.row(src);
    if (row === undefined) continue;
    const costs: Record<string, number> = {};
    let kept = 0;
    const put = (dst: string, v: number): void => {
      if (!keep(dst, v)) return;
      costs[names.alto(dst)] = v;
      kept++;
    };
    // Rows list the other pids in order; the source's own 0 goes in its sorted place.
    let selfDone = row.some((e) => e.dstPid === src);
    for (const e of row) {
      if (!selfDone && e.dstPid > src) {
        selfDone = true;
        put(src, 0);
      }
      if (e.paths !== 0) put(e.dstPid, metric.value(e));
    }
    if (!selfDone) put(src, 0);
    if (kept > 0) data[names.alto(src)] = costs;
  }
  return data;
}

export interface CostMapDocument {
  readonly meta: {
    readonly vtag?: VersionTag;
    readonly 'dependent-vtags': readonly [VersionTag];
    readonly 'cost-type': CostType;
  };
  readonly 'cost-map': CostMapData;
}

/** The cost type as a response states it: mode and metric, without the IRD's description. */
const stated = (t: CostType): CostType => ({ 'cost-mode': t['cost-mode'], 'cost-metric': t['cost-metric'] });

export function costMapDocument(metric: Metric, networkMapVtag: VersionTag, data: CostMapData, vtag?: VersionTag): CostMapDocument {
  return {
    meta: { ...(vtag === undefined ? {} : { vtag }), 'dependent-vtags': [networkMapVtag], 'cost-type': stated(metric.costType) },
    'cost-map': data,
  };
}

export interface ResourceEntry {
  readonly uri: string;
  readonly 'media-type': string;
  readonly accepts?: string;
  readonly capabilities?: Readonly<Record<string, unknown>>;
  readonly uses?: readonly string[];
}

export interface DirectoryDocument {
  readonly meta: { readonly 'cost-types': Readonly<Record<string, CostType>>; readonly 'default-alto-network-map': string };
  readonly resources: Readonly<Record<string, ResourceEntry>>;
}

/** The IRD (§9.2). URIs are absolute paths, which resolve against the directory's own URI (§9.2.2). */
export function directoryDocument(): DirectoryDocument {
  const resources: Record<string, ResourceEntry> = {
    [RESOURCE.networkMap]: { uri: `${ALTO_ROOT}/networkmap`, 'media-type': MEDIA.networkMap },
  };
  for (const m of METRICS) {
    resources[m.resourceId] = { uri: m.uri, 'media-type': MEDIA.costMap, capabilities: { 'cost-type-names': [m.typeName] }, uses: [RESOURCE.networkMap] };
  }
  resources[RESOURCE.filteredCostMap] = {
    uri: `${ALTO_ROOT}/costmap/filtered`,
    'media-type': MEDIA.costMap,
    accepts: MEDIA.costMapFilter,
    capabilities: { 'cost-constraints': true, 'cost-type-names': METRICS.map((m) => m.typeName) },
    uses: [RESOURCE.networkMap],
  };
  return {
    meta: { 'cost-types': Object.fromEntries(METRICS.map((m) => [m.typeName, m.costType])), 'default-alto-network-map': RESOURCE.networkMap },
    resources,
  };
}
