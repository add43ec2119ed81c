// The OpenFlow rules of one intent, built as plain messages. Their cookies (intentCookie, one per
// path version) come from controller/cookies.ts, where every part's cookie tag is.
import type { Action, Match } from 'openflow-ts';
import { ETH_TYPE_IPV4, IP_PROTO_TCP, IP_PROTO_UDP } from '../packet/index.ts';
import type { SwitchProgram } from '../routing/forwarding.ts';
import { addFlow } from '../routing/ofmsg.ts';
import type { Hop } from '../routing/paths.ts';
import type { IntentPath, IntentSpec, TrafficClass } from './types.ts';

/** The class as seen coming back: addresses and ports swapped. */
export function reverseClass(t: TrafficClass): TrafficClass {
  return {
    srcIp: t.dstIp,
    dstIp: t.srcIp,
    ...(t.ipProto !== undefined ? { ipProto: t.ipProto } : {}),
    ...(t.dstPort !== undefined ? { srcPort: t.dstPort } : {}),
    ...(t.srcPort !== undefined ? { dstPort: t.srcPort } : {}),
  };
}

/** The match of one direction of the class (without in_port). Ports are matched only under their protocol, as OpenFlow requires. */
export function classMatch(t: TrafficClass): Match {
  const m: Match[number][] = [
    { field: 'eth_type', value: ETH_TYPE_IPV4 },
    { field: 'ipv4_src', value: t.srcIp },
    { field: 'ipv4_dst', value: t.dstIp },
  ];
  if (t.ipProto !== undefined) m.push({ field: 'ip_proto', value: t.ipProto });
  if (t.ipProto === IP_PROTO_TCP) {
    if (t.srcPort !== undefined) m.push({ field: 'tcp_src', value: t.srcPort });
    if (t.dstPort !== undefined) m.push({ field: 'tcp_dst', value: t.dstPort });
  }
  if (t.ipProto === IP_PROTO_UDP) {
    if (t.srcPort !== undefined) m.push({ field: 'udp_src', value: t.srcPort });
    if (t.dstPort !== undefined) m.push({ field: 'udp_dst', value: t.dstPort });
  }
  return m;
}

/** More specific classes win where two intents overlap (one on port 80, one on all of TCP). */
export function classPriority(t: TrafficClass, base: number): number {
  return base + (t.ipProto !== undefined ? 10 : 0) + (t.srcPort !== undefined ? 10 : 0) + (t.dstPort !== undefined ? 10 : 0);
}

/**
 * Rules that carry both directions of the class along a path: per direction one rule per switch,
 * egress first, so no switch sends the class on before the next one knows it. The switch where a
 * direction enters the network marks it (set_field ip_dscp) when the intent has a mark.
 */
export function installPrograms(spec: IntentSpec, path: IntentPath, cookie: bigint, basePriority: number): SwitchProgram[] {
  const back = reverseClass(spec.traffic);
  return [
    ...direction(path.hops, spec.traffic, cookie, basePriority, spec.dscp),
    ...direction(path.reverseHops, back, cookie, basePriority, spec.dscp),
  ];
}

function direction(hops: readonly Hop[], t: TrafficClass, cookie: bigint, base: number, dscp: number | undefined): SwitchProgram[] {
  const match = classMatch(t);
  const priority = classPriority(t, base);
  return hops
    .map((hop, i) => {
      const mark: Action[] = i === 0 && dscp !== undefined ? [{ type: 'set_field', field: { field: 'ip_dscp', value: dscp } }] : [];
      return {
        dpid: hop.dpid,
        // Permanent: an intent's rules live as long as the intent, not as long as its traffic.
        messages: [addFlow({ cookie, priority, idleTimeoutSec: 0, match: [{ field: 'in_port', value: hop.inPort }, ...match], actions: [...mark, { type: 'output', port: hop.outPort, maxLen: 0 }] })],
      };
    })
    .reverse();
}

/** Every switch a path puts rules on. */
export function switchesOf(path: IntentPath): string[] {
  return [...new Set([...path.hops, ...path.reverseHops].map((h) => h.dpid))];
}
