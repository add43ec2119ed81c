// The tc argument lists of a port's priority queues, and of the plain shaping that replaces them
// when the last high-priority intent goes. Pure: port-queues.ts runs them.
//
// The queued port is one HTB whose parent class keeps the port's rate (so the link shapes as it
// did, and ShapingWatcher still reads that rate as the capacity: the root has no default class,
// so the fastest root class counts), with two children: high (prio 0, sent first whenever both
// have packets) and low (prio 1), each guaranteed a share and allowed to borrow up to the link
// rate. u32 filters on the TOS byte send the high marks to the high class, and so does one on
// LLDP's EtherType: the controller's link probes must not queue behind the congestion the queues
// are there for (three lost in a row and the link expires, and with it the intents' paths and
// their queues). A catch-all filter sends everything else (unmarked IP, ARP) to the low class, so
// nothing escapes the shaper.

import { ETH_TYPE_LLDP } from '../packet/index.ts';

export interface QueueSettings {
  /** The high class's guaranteed share of the port's rate (0..1); low gets the rest. */
  readonly highShare: number;
  /** Leaf queue lengths in packets: short, because the userspace datapath drops at its shared send
   *  socket when long queues fill it (see port-queues.ts). */
  readonly highLimit: number;
  readonly lowLimit: number;
}

export const defaultQueueSettings: QueueSettings = { highShare: 0.7, highLimit: 50, lowLimit: 30 };

export const QUEUE_ROOT = '1:';
export const HIGH_CLASSID = '1:10';
export const LOW_CLASSID = '1:20';
/** The plain shaping put back: handle and class of a Mininet TCLink, one class at the link rate. */
export const PLAIN_ROOT = '5:';

/** DSCP → the TOS byte u32 matches on (DSCP is its upper six bits). */
export function tosByte(dscp: number): number {
  if (!Number.isInteger(dscp) || dscp < 0 || dscp > 63) throw new Error(`DSCP ${dscp} is not 0..63`);
  return dscp << 2;
}

const kbit = (bps: number): string => `${Math.max(1, Math.round(bps / 1000))}kbit`;
const hex = (n: number): string => `0x${n.toString(16).padStart(2, '0')}`;
/** `replace` cannot turn one HTB tree into another: the old root goes first (the one command allowed to fail). */
const dropRoot = (intf: string): string[] => ['qdisc', 'del', 'dev', intf, 'root'];

export function isDropRoot(args: readonly string[]): boolean {
  return args[0] === 'qdisc' && args[1] === 'del';
}

/** Priority queues on `intf`, shaped at `rateBps`, the high class for these DSCP marks. */
export function queueCommands(intf: string, rateBps: number, highDscps: readonly number[], s: QueueSettings = defaultQueueSettings): string[][] {
  if (!(rateBps > 0)) throw new Error(`queues on ${intf}: rate ${rateBps} bit/s`);
  if (!(s.highShare > 0 && s.highShare < 1)) throw new Error(`queues: high share ${s.highShare} is not inside 0..1`);
  const rate = kbit(rateBps);
  const leaf = (id: string, bps: number, prio: number): string[] => ['class', 'add', 'dev', intf, 'parent', '1:1', 'classid', id, 'htb', 'rate', kbit(bps), 'ceil', rate, 'burst', '15k', 'prio', String(prio)];
  const queue = (id: string, limit: number): string[] => ['qdisc', 'add', 'dev', intf, 'parent', id, 'handle', `${id.split(':')[1]}:`, 'pfifo', 'limit', String(limit)];
  return [
    dropRoot(intf),
    ['qdisc', 'add', 'dev', intf, 'root', 'handle', QUEUE_ROOT, 'htb'],
    ['class', 'add', 'dev', intf, 'parent', QUEUE_ROOT, 'classid', '1:1', 'htb', 'rate', rate, 'ceil', rate, 'burst', '15k'],
    leaf(HIGH_CLASSID, rateBps * s.highShare, 0),
    leaf(LOW_CLASSID, rateBps * (1 - s.highShare), 1),
    queue(HIGH_CLASSID, s.highLimit),
    queue(LOW_CLASSID, s.lowLimit),
    ...highDscps.map((d, i) => ['filter', 'add', 'dev', intf, 'parent', QUEUE_ROOT, 'protocol', 'ip', 'prio', String(1 + i), 'u32', 'match', 'ip', 'tos', hex(tosByte(d)), '0xfc', 'flowid', HIGH_CLASSID]),
    ['filter', 'add', 'dev', intf, 'parent', QUEUE_ROOT, 'protocol', hex(ETH_TYPE_LLDP), 'prio', '99', 'u32', 'match', 'u32', '0', '0', 'flowid', HIGH_CLASSID],
    ['filter', 'add', 'dev', intf, 'parent', QUEUE_ROOT, 'protocol', 'all', 'prio', '100', 'u32', 'match', 'u32', '0', '0', 'flowid', LOW_CLASSID],
  ];
}

/** One class at the link rate, every packet in it: what the port had before queues (as a TCLink shapes it). */
export function plainCommands(intf: string, rateBps: number): string[][] {
  return [
    dropRoot(intf),
    ['qdisc', 'add', 'dev', intf, 'root', 'handle', PLAIN_ROOT, 'htb', 'default', '1'],
    ['class', 'add', 'dev', intf, 'parent', PLAIN_ROOT, 'classid', '5:1', 'htb', 'rate', kbit(rateBps), 'burst', '15k'],
  ];
}
