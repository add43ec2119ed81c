// The end host's part: the sending host's interface sends its latency-sensitive packets first.
// Service B sends the answers (and the bulk iperf3 stream), so B's interface gets it, classified by
// the class's address: A's sidecar sends each class from an address of its own (transport.ts), the
// source of B's requests and so the destination of its answers; no port or header is needed. This kernel has no prio qdisc (sch_prio
// is not built: "Specified qdisc kind is unknown"), so it is an HTB at the host link's rate, as a
// Mininet TCLink shapes it, with a high child (prio 0) and a low one for everything else (prio 1),
// each allowed the whole rate. Off: the TCLink's own tree again. Pure: the lab runs the commands.
import { plainCommands } from '../../controller/qos/tc-commands.ts';

const kbit = (bps: number): string => `${Math.round(bps / 1000)}kbit`;

/** HTB at `rateBps`, packets to the high class's addresses in 5:10, everything else in 5:20 (the default). */
export function hostPrioCommands(intf: string, rateBps: number, highAddresses: readonly string[]): string[][] {
  const rate = kbit(rateBps);
  const leaf = (id: string, share: number, prio: number): string[] => ['class', 'add', 'dev', intf, 'parent', '5:1', 'classid', id, 'htb', 'rate', kbit(rateBps * share), 'ceil', rate, 'burst', '15k', 'prio', String(prio)];
  return [
    ['qdisc', 'del', 'dev', intf, 'root'],
    ['qdisc', 'add', 'dev', intf, 'root', 'handle', '5:', 'htb', 'default', '20'],
    ['class', 'add', 'dev', intf, 'parent', '5:', 'classid', '5:1', 'htb', 'rate', rate, 'ceil', rate, 'burst', '15k'],
    leaf('5:10', 0.7, 0),
    leaf('5:20', 0.3, 1),
    ...highAddresses.map((a) => ['filter', 'add', 'dev', intf, 'parent', '5:', 'protocol', 'ip', 'prio', '1', 'u32', 'match', 'ip', 'dst', `${a}/32`, 'flowid', '5:10']),
  ];
}

/** The TCLink's tree: one class at the rate. */
export function hostPlainCommands(intf: string, rateBps: number): string[][] {
  return plainCommands(intf, rateBps);
}
