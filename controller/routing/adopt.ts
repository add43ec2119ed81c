// A new master's flow table, read back from the switches: the forwarding rules a previous master
// installed (cookie tag 0xf1, one rule per switch of a path, the ingress rule with SEND_FLOW_REM)
// become RoutedFlows again, so the new master moves them when a link under them fails and deletes
// them by cookie when they end, as its own. Pure: rules and a snapshot in, flows out.
//
// The switches hold this state already; copying it into Redis as well would be a second copy to
// keep true. A flow whose rules cannot be followed from ingress to egress over known links (a
// switch not yet read, a link not yet rediscovered) is left out: its rules stay on the switches,
// untouched, and expire by their idle timeout when their traffic stops.
import { OFPFF_SEND_FLOW_REM } from 'openflow-ts';
import type { FlowStats } from 'openflow-ts/wire';
import { isForwardingCookie } from '../cookies.ts';
import type { NetworkSnapshot } from '../topology/snapshot.ts';
import { flowKeyString, type FlowKey } from './flowkey.ts';
import type { RoutedFlow } from './flow-table.ts';
import type { Hop } from './paths.ts';

export interface SwitchRules {
  readonly dpid: string;
  readonly flows: readonly FlowStats[];
}

interface Rule extends Hop {
  readonly key: FlowKey;
  readonly ingress: boolean;
}

/** The forwarding rule's hop and flow key, or undefined for a rule of another shape. */
function ruleOf(dpid: string, f: FlowStats): Rule | undefined {
  let inPort: number | undefined;
  let src: string | undefined;
  let dst: string | undefined;
  let proto: number | undefined;
  let srcPort: number | undefined;
  let dstPort: number | undefined;
  for (const m of f.match) {
    switch (m.field) {
      case 'in_port':
        inPort = m.value;
        break;
      case 'ipv4_src':
        src = m.value;
        break;
      case 'ipv4_dst':
        dst = m.value;
        break;
      case 'ip_proto':
        proto = m.value;
        break;
      case 'tcp_src':
      case 'udp_src':
        srcPort = m.value;
        break;
      case 'tcp_dst':
      case 'udp_dst':
        dstPort = m.value;
        break;
    }
  }
  let outPort: number | undefined;
  for (const i of f.instructions) {
    if (i.type !== 'apply_actions') continue;
    for (const a of i.actions) if (a.type === 'output') outPort = a.port;
  }
  if (inPort === undefined || outPort === undefined || src === undefined || dst === undefined) return undefined;
  const key: FlowKey = proto === undefined ? { src, dst } : { src, dst, proto, ...(srcPort === undefined ? {} : { srcPort, dstPort }) };
  return { dpid, inPort, outPort, key, ingress: (f.flags & OFPFF_SEND_FLOW_REM) !== 0 };
}

/** The flows whose every rule is among `tables`, followed from the ingress rule over live links. */
export function flowsFromRules(tables: readonly SwitchRules[], snap: NetworkSnapshot): RoutedFlow[] {
  const byCookie = new Map<bigint, Rule[]>();
  for (const t of tables) {
    for (const f of t.flows) {
      if (!isForwardingCookie(f.cookie)) continue;
      const r = ruleOf(t.dpid, f);
      if (r === undefined) continue;
      let rules = byCookie.get(f.cookie);
      if (rules === undefined) byCookie.set(f.cookie, (rules = []));
      rules.push(r);
    }
  }
  const flows: RoutedFlow[] = [];
  for (const [cookie, rules] of byCookie) {
    const first = rules.find((r) => r.ingress);
    if (first === undefined) continue;
    const hops: Hop[] = [{ dpid: first.dpid, inPort: first.inPort, outPort: first.outPort }];
    const linkIds: string[] = [];
    let at: Rule = first;
    while (hops.length <= rules.length) {
      const link = [...snap.links.from({ dpid: at.dpid, port: at.outPort })].find((l) => l.state === 'up');
      if (link === undefined) break;
      const next = rules.find((r) => r.dpid === link.dst.dpid && r.inPort === link.dst.port);
      if (next === undefined) break;
      linkIds.push(link.id);
      hops.push({ dpid: next.dpid, inPort: next.inPort, outPort: next.outPort });
      at = next;
    }
    // Every rule accounted for, and the last one leaves the fabric (towards a host).
    if (hops.length !== rules.length || snap.links.isLinkPort({ dpid: at.dpid, port: at.outPort })) continue;
    const srcHost = snap.hosts.byIp(first.key.src);
    const dstHost = snap.hosts.byIp(first.key.dst);
    if (srcHost === undefined || dstHost === undefined) continue;
    flows.push({ key: first.key, id: flowKeyString(first.key), cookie, srcMac: srcHost.mac, dstMac: dstHost.mac, hops, linkIds });
  }
  return flows;
}
