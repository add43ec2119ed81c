// The diamond of topologies/diamond.json as tables, for planner and reconcile tests:
// s1 —3/1— s2 —2/3— s4 and s1 —4/1— s3 —2/4— s4; h1, h2 on s1 ports 1, 2; h3, h4 on s4 ports 1, 2.
// `withDirect` adds a cable s1:5 — s4:5, so a one-hop path exists beside the two-hop ones.
import { dropPort, LinkStore, observeLink } from '../../controller/topology/links.ts';
import { HostStore, learnHost } from '../../controller/topology/hosts.ts';
import { buildGraph, type SwitchGraph } from '../../controller/topology/graph.ts';
import type { Endpoint, Link } from '../../controller/topology/types.ts';
import type { IntentSpec, Policy, TrafficClass } from '../../controller/intents/types.ts';
import { FakeNetwork } from '../routing/fake-network.ts';

export const dp = (n: number): string => n.toString(16).padStart(16, '0');
export const ep = (n: number, port: number): Endpoint => ({ dpid: dp(n), port });
export const S1 = dp(1);
export const S2 = dp(2);
export const S3 = dp(3);
export const S4 = dp(4);

function cable(t: LinkStore, a: Endpoint, b: Endpoint): LinkStore {
  t.apply(observeLink(t, a, b, 10e6, 0));
  t.apply(observeLink(t, b, a, 10e6, 0));
  return t;
}

export function diamondLinks(withDirect = false): LinkStore {
  const t = new LinkStore();
  cable(t, ep(1, 3), ep(2, 1));
  cable(t, ep(2, 2), ep(4, 3));
  cable(t, ep(1, 4), ep(3, 1));
  cable(t, ep(3, 2), ep(4, 4));
  return withDirect ? cable(t, ep(1, 5), ep(4, 5)) : t;
}

/** Takes the cable on a port down (both directions), in a copy: tests keep the table before. */
export function cut(t: LinkStore, at: Endpoint): LinkStore {
  const c = t.clone();
  c.apply(dropPort(c, at, 'port_down', 1));
  return c;
}

/** The cable back up, in a copy. */
export function mend(t: LinkStore, a: Endpoint, b: Endpoint): LinkStore {
  return cable(t.clone(), a, b);
}

export const H1 = { mac: '00:00:00:00:00:01', ipv4: '10.0.0.1', at: ep(1, 1) };
export const H2 = { mac: '00:00:00:00:00:02', ipv4: '10.0.0.2', at: ep(1, 2) };
export const H3 = { mac: '00:00:00:00:00:03', ipv4: '10.0.0.3', at: ep(4, 1) };
export const H4 = { mac: '00:00:00:00:00:04', ipv4: '10.0.0.4', at: ep(4, 2) };
export const HOSTS = new HostStore();
for (const h of [H1, H2, H3, H4]) HOSTS.apply(learnHost(HOSTS, h, 0));

export function graph(links: LinkStore): SwitchGraph {
  return buildGraph([S1, S2, S3, S4], links.values());
}

export function fake(links: LinkStore): FakeNetwork {
  return new FakeNetwork([...links.values()] as Link[], [H1.at, H2.at, H3.at, H4.at]);
}

export function spec(policy: Policy, traffic: Partial<TrafficClass> = {}, extra: Partial<IntentSpec> = {}, ends: [typeof H1, typeof H1] = [H1, H3]): IntentSpec {
  const [a, b] = ends;
  return { src: a.ipv4, dst: b.ipv4, srcMac: a.mac, dstMac: b.mac, traffic: { srcIp: a.ipv4, dstIp: b.ipv4, ...traffic }, policy, ...extra };
}

/** Header fields of a TCP packet between two fixture hosts. */
export function tcp(a: typeof H1, b: typeof H1, sport: number, dport: number): Record<string, string | number> {
  return { eth_type: 0x0800, ipv4_src: a.ipv4, ipv4_dst: b.ipv4, ip_proto: 6, tcp_src: sport, tcp_dst: dport };
}
