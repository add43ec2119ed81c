// What real switches hold: `ovs-ofctl dump-flows` of one bridge, parsed into cookie, counters and
// the rest of the line, so Mininet tests can ask which rules carried which packets.
import { ofctl } from '../support/ovs.ts';

export interface DumpedFlow {
  readonly cookie: bigint;
  readonly nPackets: number;
  readonly nBytes: number;
  readonly priority: number;
  /** The whole line, for matching on fields ("tcp", "tp_dst=5201", "actions=output:2"). */
  readonly text: string;
}

export async function dumpFlows(bridge: string): Promise<DumpedFlow[]> {
  const out = await ofctl('dump-flows', bridge);
  const flows: DumpedFlow[] = [];
  for (const line of out.split('\n')) {
    const cookie = /cookie=(0x[0-9a-f]+)/.exec(line)?.[1];
    if (cookie === undefined) continue;
    flows.push({
      cookie: BigInt(cookie),
      nPackets: Number(/n_packets=(\d+)/.exec(line)?.[1] ?? 0),
      nBytes: Number(/n_bytes=(\d+)/.exec(line)?.[1] ?? 0),
      priority: Number(/priority=(\d+)/.exec(line)?.[1] ?? 0),
      text: line.trim(),
    });
  }
  return flows;
}

/** Flows whose cookie, under a mask, is the given one (every version of one intent, all forwarding rules...). */
export function withCookie(flows: readonly DumpedFlow[], cookie: bigint, mask: bigint): DumpedFlow[] {
  return flows.filter((f) => (f.cookie & mask) === (cookie & mask));
}

export const packetsOf = (flows: readonly DumpedFlow[]): number => flows.reduce((n, f) => n + f.nPackets, 0);
