// Pings between every pair of hosts at 10 per second (ping -i 0.1 -D on the pair's first host),
// and what their output says: which sequence numbers went unanswered, and when they were sent.
import { readFile } from 'node:fs/promises';
import type { HostProcess, LabEnv } from '../env.ts';

export interface PingPair {
  readonly from: string;
  readonly to: string;
  readonly logFile: string;
  readonly proc: HostProcess;
}

export interface PingResult {
  readonly pair: string;
  readonly sent: number;
  readonly received: number;
  /** Send times (ms epoch, interpolated from the replies around them) of the unanswered pings. */
  readonly lostAt: readonly number[];
}

export const PING_INTERVAL_MS = 100;

export async function startPings(env: LabEnv, hosts: readonly string[]): Promise<PingPair[]> {
  const pairs: PingPair[] = [];
  for (let i = 0; i < hosts.length; i++) {
    for (let j = i + 1; j < hosts.length; j++) {
      const from = hosts[i]!;
      const to = hosts[j]!;
      // -D: a timestamp per reply; -W 2: a late reply still counts (a ping is lost, not slow).
      const proc = await env.spawn(from, `ping-${from}-${to}`, `exec ping -n -D -i ${PING_INTERVAL_MS / 1000} -W 2 ${env.ipOf(to)}`);
      pairs.push({ from, to, logFile: proc.logFile, proc });
    }
  }
  return pairs;
}

/** Replies by sequence number from ping's output; a sequence missing below the last one is lost. */
export function parsePing(pair: string, text: string, startedAt: number): PingResult {
  const replies = new Map<number, number>();
  for (const m of text.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from [^:]+: icmp_seq=(\d+)/gm)) replies.set(Number(m[2]), Math.round(Number(m[1]) * 1000));
  const seqs = [...replies.keys()].sort((a, b) => a - b);
  const last = seqs.at(-1) ?? 0;
  const lostAt: number[] = [];
  for (let seq = 1; seq <= last; seq++) {
    if (replies.has(seq)) continue;
    // The send time of a lost ping: from the nearest answered one, one interval per sequence step.
    const before = seqs.filter((s) => s < seq).at(-1);
    const after = seqs.find((s) => s > seq);
    const at =
      before !== undefined ? replies.get(before)! + (seq - before) * PING_INTERVAL_MS : after !== undefined ? replies.get(after)! - (after - seq) * PING_INTERVAL_MS : startedAt + seq * PING_INTERVAL_MS;
    lostAt.push(at);
  }
  return { pair, sent: last, received: replies.size, lostAt };
}

/** The longest run of consecutive lost pings sent in [from, to] (an outage shows as a run, scattered drops do not). */
export function longestRun(lostAt: readonly number[], from: number, to: number): number {
  let best = 0;
  let run = 0;
  let prev = -Infinity;
  for (const t of [...lostAt].sort((a, b) => a - b)) {
    if (t < from || t > to) continue;
    run = t - prev <= 1.5 * PING_INTERVAL_MS ? run + 1 : 1;
    prev = t;
    best = Math.max(best, run);
  }
  return best;
}

export async function stopPings(pairs: readonly PingPair[], startedAt: number): Promise<PingResult[]> {
  const out: PingResult[] = [];
  for (const p of pairs) {
    await p.proc.stop();
    const text = await readFile(p.logFile, 'utf8').catch(() => '');
    out.push(parsePing(`${p.from}–${p.to}`, text, startedAt));
  }
  return out;
}
