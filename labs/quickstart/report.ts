// The quickstart report: both variants side by side (latency during congestion, error rate,
// where the requests went, reaction times), charts, raw data, and summary.json for tools and tests.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Hint } from '../../bus/hints.ts';
import type { LabReport, ReportContext } from '../lab.ts';
import { reactionTimes, type Reaction } from '../reaction.ts';
import { latencyChart, linkChart, ms, pct, rel, shareChart, signedMs, table, weightsChart, writeSeconds } from '../report.ts';
import { inWindow, perSecond, percentiles, type Percentiles, type SecondRow } from '../stats.ts';
import type { Marker, Span } from '../chart.ts';
import { QUICKSTART, type QuickstartData, type VariantData } from './params.ts';

export interface VariantSummary {
  readonly variant: 'off' | 'on';
  readonly before: Percentiles;
  readonly during: Percentiles;
  readonly after: Percentiles;
  /** Share of answered requests during congestion that went to the congested replica. */
  readonly congestedShareDuring: number;
  readonly reaction: Reaction;
}

export interface QuickstartSummary {
  readonly lab: 'quickstart';
  readonly runId: string;
  readonly params: typeof QUICKSTART;
  readonly variants: readonly VariantSummary[];
  readonly verdict: { readonly metric: string; readonly offMs: number; readonly onMs: number; readonly coordinationWins: boolean };
  readonly teardown: readonly string[];
}

function weightSamplesOf(hints: readonly Hint[], replica: string): { ts: number; weight: number }[] {
  const out: { ts: number; weight: number }[] = [];
  for (const h of hints) {
    if (h.kind !== 'weights' || h.sidecarId !== 'client') continue;
    const w = h.services[QUICKSTART.service]?.[replica];
    if (w !== undefined) out.push({ ts: h.ts, weight: w });
  }
  return out.sort((a, b) => a.ts - b.ts);
}

export function summarizeVariant(v: VariantData, rows: readonly SecondRow[], congestedLinks: readonly string[]): VariantSummary {
  const during = inWindow(v.records, v.congestion.from, v.congestion.to);
  const answered = during.filter((r) => r.replica !== undefined);
  const events = v.hints.flatMap((h) => (h.kind === 'event' ? [{ ts: h.ts, event: h.event, ...(h.linkId ? { linkId: h.linkId } : {}) }] : []));
  return {
    variant: v.variant,
    before: percentiles(inWindow(v.records, v.startMs, v.congestion.from)),
    during: percentiles(during),
    after: percentiles(inWindow(v.records, v.congestion.to, v.startMs + v.durationSec * 1000)),
    congestedShareDuring: answered.length ? answered.filter((r) => r.replica === QUICKSTART.congested).length / answered.length : 0,
    reaction: reactionTimes({
      injectedAt: v.congestion.from,
      links: congestedLinks,
      events,
      weights: weightSamplesOf(v.hints, QUICKSTART.congested),
      seconds: rows,
      startMs: v.startMs,
      replica: QUICKSTART.congested,
    }),
  };
}

function spansOf(v: VariantData): Span[] {
  return [{ from: rel(v.congestion.from, v.startMs), to: rel(v.congestion.to, v.startMs), label: 'iperf3 fills s1–s2' }];
}

function markersOf(v: VariantData, s: VariantSummary): Marker[] {
  const m: Marker[] = [];
  if (s.reaction.onsetTs !== undefined) m.push({ x: rel(s.reaction.onsetTs, v.startMs), label: `${v.variant}: congestion_onset`, color: '#d62728' });
  if (s.reaction.weightTs !== undefined) m.push({ x: rel(s.reaction.weightTs, v.startMs), label: `${v.variant}: weights moved`, color: '#2ca02c' });
  // The cable failure before the congestion: its first link_down and the link_up after it.
  const down = v.hints.find((h) => h.kind === 'event' && h.event === 'link_down');
  const up = down && v.hints.find((h) => h.kind === 'event' && h.event === 'link_up' && h.ts > down.ts);
  if (down) m.push({ x: rel(down.ts, v.startMs), label: `${v.variant}: link_down`, color: '#8c564b' });
  if (up) m.push({ x: rel(up.ts, v.startMs), label: `${v.variant}: link_up`, color: '#8c564b' });
  for (const h of v.hints) if (h.kind === 'event' && h.event === 'congestion_clear' && h.ts > v.congestion.from) {
    m.push({ x: rel(h.ts, v.startMs), label: `${v.variant}: congestion_clear`, color: '#7f7f7f' });
    break;
  }
  return m;
}

export async function writeQuickstartReport(d: QuickstartData, ctx: ReportContext): Promise<LabReport> {
  const replicaIds = QUICKSTART.replicas.map((r) => r.id);
  const rows = new Map<string, SecondRow[]>();
  const sums: VariantSummary[] = [];
  for (const v of d.variants) {
    const r = perSecond(v.records, v.startMs, v.durationSec);
    rows.set(v.variant, r);
    await writeSeconds(v.dir, r, replicaIds);
    await writeFile(join(v.dir, 'links.json'), `${JSON.stringify(v.links)}\n`);
    await writeFile(join(v.dir, 'weights.json'), `${JSON.stringify(v.weights)}\n`);
    await writeFile(join(v.dir, 'timeline.json'), `${JSON.stringify({ startMs: v.startMs, congestion: v.congestion, marks: v.marks }, null, 1)}\n`);
    sums.push(summarizeVariant(v, r, d.congestedLinks));
  }
  const off = sums.find((s) => s.variant === 'off');
  const on = sums.find((s) => s.variant === 'on');
  const vOff = d.variants.find((v) => v.variant === 'off');
  const vOn = d.variants.find((v) => v.variant === 'on');
  if (!off || !on || !vOff || !vOn) throw new Error('quickstart: both variants are needed for the report');

  const spans = spansOf(vOn);
  const markers = [...markersOf(vOff, off), ...markersOf(vOn, on)];
  const runs = [
    { name: 'off', rows: rows.get('off') ?? [], dashed: true },
    { name: 'on', rows: rows.get('on') ?? [] },
  ];
  await writeFile(join(ctx.runDir, 'latency.svg'), await latencyChart('Latency per second: coordination off (dashed) vs on', runs, spans, markers));
  await writeFile(join(ctx.runDir, 'share.svg'), await shareChart(`Requests to ${QUICKSTART.congested} (the replica behind the congested path)`, QUICKSTART.congested, runs, spans, markers));
  const show = [...d.congestedLinks, ...Object.keys(d.linkNames).filter((id) => ['s2→s1', 's1→s3', 's3→s1'].includes(d.linkNames[id] ?? ''))];
  for (const v of d.variants) {
    const s = v.variant === 'on' ? on : off;
    await writeFile(join(ctx.runDir, `links-${v.variant}.svg`), await linkChart(`Link utilization, coordination ${v.variant}`, v.links, d.linkNames, show, v.startMs, spansOf(v), markersOf(v, s)));
  }
  await writeFile(
    join(ctx.runDir, 'weights.svg'),
    await weightsChart('Weights in force at the client sidecar', [
      { name: 'off', samples: vOff.weights, startMs: vOff.startMs, dashed: true },
      { name: 'on', samples: vOn.weights, startMs: vOn.startMs },
    ], QUICKSTART.service, QUICKSTART.replicas.map((r) => r.id), spans, markers),
  );

  const verdict = { metric: 'p99 latency during congestion', offMs: off.during.p99Ms, onMs: on.during.p99Ms, coordinationWins: on.during.p99Ms < off.during.p99Ms };
  const summary: QuickstartSummary = { lab: 'quickstart', runId: ctx.runId, params: QUICKSTART, variants: sums, verdict, teardown: ctx.teardown };
  await writeFile(join(ctx.runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const congSec = Math.round((vOn.congestion.to - vOn.congestion.from) / 1000);
  const row = (label: string, f: (s: VariantSummary) => string): string[] => [label, f(off), f(on)];
  const md = `# Lab: quickstart (run ${ctx.runId})

One service (\`${QUICKSTART.service}\`) with two replicas on different paths: **${QUICKSTART.replicas[0]?.id}** on host ra behind s2
and **${QUICKSTART.replicas[1]?.id}** on host rb behind s3 (topology \`labs/quickstart/topology.json\`, a diamond
variant, 10 Mbit/s fabric). The client on h1 calls it through its sidecar at ${QUICKSTART.rate} requests/s, open loop,
${Math.round(QUICKSTART.sizeBytes / 1000)} KB per response. From second ${rel(vOn.congestion.from, vOn.startMs)} to ${rel(vOn.congestion.to, vOn.startMs)} (${congSec} s)
iperf3 fills the 10 Mbit/s s1–s2 link, the path to ${QUICKSTART.congested}, in both directions: ${QUICKSTART.iperfUdpMbps} Mbit/s of UDP from
h2 (s1) to bg (s2) — the direction of the requests and the one the controller's cost row for h1's switch measures —
and ${QUICKSTART.iperfTcpStreams} TCP streams from bg to h2, the direction of the responses. The path to ${QUICKSTART.replicas[1]?.id} stays clear.
Before that, the ${QUICKSTART.linkFailure.a}–${QUICKSTART.linkFailure.b} cable fails and recovers (seconds ${Math.round(vOn.durationSec * QUICKSTART.linkFailure.down)}–${Math.round(vOn.durationSec * QUICKSTART.linkFailure.up)}): it carries none of the
lab's traffic, so the network heals around it and the service should not notice.

- **off**: no bridge; the sidecar has no broker and splits evenly (a plain mesh).
- **on**: the bridge turns the controller's cost rows into weights for the sidecar (policy for this lab:
  floor ${QUICKSTART.policy.floor}, congested room cap ${QUICKSTART.policy.congestedRoomCap}, smoothing ${QUICKSTART.policy.smoothingMs} ms, deadband ${QUICKSTART.policy.deadband}).

Latency is measured at the generator from each request's due time to the last byte (failed requests count
at the time they took to fail). "During congestion" is every request due while iperf3 ran.

## Summary

**${verdict.metric}: off ${ms(verdict.offMs)}, on ${ms(verdict.onMs)} — ${verdict.coordinationWins ? `coordination wins (${(verdict.offMs / Math.max(verdict.onMs, 0.001)).toFixed(1)}× lower)` : 'coordination does NOT beat the baseline in this run'}.**

${table(['', 'coordination off', 'coordination on'], [
  row('requests during congestion', (s) => String(s.during.count)),
  row('p50 during congestion', (s) => ms(s.during.p50Ms)),
  row('**p99 during congestion**', (s) => `**${ms(s.during.p99Ms)}**`),
  row('p99.9 during congestion', (s) => ms(s.during.p999Ms)),
  row('max during congestion', (s) => ms(s.during.maxMs)),
  row('error rate during congestion', (s) => `${pct(s.during.errorRate)} (${s.during.errors})`),
  row(`share sent to ${QUICKSTART.congested} during congestion`, (s) => pct(s.congestedShareDuring)),
  row('p50 / p99 before congestion', (s) => `${ms(s.before.p50Ms)} / ${ms(s.before.p99Ms)}`),
  row('p50 / p99 after congestion', (s) => `${ms(s.after.p50Ms)} / ${ms(s.after.p99Ms)}`),
  row('injection → congestion_onset', (s) => signedMs(s.reaction.injectToOnsetMs)),
  row('congestion_onset → weights hint moved', (s) => signedMs(s.reaction.onsetToWeightMs)),
  row('congestion_onset → traffic shifted', (s) => signedMs(s.reaction.onsetToShiftMs)),
  row('injection → traffic shifted', (s) => signedMs(s.reaction.injectToShiftMs)),
])}

Reaction times: *congestion_onset* is the controller's first event for either direction of the s1–s2 link; *weights hint moved* is the \`ts\` of the first weights hint for the client's
sidecar that gave ${QUICKSTART.congested} less than before the injection (it can precede the onset event: the bridge
already reacts to rising utilization, the onset needs the congested level for two polls); *traffic shifted* is the
start of the first whole second in which ${QUICKSTART.congested}'s share of answered requests fell 15 points below its
share before the injection. Off has no weights to move; its traffic never shifts.

## Charts

![latency](latency.svg)

![share](share.svg)

![weights](weights.svg)

![links off](links-off.svg)

![links on](links-on.svg)

## Files

${table(['file', 'what'], [
  ['`summary.json`', 'the numbers above, machine-readable'],
  ...d.variants.flatMap((v) => [
    [`\`${relative(ctx.runDir, join(v.dir, 'events.jsonl'))}\``, `every hint on the bus during the ${v.variant} run (replay: \`meshflow replay ${relative(ctx.runDir, join(v.dir, 'events.jsonl'))}\`)`],
    [`\`${relative(ctx.runDir, join(v.dir, 'requests.jsonl'))}\``, 'one line per request: due time, latency, status, replica'],
    [`\`${relative(ctx.runDir, join(v.dir, 'seconds.csv'))}\` / \`.json\``, 'per-second count, errors, p50, p99, p99.9, max, requests per replica'],
    [`\`${relative(ctx.runDir, join(v.dir, 'links.json'))}\`, \`weights.json\`, \`timeline.json\``, 'link utilization per poll, sidecar weights per 0.5 s, injection times'],
  ]),
  ['`logs/`', 'output of every process started on a Mininet host'],
])}

Teardown: ${ctx.teardown.length === 0 ? 'clean (no bridge, namespace or process of the run left)' : `problems: ${ctx.teardown.join('; ')}`}.
`;
  const reportPath = join(ctx.runDir, 'report.md');
  await writeFile(reportPath, md);
  return {
    reportPath,
    headline: [
      `p99 during congestion: off ${ms(off.during.p99Ms)}, on ${ms(on.during.p99Ms)}${verdict.coordinationWins ? '' : '  (coordination did not win this run)'}`,
      `p99.9 during congestion: off ${ms(off.during.p999Ms)}, on ${ms(on.during.p999Ms)}; errors off ${pct(off.during.errorRate)}, on ${pct(on.during.errorRate)}`,
      `reaction (on): onset→weights ${signedMs(on.reaction.onsetToWeightMs)}, onset→traffic ${signedMs(on.reaction.onsetToShiftMs)}`,
    ],
  };
}
