// The priority lab's report: per class and variant latency (p50, p99, p99.9, max, errors), the
// class check at service B, the DSCP evidence (HTB class counters, OVS rules that set ip_dscp),
// charts, raw data, and summary.json for tools and tests.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { LabReport, ReportContext } from '../lab.ts';
import type { RequestRecord } from '../loadgen/record.ts';
import { isError } from '../loadgen/record.ts';
import { latencyChart, linkChart, ms, pct, table } from '../report.ts';
import { perSecond, percentiles, secondsCsv, type Percentiles } from '../stats.ts';
import { HIGH_CLASS, LOW_CLASS, type ClassStats } from './htb.ts';
import { readSpans, waterfallSection } from './waterfall.ts';
import { PRIORITY, SPAN_FILES, type ClassName, type Layers, type PriorityData, type VariantData, type VariantName } from './params.ts';

export interface ClassCheck {
  /** Answered requests (a class can only be checked on an answer). */
  readonly checked: number;
  /** Answers whose last hop saw another class than the one the request was sent as. */
  readonly classMismatches: number;
  /** Answers whose last hop did not see the traceparent the request carried. */
  readonly traceMismatches: number;
}

/** Did the class and the trace context arrive at the last hop unchanged? */
export function checkClasses(records: readonly RequestRecord[], expected: string): ClassCheck {
  const answered = records.filter((r) => !isError(r));
  return {
    checked: answered.length,
    classMismatches: answered.filter((r) => r.seenClass !== expected).length,
    traceMismatches: answered.filter((r) => r.traceKept !== true).length,
  };
}

export interface TcSummary {
  readonly intf: string;
  readonly classes: readonly ClassStats[];
}

export interface ClassSummary extends Percentiles {
  readonly check: ClassCheck;
}

export interface VariantSummary {
  readonly variant: VariantName;
  readonly layers: Layers;
  /** Whether the batch class and the bulk transfer ran (calm: the interactive class alone). */
  readonly congested: boolean;
  /** The batch class's answered bytes over the measured stretch (Mbit/s). */
  readonly batchMbps: number;
  readonly classes: Readonly<Record<ClassName, ClassSummary>>;
  readonly tc: readonly TcSummary[];
  readonly dscpRules: number;
  /** Queue trees put on or taken off during the measured stretch (VariantData). */
  readonly queueChanges: number;
  /** Congestion control of B's connections per class address (ss -ti at the end), e.g. { bbr: 3 }. */
  readonly congestion?: VariantData['congestion'];
  /** Measured seconds (the goal's variants run longer in the ablation). */
  readonly durationSec?: number;
  /** Share of the measured stretch in which some task waited for a CPU (the machine's PSI). */
  readonly cpuWait?: number;
}

export interface Verdict {
  readonly metric: string;
  readonly offMs: number;
  readonly onMs: number;
  readonly prioritisationWins: boolean;
}

/**
 * The issue's goals, from the ablation: with every layer on and the bottleneck congested, the
 * interactive p99 within `maxP99Ratio` of its p99 alone (calm), and batch keeping at least
 * `minBatchShare` of the throughput it had without prioritisation (off). Batch is open loop at a
 * rate below the link's: its throughput only falls when its requests fail or finish after the run,
 * so that half of the goal can pass while batch requests take longer (their p99 shows that).
 */
export interface Goals {
  readonly maxP99Ratio: number;
  readonly minBatchShare: number;
  readonly calmHighP99Ms: number;
  readonly onHighP99Ms: number;
  readonly p99Ratio: number;
  readonly p99Met: boolean;
  readonly offBatchMbps: number;
  readonly onBatchMbps: number;
  readonly batchShare: number;
  readonly batchMet: boolean;
}

export const GOALS = { maxP99Ratio: 1.5, minBatchShare: 0.8 } as const;

/** The goals' figures; undefined without a calm variant (the short run). */
export function goalsOf(sums: readonly VariantSummary[]): Goals | undefined {
  const calm = sums.find((s) => s.variant === 'calm');
  const on = sums.find((s) => s.variant === 'on');
  const off = sums.find((s) => s.variant === 'off');
  if (!calm || !on || !off) return undefined;
  const p99Ratio = on.classes.high.p99Ms / Math.max(calm.classes.high.p99Ms, 0.001);
  const batchShare = off.batchMbps > 0 ? on.batchMbps / off.batchMbps : 0;
  return {
    ...GOALS,
    calmHighP99Ms: calm.classes.high.p99Ms,
    onHighP99Ms: on.classes.high.p99Ms,
    p99Ratio,
    p99Met: calm.classes.high.count > 0 && on.classes.high.count > 0 && p99Ratio <= GOALS.maxP99Ratio,
    offBatchMbps: off.batchMbps,
    onBatchMbps: on.batchMbps,
    batchShare,
    batchMet: batchShare >= GOALS.minBatchShare,
  };
}

export interface PrioritySummary {
  readonly lab: 'priority';
  readonly runId: string;
  readonly params: typeof PRIORITY;
  readonly variants: readonly VariantSummary[];
  readonly verdict: Verdict;
  readonly goals?: Goals;
  readonly transport: PriorityData['transport'];
  readonly queue?: PriorityData['queue'];
  readonly teardown: readonly string[];
}

export function summarizeVariant(v: VariantData): VariantSummary {
  const cls = (c: ClassName): ClassSummary => ({ ...percentiles(v.records[c]), check: checkClasses(v.records[c], c) });
  return {
    variant: v.variant,
    layers: v.layers,
    congested: v.congested,
    batchMbps: batchMbps(v.records.low, v.durationSec),
    classes: { high: cls('high'), low: cls('low') },
    tc: v.tc.map((t) => ({ intf: t.intf, classes: t.classes })),
    dscpRules: Object.values(v.flows).reduce((n, rs) => n + rs.length, 0),
    queueChanges: v.queueChanges,
    congestion: v.congestion,
    durationSec: v.durationSec,
    ...(v.cpuWait !== undefined ? { cpuWait: v.cpuWait } : {}),
  };
}

/** Throughput of a class as its answers delivered it: bytes of answered requests over the run's length. */
export function batchMbps(records: readonly RequestRecord[], durationSec: number): number {
  const bytes = records.filter((r) => !isError(r)).reduce((n, r) => n + r.bytes, 0);
  return durationSec > 0 ? (bytes * 8) / durationSec / 1e6 : 0;
}

const LAYER_NAMES: Readonly<Record<keyof Layers, string>> = { sidecar: 'sidecar scheduling', network: 'network queues', host: 'host kernel', compute: 'compute priority', transport: 'per-class transport', queue: 'queue priority' };

const ccText = (seen: Readonly<Record<string, number>>): string => Object.entries(seen).map(([cc, n]) => `${cc}×${n}`).join(' ') || '—';

/** The ablation table: one row per variant, its layers, latency per class and the batch throughput. */
export function ablationRows(sums: readonly VariantSummary[]): string[][] {
  const on = (l: Layers): string => (Object.keys(LAYER_NAMES) as (keyof Layers)[]).map((k) => (l[k] ? '✓' : '–')).join(' ');
  const low = (s: VariantSummary, v: string): string => (s.classes.low.count > 0 ? v : '—');
  return sums.map((s) => [
    `**${s.variant}**${s.congested ? '' : ' (interactive alone)'}`,
    on(s.layers),
    ms(s.classes.high.p50Ms),
    ms(s.classes.high.p99Ms),
    low(s, ms(s.classes.low.p50Ms)),
    low(s, ms(s.classes.low.p99Ms)),
    low(s, `${s.batchMbps.toFixed(2)} Mbit/s`),
    `${pct(s.classes.high.errorRate)} / ${low(s, pct(s.classes.low.errorRate))}`,
    s.congestion ? `${ccText(s.congestion.high)} / ${ccText(s.congestion.low)}` : '',
    s.durationSec !== undefined ? `${s.durationSec} s` : '',
    s.cpuWait !== undefined ? pct(s.cpuWait) : '—',
  ]);
}

export function verdictOf(off: VariantSummary, on: VariantSummary): Verdict {
  const offMs = off.classes.high.p99Ms;
  const onMs = on.classes.high.p99Ms;
  return { metric: 'p99 latency of the high (interactive) class', offMs, onMs, prioritisationWins: on.classes.high.count > 0 && onMs < offMs };
}

/** Packets and bytes per HTB class of one port, named by role. */
function classRole(id: string, variant: VariantName): string {
  if (variant === 'off') return id === LOW_CLASS ? `${id} the one FIFO, every packet` : id;
  if (id === HIGH_CLASS) return `${id} high (DSCP ${PRIORITY.htb.highDscp})`;
  if (id === LOW_CLASS) return `${id} low + unmarked (default)`;
  return id;
}

export async function writePriorityReport(d: PriorityData, ctx: ReportContext): Promise<LabReport> {
  const sums: VariantSummary[] = [];
  const rows = new Map<string, ReturnType<typeof perSecond>>();
  for (const v of d.variants) {
    for (const c of ['high', 'low'] as const) {
      const r = perSecond(v.records[c], v.startMs, v.durationSec);
      rows.set(`${v.variant}-${c}`, r);
      await writeFile(join(v.dir, `seconds-${c}.csv`), secondsCsv(r, []));
    }
    await writeFile(join(v.dir, 'links.json'), `${JSON.stringify(v.links)}\n`);
    await writeFile(join(v.dir, 'tc.txt'), v.tc.map((t) => t.text).join('\n'));
    await writeFile(join(v.dir, 'intents.json'), `${JSON.stringify(v.intents, null, 1)}\n`);
    await writeFile(join(v.dir, 'dscp-flows.json'), `${JSON.stringify(v.flows, null, 1)}\n`);
    sums.push(summarizeVariant(v));
  }
  const off = sums.find((s) => s.variant === 'off');
  const on = sums.find((s) => s.variant === 'on');
  const vOff = d.variants.find((v) => v.variant === 'off');
  const vOn = d.variants.find((v) => v.variant === 'on');
  if (!off || !on || !vOff || !vOn) throw new Error('priority: both variants are needed for the report');

  for (const c of ['high', 'low'] as const) {
    const runs = [
      { name: `off ${c}`, rows: rows.get(`off-${c}`) ?? [], dashed: true },
      { name: `on ${c}`, rows: rows.get(`on-${c}`) ?? [] },
    ];
    await writeFile(join(ctx.runDir, `latency-${c}.svg`), await latencyChart(`Latency per second, ${c} class: FIFO (dashed) vs prioritised`, runs, [], []));
  }
  const show = Object.keys(d.linkNames).filter((id) => ['s1→s2', 's2→s1'].includes(d.linkNames[id] ?? ''));
  for (const v of d.variants) {
    const label = v.variant === 'on' ? 'prioritised' : v.variant === 'off' ? 'FIFO' : v.variant;
    await writeFile(join(ctx.runDir, `links-${v.variant}.svg`), await linkChart(`Bottleneck utilization, ${label}`, v.links, d.linkNames, show, v.startMs, [], []));
  }

  // Where the time went, per class, from the sidecars' spans (labs/priority/waterfall.ts).
  const waterfalls: string[] = [];
  for (const v of d.variants) {
    const wf = await waterfallSection(v.variant, await readSpans(SPAN_FILES.map((f) => join(v.dir, f))), ['high', 'normal', 'low']);
    for (const [name, svg] of wf.files) await writeFile(join(ctx.runDir, name), svg);
    if (wf.markdown) waterfalls.push(wf.markdown);
  }

  const verdict = verdictOf(off, on);
  const goals = goalsOf(sums);
  const summary: PrioritySummary = { lab: 'priority', runId: ctx.runId, params: PRIORITY, variants: sums, verdict, ...(goals ? { goals } : {}), transport: d.transport, ...(d.queue ? { queue: d.queue } : {}), teardown: ctx.teardown };
  await writeFile(join(ctx.runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const P = PRIORITY;
  const k = P.classes;
  const latRow = (label: string, f: (s: ClassSummary) => string): string[] => [label, f(off.classes.high), f(on.classes.high), f(off.classes.low), f(on.classes.low)];
  const tcRows = (s: VariantSummary): string[][] =>
    s.tc.flatMap((t) => t.classes.filter((c) => c.classid !== '1:1').map((c) => [`\`${t.intf}\``, classRole(c.classid, s.variant), String(c.sentPackets), `${(c.sentBytes / 1e6).toFixed(2)} MB`, String(c.dropped)]));
  const flowLines = Object.entries(vOn.flows).flatMap(([sw, rs]) => rs.map((r) => `${sw}: ${r.line}`));
  const D = vOff.durationSec;
  const md = `# Lab: priority (run ${ctx.runId})

Latency-sensitive and batch requests share one bottleneck, two service hops deep (topology
\`labs/priority/topology.json\`): the client **c** and service **A** (host a) hang off s1, service **B** (host b) off
s2, and every call from A to B crosses the ${P.htb.rateMbit} Mbit/s link s1–s2. Host links are 20 Mbit/s.

- The client's sidecar on c classifies each request by path: \`${k.high.pathPrefix}\` → class **high**, \`${k.low.pathPrefix}\` → **low**
  (sidecar ingress rules), and sets \`x-meshflow-priority\` and a \`traceparent\`.
- A (\`labs/service.ts\`) calls B (\`${P.serviceB.name}\`, b:${P.serviceB.port}, one port for every class) through its own sidecar, forwarding both
  headers. The network sees packets, not headers, and a
  keep-alive connection carries many requests, so a class needs connections of its own to be told apart: A's sidecar opens each
  class's connections from the class's own address (per-class \`sourceAddress\`: high ${k.high.address}, low ${k.low.address}, each a macvlan of
  a's eth0 with its own MAC, policy-routed, \`labs/priority/transport.ts\`), and the network, B's kernel and B's routes tell classes apart by it.
- Load, open loop for ${D} s per variant${vOn.durationSec !== D ? ` (${vOn.durationSec} s for the goal's variants, see the ablation)` : ''}: high ${k.high.rate} requests/s of ${k.high.sizeBytes / 1000} KB; low ${k.low.rate} requests/s of ${k.low.sizeBytes / 1000} KB
  (${((k.low.rate * k.low.sizeBytes * 8) / 1e6).toFixed(1)} Mbit/s)${P.iperf.streams > 0 ? `, plus ${P.iperf.streams} bulk TCP stream${P.iperf.streams > 1 ? 's' : ''} B→A (iperf3, port ${P.iperf.port}, class low)` : ''}.
  Latency is measured at the client from each request's due time to the last byte; failures count at the time they took.

Two variants on the same network, one after the other:

- **off** (FIFO): no intents; each port of s1–s2 shapes as Mininet's TCLink does, one HTB class at the link rate, with
  one FIFO of ${P.htb.highLimit + P.htb.lowLimit} packets that every packet shares.
- **on** (prioritised): priority intents (\`POST /api/v1/intents\`, TCP from ${k.high.address} to B \`high\`, from ${k.low.address} \`low\`${P.iperf.streams > 0 ? `, A↔B port ${P.iperf.port} \`low\`` : ''}) make
  OVS mark DSCP ${P.htb.highDscp} / ${P.htb.lowDscp} where each direction enters the network, and the controller (controller/qos/) gives every port of the high intent's path, both ports of s1–s2 among them, an HTB at the
  link rate with two children keyed on DSCP by u32: ${HIGH_CLASS} high (rate ${P.htb.highRateMbit} Mbit/s, prio 0, \`match ip tos 0xb8 0xfc\`) and
  ${LOW_CLASS} low and everything else (rate ${P.htb.lowRateMbit} Mbit/s, prio 1, a catch-all filter); either may borrow up to the link rate.
  Queues: ${P.htb.highLimit} packets high, ${P.htb.lowLimit} low, the same total as the FIFO's.

Why the queues are short: the userspace datapath sends through AF_PACKET sockets, and packets waiting in a port's
qdisc count against the sending socket's buffer, which all ports share. With Mininet's 1000-packet FIFO that buffer
filled before the qdisc did, and OVS dropped packets before any class was known (high and low alike; the qdisc
counted no drops). Short queues make the drops happen in the qdisc, per class, where prioritisation can choose.

## Summary

**${verdict.metric}: FIFO ${ms(verdict.offMs)}, prioritised ${ms(verdict.onMs)} — ${verdict.prioritisationWins ? `prioritisation wins (${(verdict.offMs / Math.max(verdict.onMs, 0.001)).toFixed(1)}× lower)` : 'prioritisation does NOT beat the baseline in this run'}.**

${table(['', 'high, FIFO', 'high, prioritised', 'low, FIFO', 'low, prioritised'], [
  latRow('requests', (s) => String(s.count)),
  latRow('p50', (s) => ms(s.p50Ms)),
  latRow('**p99**', (s) => `**${ms(s.p99Ms)}**`),
  latRow('p99.9', (s) => ms(s.p999Ms)),
  latRow('max', (s) => ms(s.maxMs)),
  latRow('error rate', (s) => `${pct(s.errorRate)} (${s.errors})`),
  latRow('class seen at B ≠ class sent', (s) => `${s.check.classMismatches} of ${s.check.checked}`),
  latRow('traceparent lost on the way', (s) => `${s.check.traceMismatches} of ${s.check.checked}`),
])}

Batch throughput (answered bytes of the low class over each variant's measured stretch): FIFO ${off.batchMbps.toFixed(2)} Mbit/s, prioritised ${on.batchMbps.toFixed(2)} Mbit/s.
${goals ? goalsSection(goals) : ''}${d.ablation ? ablationSection(sums, d) : ''}
The class check: service B answers with the \`x-meshflow-priority\` and \`traceparent\` it received (A relays them back), and the
generator compares them with what it sent, for every answered request.

## DSCP evidence

HTB class counters of the bottleneck's ports during the measured stretch (\`tc -s class show\`, differences from
just before the first request to the end; \`${d.bottleneck.s2}\` is s2's port towards s1, the direction of B's answers;
\`${d.bottleneck.s1}\` carries the requests and ACKs):

**FIFO**

${table(['port', 'class', 'packets', 'bytes', 'dropped'], tcRows(off))}

**Prioritised**

${table(['port', 'class', 'packets', 'bytes', 'dropped'], tcRows(on))}

Queue trees the controller put on or took off while measuring: ${on.queueChanges}${on.queueChanges === 0 ? '' : ' (an intent\'s path was lost and found again: the counters above start at the last rebuild)'}.

Rules that set \`ip_dscp\` (\`ovs-ofctl -O OpenFlow13 dump-flows\`, read at the end of the prioritised run; one per
direction of each intent, on the switch where that direction enters the network):

\`\`\`
${flowLines.length ? flowLines.join('\n') : '(none found)'}
\`\`\`

${waterfalls.length ? `## Where the time went (spans)\n\n${waterfalls.join('\n\n')}\n\n` : ''}## Charts

![latency high](latency-high.svg)

![latency low](latency-low.svg)

![links off](links-off.svg)

![links on](links-on.svg)

## Files

${table(['file', 'what'], [
  ['`summary.json`', 'the numbers above, machine-readable'],
  ...d.variants.flatMap((v) => [
    [`\`${relative(ctx.runDir, join(v.dir, 'requests-high.jsonl'))}\`, \`requests-low.jsonl\``, 'one line per request: due time, latency, status, class seen at B, trace kept'],
    [`\`${relative(ctx.runDir, join(v.dir, 'seconds-high.csv'))}\`, \`seconds-low.csv\``, 'per-second count, errors, p50, p99, p99.9, max'],
    [`\`${relative(ctx.runDir, join(v.dir, 'tc.txt'))}\``, '`tc -s qdisc` and `tc -s class` of both bottleneck ports at the end'],
    [`\`${relative(ctx.runDir, join(v.dir, SPAN_FILES[0]))}\`, \`${SPAN_FILES[1]}\``, "the client's and A's sidecar spans (OTLP JSON lines): class, replica, path, queue and server time"],
    [`\`${relative(ctx.runDir, join(v.dir, 'links.json'))}\`, \`intents.json\`, \`dscp-flows.json\``, 'link utilization per poll, the intents as the controller answered, the marking rules'],
  ]),
  ['`logs/`', 'output of every process started on a Mininet host'],
])}

Teardown: ${ctx.teardown.length === 0 ? 'clean (no bridge, namespace or process of the run left; the HTB classes went with the interfaces)' : `problems: ${ctx.teardown.join('; ')}`}.
`;
  const reportPath = join(ctx.runDir, 'report.md');
  await writeFile(reportPath, md);
  return {
    reportPath,
    headline: [
      `high p99: FIFO ${ms(off.classes.high.p99Ms)}, prioritised ${ms(on.classes.high.p99Ms)}${verdict.prioritisationWins ? '' : '  (prioritisation did not win this run)'}`,
      `low p99: FIFO ${ms(off.classes.low.p99Ms)}, prioritised ${ms(on.classes.low.p99Ms)}; errors high ${pct(off.classes.high.errorRate)} → ${pct(on.classes.high.errorRate)}, low ${pct(off.classes.low.errorRate)} → ${pct(on.classes.low.errorRate)}`,
      `class mismatches at B: ${sums.reduce((n, s) => n + s.classes.high.check.classMismatches + s.classes.low.check.classMismatches, 0)}`,
    ],
  };
}

function goalsSection(g: Goals): string {
  const yes = (b: boolean): string => (b ? '**met**' : '**NOT met**');
  return `
### Goals (issue 15)

- Interactive p99 under congestion, every layer on: ${ms(g.onHighP99Ms)}; alone (calm, every layer on, no batch, no bulk transfer): ${ms(g.calmHighP99Ms)};
  ratio ${g.p99Ratio.toFixed(2)}× against at most ${g.maxP99Ratio}× — ${yes(g.p99Met)}.
- Batch throughput, every layer on: ${g.onBatchMbps.toFixed(2)} Mbit/s against ${g.offBatchMbps.toFixed(2)} Mbit/s without prioritisation (off):
  ${(g.batchShare * 100).toFixed(0)}% against at least ${(g.minBatchShare * 100).toFixed(0)}% — ${yes(g.batchMet)}. In the ablation the batch load is a closed loop of
  ${PRIORITY.ablation.batchConcurrency} requests in flight (\`labs/priority/closed-loop.ts\`), so it takes what the path gives it and its throughput shows what the
  other layers take from it (an open-loop batch below the link's rate would get all it asks for whatever happens).
`;
}

function ablationSection(sums: readonly VariantSummary[], d: PriorityData): string {
  const A = PRIORITY.ablation;
  const Q = PRIORITY.queue;
  const k = PRIORITY.classes;
  return `
## Ablation

All layers on (**on**), then each off in turn, and none (**off**). The batch class is a closed loop here, ${PRIORITY.ablation.batchConcurrency} requests of
${PRIORITY.classes.low.sizeBytes / 1000} KB in flight (the short run's is open loop at ${PRIORITY.classes.low.rate}/s). In this run service B has ${A.workers} worker and
${A.workMs} ms of work per request (busy about ${Math.round(((PRIORITY.classes.high.rate + PRIORITY.classes.low.rate) * A.workMs) / 10)}% of the time), so compute priority has a queue
to order (\`labs/service.ts --workers\`; off: one FIFO); the client's sidecar lets ${A.sidecarConcurrency} requests at a time go to A and
queues the rest highest class first (off: no limit); network queues are the priority intents and the controller's HTB
classes (off: no intents, one FIFO); the host kernel is an HTB on B's interface at its link's rate, B's
packets to the high class's address in a prio 0 class (this kernel has no prio qdisc; off: the link's one class); per-class transport is the
congestion control of each class's routes (B's /32 route to the class address, which its answers take, and a's class table):
high \`${k.high.congctl}\`, low \`${k.low.congctl}\` (off: the kernel's default \`${d.transport.default}\`; offered: ${d.transport.available.join(', ')}${k.high.congctl === d.transport.default && k.low.congctl === d.transport.default ? '; both are the default here, so **no-transport** repeats **on** and the two rows differ by run-to-run noise alone' : ''}); queue priority: A hands
each request's work to B through RabbitMQ (\`${Q.name}\`, x-max-priority, ${Q.consumers} consumer at B, ${Q.workMs} ms a message) before calling it,
the class as the message priority (${Object.entries(Q.priorities).map(([c, p]) => `${c} ${p}`).join(', ')}; off: every message 0)${d.queue ? `; the broker took ${(d.queue.startMs / 1000).toFixed(1)} s to start, so only the ablation has this hop` : ''}.
**calm** is every layer on with the interactive class alone, the yardstick of the goal. Columns of layers: ${Object.values(LAYER_NAMES).join(', ')}.

${table(['variant', 'layers', 'high p50', 'high p99', 'low p50', 'low p99', 'batch throughput', 'errors high / low', 'B→class TCP (ss -ti) high / low', 'measured', 'CPU wait'], ablationRows(sums))}

**on** and **calm**, the goal's two variants, measure ${A.goalLengthFactor}× as long as the others, so that their interactive p99 rests on
${A.goalLengthFactor}× as many requests. **CPU wait** is the share of the measured stretch in which some task on the machine waited for a CPU
(the kernel's PSI, \`/proc/pressure/cpu\` "some"): the lab's processes, Open vSwitch's userspace datapath and everything else on the
machine share its cores, so a variant's tail measured while this was high says as much about the machine as about the layers.
`;
}
