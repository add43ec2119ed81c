// Flow tables as ovs-ofctl dumps them, reduced to what identifies a rule (table, cookie, priority,
// match, actions: no counters, no ages), so two dumps can be compared for rules removed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DumpedFlow {
  /** table, cookie, priority, match and actions: the rule's identity. */
  readonly key: string;
  readonly idleTimeout: number;
  readonly packets: number;
}

export function parseDump(text: string): DumpedFlow[] {
  const flows: DumpedFlow[] = [];
  for (const line of text.split('\n')) {
    const l = line.trim();
    if (!l.startsWith('cookie=')) continue;
    const fields = new Map<string, string>();
    const [head, actions = ''] = l.split(' actions=');
    let match = '';
    for (const part of (head ?? '').split(/,\s*|\s+/)) {
      const eq = part.indexOf('=');
      if (eq < 0) {
        if (part) match += `${part},`;
        continue;
      }
      const k = part.slice(0, eq);
      const v = part.slice(eq + 1);
      if (['duration', 'n_packets', 'n_bytes', 'idle_age', 'hard_age', 'idle_timeout', 'hard_timeout', 'cookie', 'table', 'priority', 'reset_counts', 'send_flow_rem'].includes(k)) fields.set(k, v);
      else match += `${part},`;
    }
    flows.push({
      key: `table=${fields.get('table') ?? '0'} cookie=${fields.get('cookie') ?? '0'} priority=${fields.get('priority') ?? '32768'} ${match} actions=${actions}`,
      idleTimeout: Number(fields.get('idle_timeout') ?? 0),
      packets: Number(fields.get('n_packets') ?? 0),
    });
  }
  return flows;
}

export async function dumpFlows(bridge: string): Promise<DumpedFlow[]> {
  const { stdout } = await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', bridge], { maxBuffer: 16 << 20 });
  return parseDump(stdout);
}

export interface FlowDiff {
  readonly before: number;
  readonly after: number;
  /** Rules in the first dump and not in the second that were in use (not about to idle out). */
  readonly removed: readonly string[];
  /** Rules gone that had an idle timeout and carried no packet between the two dumps before: the switch may have expired them. */
  readonly expired: readonly string[];
  /** Rules in the second dump and not in the first: what the new master wrote. */
  readonly added: readonly string[];
}

/**
 * Rules of `before` missing from `after`. `earlier` is a dump taken a little before `before`: a rule
 * with an idle timeout whose packet count did not move between the two was idle, and its going is
 * put down to its timeout rather than to the takeover (OpenFlow 1.3 dumps carry no idle age).
 */
export function diffFlows(earlier: readonly DumpedFlow[], before: readonly DumpedFlow[], after: readonly DumpedFlow[]): FlowDiff {
  const now = new Set(after.map((f) => f.key));
  const packetsEarlier = new Map(earlier.map((f) => [f.key, f.packets]));
  const removed: string[] = [];
  const expired: string[] = [];
  for (const f of before) {
    if (now.has(f.key)) continue;
    const idle = f.idleTimeout > 0 && packetsEarlier.get(f.key) === f.packets;
    if (idle) expired.push(f.key);
    else removed.push(f.key);
  }
  const was = new Set(before.map((f) => f.key));
  const added = after.filter((f) => !was.has(f.key)).map((f) => f.key);
  return { before: before.length, after: after.length, removed, expired, added };
}
