// Each class's own way out of host a, and the TCP it rides on. A's sidecar sends every class from
// an address of its own (its per-class `sourceAddress`), so the network, B's kernel and B's routes
// tell classes apart by address alone, without ports or headers.
//
// Why a macvlan per class rather than a second address on eth0: the controller keeps one IPv4
// address per MAC (a host is a MAC), so a second address on eth0 would flip a's address back and
// forth in its host table and no intent could name a class. A macvlan gives each class address a
// MAC of its own: to the network it is one more host on a's port, which an intent names by address.
// Policy routing (`ip rule from <addr>`) sends the class's packets out of its macvlan; arp_ignore
// keeps eth0 from answering ARP for the class addresses, arp_announce makes each interface ask with
// its own address. Pure: the lab runs the commands in the hosts' namespaces.
//
// Transport per class: the route of a class carries `congctl`. The data of this lab flows B→A
// (the answers, the bulk transfer), so what counts is B's route towards each class address (a /32
// route per class; accepted connections take their congestion control from it); a's class tables
// carry the same for the requests. Off: the same routes without congctl (the kernel's default).

export interface ClassRoute {
  /** Class name; the macvlan is `cls-<name>`. */
  readonly name: string;
  readonly address: string;
  /** Routing table of the class on host a. */
  readonly table: number;
  readonly congctl: string;
}

/** The subnet of the data plane, reached through the class's macvlan in its table. */
const SUBNET = '10.0.0.0/24';

export const intfOf = (c: ClassRoute): string => `cls-${c.name}`.slice(0, 15);

const congctl = (c: ClassRoute, on: boolean): string[] => (on ? ['congctl', c.congctl] : []);

/** Once per run on host a: the sysctls, then per class a macvlan on `lower` with the class address and its rule. */
export function classAddressCommands(lower: string, classes: readonly ClassRoute[]): string[][] {
  return [
    ['sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0'],
    ...classes.flatMap((c) => [
      ['ip', 'link', 'add', 'link', lower, 'name', intfOf(c), 'type', 'macvlan', 'mode', 'bridge'],
      ['ip', 'addr', 'add', `${c.address}/32`, 'dev', intfOf(c)],
      ['ip', 'link', 'set', intfOf(c), 'up'],
      ['ip', 'rule', 'add', 'from', c.address, 'table', String(c.table), 'pref', String(c.table)],
      ...senderRouteCommands([c], false),
    ]),
  ];
}

/** Per variant on host a: each class table's route, with the class's congestion control or the default. */
export function senderRouteCommands(classes: readonly ClassRoute[], transport: boolean): string[][] {
  return classes.map((c) => ['ip', 'route', 'replace', SUBNET, 'dev', intfOf(c), 'src', c.address, 'table', String(c.table), ...congctl(c, transport)]);
}

/** Per variant on host b (the answers' sender): a /32 route per class address, with its congestion control or the default. */
export function receiverRouteCommands(intf: string, classes: readonly ClassRoute[], transport: boolean): string[][] {
  return classes.map((c) => ['ip', 'route', 'replace', `${c.address}/32`, 'dev', intf, ...congctl(c, transport)]);
}

/** The congestion controls this kernel offers (/proc/sys/net/ipv4/tcp_available_congestion_control). */
export function parseAvailable(text: string): string[] {
  return text.trim().split(/\s+/).filter(Boolean);
}

/** The classes' choices must be on offer: a route with an unknown congctl is refused by the kernel. */
export function checkOffered(classes: readonly ClassRoute[], available: readonly string[]): void {
  for (const c of classes) {
    if (!available.includes(c.congctl)) throw new Error(`class ${c.name}: congestion control ${c.congctl} is not offered by this kernel (${available.join(' ')})`);
  }
}

/**
 * The congestion control of each connection in `ss -tin` output (the word before `wscale` on a
 * socket's info line), counted: the evidence that a class's connections ride what its route says.
 */
export function congestionSeen(ssText: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of ssText.split('\n')) {
    // The options come first when set ("ts sack cubic wscale:7,7 rto:204 ..."): the word right before wscale.
    const m = /^\s.*?([a-z0-9_]+)\s+wscale:/.exec(line);
    if (m?.[1]) out[m[1]] = (out[m[1]] ?? 0) + 1;
  }
  return out;
}
