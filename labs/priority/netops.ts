// What the priority lab does to the network besides traffic: the FIFO baseline on the bottleneck's
// ports (tc, root namespace, where the switch ports live), waiting for the controller's queues
// there, reading their counters and the
// switches' flow tables, and priority intents through the controller's REST API, exactly as an
// outside program (the mesh bridge, an operator) would ask for them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { fifoCommands, HIGH_CLASS, parseClassStats, type ClassStats, type HtbPlan } from './htb.ts';

const run = promisify(execFile);

/** Gives a switch port the FIFO baseline: the link's shaping, one queue for every packet. */
export async function applyFifo(intf: string, plan: HtbPlan): Promise<void> {
  for (const args of fifoCommands(intf, plan)) {
    try {
      await run('tc', args);
    } catch (err) {
      if (args[0] === 'qdisc' && args[1] === 'del') continue;
      throw new Error(`tc ${args.join(' ')}: ${(err as { stderr?: string }).stderr?.trim() || (err as Error).message}`);
    }
  }
}

export interface TcReading {
  readonly intf: string;
  readonly classes: readonly ClassStats[];
  /** `tc -s qdisc show` and `tc -s class show` as printed, for the report's evidence. */
  readonly text: string;
}

export async function readTc(intf: string): Promise<TcReading> {
  const qdisc = (await run('tc', ['-s', 'qdisc', 'show', 'dev', intf])).stdout;
  const classes = (await run('tc', ['-s', 'class', 'show', 'dev', intf])).stdout;
  return { intf, classes: parseClassStats(classes), text: `$ tc -s qdisc show dev ${intf}\n${qdisc}$ tc -s class show dev ${intf}\n${classes}` };
}

/** Waits until the controller's high class is on every one of these ports (the intents were just made). */
export async function awaitQueues(intfs: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const shown = await Promise.all(intfs.map(async (i) => (await run('tc', ['class', 'show', 'dev', i])).stdout));
    if (shown.every((t) => t.includes(`class htb ${HIGH_CLASS} `))) return;
    if (Date.now() > deadline) throw new Error(`the controller's priority queues did not appear on ${intfs.join(', ')} within ${timeoutMs} ms`);
    await sleep(100, undefined, { signal });
  }
}

export async function dumpFlows(bridge: string): Promise<string> {
  return (await run('ovs-ofctl', ['-O', 'OpenFlow13', 'dump-flows', bridge])).stdout;
}

/** Whether an interface exists (the tc state of a run goes with its interfaces). */
export async function interfaceExists(intf: string): Promise<boolean> {
  return run('ip', ['link', 'show', 'dev', intf]).then(
    () => true,
    () => false,
  );
}

export interface PriorityIntentRequest {
  readonly src: string;
  readonly dst: string;
  readonly policy: 'shortest';
  readonly ipProto: 6;
  readonly dstPort?: number;
  readonly priority: 'high' | 'normal' | 'low';
}

/** The parts of the controller's intent view the lab keeps. */
export interface IntentSeen {
  readonly id: string;
  readonly request: PriorityIntentRequest;
  readonly dscp: number;
  readonly switches: readonly string[];
  readonly cookie: string;
  readonly state: string;
}

export async function postIntent(apiUrl: string, body: PriorityIntentRequest): Promise<IntentSeen> {
  const r = await fetch(`${apiUrl}/api/v1/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
  const v = (await r.json()) as { id?: string; dscp?: number; switches?: string[]; cookie?: string; state?: string; message?: string };
  if (r.status !== 201 || v.id === undefined) throw new Error(`POST /api/v1/intents ${JSON.stringify(body)}: ${r.status} ${v.message ?? ''}`);
  return { id: v.id, request: body, dscp: v.dscp ?? -1, switches: v.switches ?? [], cookie: v.cookie ?? '', state: v.state ?? '' };
}

export async function deleteIntent(apiUrl: string, id: string): Promise<void> {
  const r = await fetch(`${apiUrl}/api/v1/intents/${encodeURIComponent(id)}`, { method: 'DELETE', signal: AbortSignal.timeout(10_000) });
  await r.arrayBuffer();
  if (r.status !== 204 && r.status !== 404) throw new Error(`DELETE /api/v1/intents/${id}: ${r.status}`);
}
