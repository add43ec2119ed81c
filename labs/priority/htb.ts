// The bottleneck's queueing as the lab sees it: the FIFO baseline it sets itself (the prioritised
// classes are the controller's, controller/qos/, made when the high intent takes its path), and the
// parsers for what `tc -s` and `ovs-ofctl dump-flows` say afterwards, the report's evidence that
// marks were set and used. Pure: the lab runs the commands (netops.ts); the tests check them here.
import { HIGH_CLASSID, LOW_CLASSID } from '../../controller/qos/tc-commands.ts';

/** DSCP → the TOS byte u32 matches on (DSCP is its upper six bits). */
export function tosOf(dscp: number): number {
  if (!Number.isInteger(dscp) || dscp < 0 || dscp > 63) throw new Error(`DSCP ${dscp} is not 0..63`);
  return dscp << 2;
}

/** The bottleneck's queueing: the baseline the lab sets, and (for the report) what the controller's queues give each class. */
export interface HtbPlan {
  /** The link's rate: the parent class, so the port still shapes exactly as Mininet's TCLink did. */
  readonly rateMbit: number;
  /** The controller's guaranteed rates; each class may borrow up to the link rate when the other is idle. */
  readonly highRateMbit: number;
  readonly lowRateMbit: number;
  /** DSCP of the high class (EF, 46) and of the low class (CS1, 8); anything else goes low too. */
  readonly highDscp: number;
  readonly lowDscp: number;
  /** The controller's leaf queue lengths (packets); the baseline FIFO holds both. Short on purpose, see below. */
  readonly highLimit: number;
  readonly lowLimit: number;
}

/** The controller's classes (controller/qos/tc-commands.ts); the baseline uses the low one's id for its one FIFO. */
export const HIGH_CLASS = HIGH_CLASSID;
export const LOW_CLASS = LOW_CLASSID;

// Why the leaves get short queues: ovs-vswitchd's userspace datapath sends to its ports through
// AF_PACKET sockets, and every packet waiting in a port's qdisc is charged to the sending socket's
// buffer, shared by all ports (and all bridges of all runs on this machine). When a long queue
// fills it, OVS drops at send time, before any qdisc has classified the packet: high and low alike,
// repaired only by TCP retransmission timeouts. Measured here with Mininet's 1000-packet FIFO: the
// qdisc never dropped and held a few hundred packets, while thousands of packets entering s2 from
// B never left towards s1. Queues of a few dozen packets keep that buffer from filling, so a packet
// that must be dropped is dropped in its own class. The FIFO baseline gets the same total buffer,
// so that the variants differ in classification only.
/** Deletes whatever root qdisc the port has (Mininet's, or the other variant's) and adds ours:
 *  `replace` cannot turn one HTB into another. The delete is the one command allowed to fail. */
const rootHtb = (intf: string): string[][] => [
  ['qdisc', 'del', 'dev', intf, 'root'],
  ['qdisc', 'add', 'dev', intf, 'root', 'handle', '1:', 'htb', 'default', '20'],
];
const rate = (mbit: number): string => `${Math.round(mbit * 1000)}kbit`;
const parentClass = (intf: string, mbit: number): string[] => ['class', 'add', 'dev', intf, 'parent', '1:', 'classid', '1:1', 'htb', 'rate', rate(mbit), 'ceil', rate(mbit), 'burst', '15k'];
const leafQueue = (intf: string, classid: string, limit: number): string[] => ['qdisc', 'add', 'dev', intf, 'parent', classid, 'handle', `${classid.split(':')[1]}:`, 'pfifo', 'limit', String(limit)];

/**
 * The baseline: one HTB class at the link rate (as Mininet's TCLink shapes it) with one FIFO of
 * highLimit + lowLimit packets that every packet shares, marked or not.
 */
export function fifoCommands(intf: string, p: HtbPlan): string[][] {
  return [
    ...rootHtb(intf),
    parentClass(intf, p.rateMbit),
    ['class', 'add', 'dev', intf, 'parent', '1:1', 'classid', LOW_CLASS, 'htb', 'rate', rate(p.rateMbit), 'ceil', rate(p.rateMbit), 'burst', '15k'],
    leafQueue(intf, LOW_CLASS, p.highLimit + p.lowLimit),
  ];
}

export interface ClassStats {
  /** e.g. "1:10", "5:1" */
  readonly classid: string;
  readonly parent?: string;
  readonly prio?: number;
  readonly rate?: string;
  readonly sentBytes: number;
  readonly sentPackets: number;
  readonly dropped: number;
  readonly overlimits: number;
  /** Queued when read. */
  readonly backlogPackets: number;
}

/** Parses `tc -s class show dev <intf>` (HTB classes). Unknown lines are skipped. */
export function parseClassStats(text: string): ClassStats[] {
  const out: ClassStats[] = [];
  let cur: { -readonly [K in keyof ClassStats]: ClassStats[K] } | undefined;
  for (const line of text.split('\n')) {
    const head = /^class \S+ (\S+)(?: parent (\S+))?(?: leaf \S+)?(?: prio (\d+))?(?: rate (\S+))?/.exec(line);
    if (head) {
      if (cur) out.push(cur);
      cur = { classid: head[1] as string, sentBytes: 0, sentPackets: 0, dropped: 0, overlimits: 0, backlogPackets: 0 };
      if (head[2] !== undefined && head[2] !== 'root') cur.parent = head[2];
      if (head[3] !== undefined) cur.prio = Number(head[3]);
      if (head[4] !== undefined) cur.rate = head[4];
      continue;
    }
    if (!cur) continue;
    const sent = /Sent (\d+) bytes (\d+) pkt \(dropped (\d+), overlimits (\d+)/.exec(line);
    if (sent) {
      cur.sentBytes = Number(sent[1]);
      cur.sentPackets = Number(sent[2]);
      cur.dropped = Number(sent[3]);
      cur.overlimits = Number(sent[4]);
    }
    const backlog = /backlog \S+ (\d+)p/.exec(line);
    if (backlog) cur.backlogPackets = Number(backlog[1]);
  }
  if (cur) out.push(cur);
  return out;
}

/** Counters between two readings of the same classes (a class missing before counts from zero). */
export function classDelta(before: readonly ClassStats[], after: readonly ClassStats[]): ClassStats[] {
  return after.map((a) => {
    const b = before.find((x) => x.classid === a.classid);
    if (!b) return a;
    return { ...a, sentBytes: a.sentBytes - b.sentBytes, sentPackets: a.sentPackets - b.sentPackets, dropped: a.dropped - b.dropped, overlimits: a.overlimits - b.overlimits };
  });
}

export interface DscpRule {
  readonly cookie: string;
  readonly priority: number;
  readonly packets: number;
  /** The match as OVS prints it (protocol, in_port, addresses, ports). */
  readonly match: string;
  readonly dscp: number;
  readonly actions: string;
  /** The whole line, trimmed of its volatile duration, for the report. */
  readonly line: string;
}

/** The rules of `ovs-ofctl -O OpenFlow13 dump-flows` that set a DSCP mark. */
export function dscpRules(text: string): DscpRule[] {
  const out: DscpRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const mark = /set_field:(\d+)->ip_dscp|mod_nw_tos:(\d+)/.exec(line);
    if (!mark) continue;
    const dscp = mark[1] !== undefined ? Number(mark[1]) : Number(mark[2]) >> 2;
    const at = line.indexOf(' actions=');
    const fields = line.slice(0, at < 0 ? line.length : at);
    const prio = /priority=(\d+),?(\S*)/.exec(fields);
    out.push({
      cookie: /cookie=(0x[0-9a-f]+)/.exec(fields)?.[1] ?? '',
      priority: Number(prio?.[1] ?? 0),
      packets: Number(/n_packets=(\d+)/.exec(fields)?.[1] ?? 0),
      match: prio?.[2] ?? '',
      dscp,
      actions: at < 0 ? '' : line.slice(at + ' actions='.length),
      line: line.replace(/duration=[0-9.]+s, /, ''),
    });
  }
  return out;
}
