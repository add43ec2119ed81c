// The conflict report: the four variants side by side (latency per phase, the bulk flows'
// throughput, lever changes per minute, reversals, time to settle), the goals checked, charts,
// raw data, and summary.json for tools and tests.
import { writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Marker, Span } from '../chart.ts';
import { lineChart } from '../chart.ts';
import type { LabReport, ReportContext } from '../lab.ts';
import { latencyChart, linkChart, ms, rel, table, weightsChart, writeSeconds } from '../report.ts';
import { inWindow, perSecond, percentiles, type Percentiles, type SecondRow } from '../stats.ts';
import { perMinute, reversals, settleMs } from './changes.ts';
import { CONFLICT, PHASES, VARIANTS, type BulkResult, type ConflictData, type LeverChange, type PhaseName, type VariantData, type VariantName } from './params.ts';

export interface VariantSummary {
  readonly variant: VariantName;
  readonly phases: Readonly<Record<PhaseName, Percentiles>>;
  readonly bulk: readonly BulkResult[];
  readonly weightChanges: number;
  readonly pathChanges: number;
  readonly weightsPerMin: number;
  readonly pathsPerMin: number;
  readonly changesPerMin: number;
  readonly reversals: number;
  /** From each phase's start to the last lever change inside it, ms. */
  readonly settleMs: Readonly<Record<PhaseName, number>>;
}

export interface Goal {
  readonly goal: string;
  readonly met: boolean;
  readonly detail: string;
}

export interface ConflictSummary {
  readonly lab: 'conflict';
  readonly runId: string;
  readonly params: typeof CONFLICT;
  readonly variants: readonly VariantSummary[];
  readonly goals: readonly Goal[];
  readonly teardown: readonly string[];
}

const endOf = (v: VariantData, p: PhaseName): number => {
  const i = PHASES.indexOf(p);
  const next = PHASES[i + 1];
  return next === undefined ? v.startMs + v.durationSec * 1000 : v.phases[next];
};

export function summarizeVariant(v: VariantData): VariantSummary {
  const durationMs = v.durationSec * 1000;
  const inRun = v.changes.filter((c) => c.ts >= v.startMs && c.ts < v.startMs + durationMs);
  const w = inRun.filter((c) => c.lever === 'weights').length;
  const p = inRun.filter((c) => c.lever === 'path').length;
  const phases = {} as Record<PhaseName, Percentiles>;
  const settle = {} as Record<PhaseName, number>;
  for (const ph of PHASES) {
    phases[ph] = percentiles(inWindow(v.records, v.phases[ph], endOf(v, ph)));
    settle[ph] = settleMs(inRun, v.phases[ph], endOf(v, ph));
  }
  return {
    variant: v.variant,
    phases,
    bulk: v.bulk,
    weightChanges: w,
    pathChanges: p,
    weightsPerMin: perMinute(w, durationMs),
    pathsPerMin: perMinute(p, durationMs),
    changesPerMin: perMinute(w + p, durationMs),
    reversals: reversals(inRun, CONFLICT.reversalWindowMs).length,
    settleMs: settle,
  };
}

export function goalsOf(sums: readonly VariantSummary[]): Goal[] {
  const by = (v: VariantName): VariantSummary | undefined => sums.find((s) => s.variant === v);
  const arb = by('arbitrated');
  const unc = by('uncoordinated');
  const wts = by('weights');
  const pth = by('paths');
  if (!arb || !unc || !wts || !pth) return [];
  const goals: Goal[] = [];
  for (const ph of ['spine', 'access'] as const) {
    const better = Math.min(wts.phases[ph].p99Ms, pth.phases[ph].p99Ms);
    goals.push({
      goal: `p99 during the ${ph} phase no worse than the better single lever`,
      met: arb.phases[ph].p99Ms <= better,
      detail: `arbitrated ${ms(arb.phases[ph].p99Ms)}, better single lever ${ms(better)} (weights ${ms(wts.phases[ph].p99Ms)}, paths ${ms(pth.phases[ph].p99Ms)})`,
    });
  }
  goals.push({
    goal: 'changes per minute at most a third of uncoordinated',
    met: arb.changesPerMin * 3 <= unc.changesPerMin,
    detail: `arbitrated ${arb.changesPerMin.toFixed(1)}/min, uncoordinated ${unc.changesPerMin.toFixed(1)}/min`,
  });
  goals.push({ goal: 'no reversals (A→B→A within 10 s)', met: arb.reversals === 0, detail: `arbitrated ${arb.reversals}` });
  return goals;
}

const mbps = (bps: number | undefined): string => (bps === undefined ? '–' : `${(bps / 1e6).toFixed(2)}`);
const secs = (v: number): string => (v === 0 ? '–' : `${(v / 1000).toFixed(1)} s`);

function spansOf(v: VariantData): Span[] {
  return [
    { from: rel(v.phases.spine, v.startMs), to: rel(v.phases.gap, v.startMs), label: 'sp1–l2 full' },
    { from: rel(v.phases.access, v.startMs), to: rel(v.phases.after, v.startMs), label: 'l3–a3 (web-b access) full' },
  ];
}

const COLORS: Readonly<Record<VariantName, string>> = { weights: '#2ca02c', paths: '#9467bd', uncoordinated: '#d62728', arbitrated: '#1f77b4' };

/** A variant's lever changes as chart markers (only `levers`: the uncoordinated churn would bury a chart). */
function markersOf(v: VariantData, levers: readonly LeverChange['lever'][] = ['path', 'weights'], color = '#555'): Marker[] {
  return v.changes
    .filter((c) => c.ts >= v.startMs && c.ts < v.startMs + v.durationSec * 1000 && levers.includes(c.lever))
    .map((c: LeverChange) => ({
      x: rel(c.ts, v.startMs),
      label: c.lever === 'path' ? `${v.variant}: path ${c.state === 'ecmp' ? '−' : '+'}${c.key.split('>')[1]?.split(':')[0] ?? ''}` : `${v.variant}: weights`,
      color,
    }));
}

/** Cumulative lever changes over time, one line per variant: churn at a glance. */
function changesChart(d: ConflictData): Promise<string> {
  const first = d.variants[0];
  return lineChart({
    title: 'Lever changes so far (weight publications + path changes)',
    xLabel: 'seconds since the first request',
    yLabel: 'changes (cumulative)',
    spans: first ? spansOf(first) : [],
    series: d.variants.map((v) => {
      const pts: [number, number][] = [[0, 0]];
      let n = 0;
      for (const c of v.changes) {
        if (c.ts < v.startMs || c.ts >= v.startMs + v.durationSec * 1000) continue;
        pts.push([rel(c.ts, v.startMs), n]);
        pts.push([rel(c.ts, v.startMs), ++n]);
      }
      pts.push([v.durationSec, n]);
      return { name: v.variant, points: pts, color: COLORS[v.variant] };
    }),
  });
}

export async function writeConflictReport(d: ConflictData, ctx: ReportContext): Promise<LabReport> {
  const replicaIds = CONFLICT.replicas.map((r) => r.id);
  const rows = new Map<VariantName, SecondRow[]>();
  const sums: VariantSummary[] = [];
  for (const v of d.variants) {
    const r = perSecond(v.records, v.startMs, v.durationSec);
    rows.set(v.variant, r);
    await writeSeconds(v.dir, r, replicaIds);
    await writeFile(join(v.dir, 'links.json'), `${JSON.stringify(v.links)}\n`);
    await writeFile(join(v.dir, 'weights.json'), `${JSON.stringify(v.weights)}\n`);
    await writeFile(join(v.dir, 'changes.json'), `${JSON.stringify(v.changes, null, 1)}\n`);
    await writeFile(join(v.dir, 'timeline.json'), `${JSON.stringify({ startMs: v.startMs, phases: v.phases }, null, 1)}\n`);
    sums.push(summarizeVariant(v));
  }
  const goals = goalsOf(sums);
  const summary: ConflictSummary = { lab: 'conflict', runId: ctx.runId, params: CONFLICT, variants: sums, goals, teardown: ctx.teardown };
  await writeFile(join(ctx.runDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const v0 = d.variants[0];
  const spans = v0 ? spansOf(v0) : [];
  const run = (name: VariantName, dashed = false) => ({ name, rows: rows.get(name) ?? [], ...(dashed ? { dashed: true } : {}) });
  const vOf = (name: VariantName): VariantData | undefined => d.variants.find((v) => v.variant === name);
  const arbMarkers = (() => {
    const a = vOf('arbitrated');
    return a ? markersOf(a) : [];
  })();
  await writeFile(join(ctx.runDir, 'latency-levers.svg'), await latencyChart('Latency per second: one lever (dashed) vs arbitrated', [run('weights', true), run('paths', true), run('arbitrated')], spans, arbMarkers));
  await writeFile(join(ctx.runDir, 'latency-coordination.svg'), await latencyChart('Latency per second: uncoordinated (dashed) vs arbitrated', [run('uncoordinated', true), run('arbitrated')], spans, arbMarkers));
  await writeFile(join(ctx.runDir, 'changes.svg'), await changesChart(d));
  await writeFile(
    join(ctx.runDir, 'weights.svg'),
    await weightsChart(
      'Weights in force at the client sidecar (markers: arbitrated weight moves)',
      d.variants.filter((v) => v.variant !== 'paths').map((v) => ({ name: v.variant, samples: v.weights, startMs: v.startMs, ...(v.variant === 'arbitrated' ? {} : { dashed: true }) })),
      CONFLICT.service,
      replicaIds,
      spans,
      (() => {
        const a = vOf('arbitrated');
        return a ? markersOf(a, ['weights']) : [];
      })(),
    ),
  );
  const show = [...d.cables.spine, ...d.cables.access];
  for (const v of d.variants) {
    await writeFile(join(ctx.runDir, `links-${v.variant}.svg`), await linkChart(`Link utilization, ${v.variant} (markers: its path changes)`, v.links, d.linkNames, show, v.startMs, spansOf(v), markersOf(v, ['path'])));
  }

  const cols = VARIANTS.filter((n) => sums.some((s) => s.variant === n));
  const sOf = (n: VariantName): VariantSummary => sums.find((s) => s.variant === n) as VariantSummary;
  const row = (label: string, f: (s: VariantSummary) => string): string[] => [label, ...cols.map((n) => f(sOf(n)))];
  const bulkOf = (s: VariantSummary, ph: 'spine' | 'access') => s.bulk.find((b) => b.phase === ph);
  const D = v0?.durationSec ?? 0;
  const at = (f: number): string => String(Math.round(D * f));
  const md = `# Lab: conflict (run ${ctx.runId})

One service (\`${CONFLICT.service}\`), two replicas behind different leaves of a two-spine leaf-spine
(\`topologies/leaf-spine-conflict.json\`): **web-a** on ra behind leaf l2, **web-b** on rb behind leaf l3 through the
access switch a3. The client on h1 (leaf l1) calls it through its sidecar at ${CONFLICT.rate} requests/s, open loop,
${Math.round(CONFLICT.sizeBytes / 1000)} KB per response. Fabric and access cables 10 Mbit/s.

| seconds | phase | what |
| --- | --- | --- |
| 0–${at(CONFLICT.phases.spine)} | before | quiet |
| ${at(CONFLICT.phases.spine)}–${at(CONFLICT.phases.gap)} | **spine** | hb (on sp1) ⇄ hr (on l2) fill the sp1–l2 cable: ${CONFLICT.iperfUdpMbps} Mbit/s UDP towards l2, ${CONFLICT.iperfTcpStreams} TCP streams back. One of the two equal-cost paths to web-a; the path via sp2 avoids it: **a path move fixes it** |
| ${at(CONFLICT.phases.gap)}–${at(CONFLICT.phases.access)} | gap | quiet |
| ${at(CONFLICT.phases.access)}–${at(CONFLICT.phases.after)} | **access** | hc (on l3) ⇄ hd (on a3) fill the l3–a3 cable in front of web-b the same way. Every path to web-b crosses it: **only weights fix it** |
| ${at(CONFLICT.phases.after)}–${D} | after | quiet |

Variants, one after the other on the same network, same weight policy (floor ${CONFLICT.policy.floor}, congested room cap
${CONFLICT.policy.congestedRoomCap}, smoothing ${CONFLICT.policy.smoothingMs} ms, deadband ${CONFLICT.policy.deadband}):

- **weights**: the bridge moves weights only, reading each replica's most loaded path (with no path lever the
  flows are hashed onto any of them), as a plain mesh would.
- **paths**: the bridge asks for least-congested intents only (its own hysteresis); the sidecar splits evenly.
- **uncoordinated**: both loops at once, each with its own hysteresis, knowing nothing of the other: a mesh
  next to a traffic-engineering system.
- **arbitrated**: one decision per service (bridge/arbiter.ts): path for congestion a path avoids, weights for
  congestion no path avoids; each change waits ${CONFLICT.arbiter.effectMs / 1000} s for its effect, moves that would undo one wait
  ${CONFLICT.arbiter.weightsHoldMs / 1000} s (weights) / ${CONFLICT.arbiter.pathHoldMs / 1000} s (paths); a weights move goes the whole way in one
  publication (the floor for a replica no path spares, even again once its path is below the clear mark); an intent
  goes once its paths have been cool for ${CONFLICT.arbiter.pathIdleMs / 1000} s. Its decisions and reasons are \`arbiter_decision\` events in \`arbitrated/events.jsonl\`.

Latency is measured at the generator from each request's due time to the last byte. A *change* is a weights
publication that changed the split (refreshes not counted) or a path change of the client's traffic (an intent
made or withdrawn, or the controller moving one). A *reversal* is a change that undoes the one before it on the
same thing (a replica's weight going back, an intent's path returning) within ${CONFLICT.reversalWindowMs / 1000} s. *Settle* is the time
from a phase's start to the last change inside it.

## Results

${table(['', ...cols], [
  row('**p99, spine phase**', (s) => `**${ms(s.phases.spine.p99Ms)}**`),
  row('p99.9, spine phase', (s) => ms(s.phases.spine.p999Ms)),
  row('**p99, access phase**', (s) => `**${ms(s.phases.access.p99Ms)}**`),
  row('p99.9, access phase', (s) => ms(s.phases.access.p999Ms)),
  row('p99 before / gap / after', (s) => `${ms(s.phases.before.p99Ms)} / ${ms(s.phases.gap.p99Ms)} / ${ms(s.phases.after.p99Ms)}`),
  row('errors (spine / access)', (s) => `${s.phases.spine.errors} / ${s.phases.access.errors}`),
  row('bulk, spine phase (Mbit/s: UDP / TCP)', (s) => `${mbps(bulkOf(s, 'spine')?.udpBps)} / ${mbps(bulkOf(s, 'spine')?.tcpBps)}`),
  row('bulk, access phase (Mbit/s: UDP / TCP)', (s) => `${mbps(bulkOf(s, 'access')?.udpBps)} / ${mbps(bulkOf(s, 'access')?.tcpBps)}`),
  row('weight publications / min', (s) => `${s.weightsPerMin.toFixed(1)} (${s.weightChanges})`),
  row('path changes / min', (s) => `${s.pathsPerMin.toFixed(1)} (${s.pathChanges})`),
  row('**changes / min**', (s) => `**${s.changesPerMin.toFixed(1)}**`),
  row('**reversals (A→B→A < 10 s)**', (s) => `**${s.reversals}**`),
  row('settle: spine / gap / access / after', (s) => `${secs(s.settleMs.spine)} / ${secs(s.settleMs.gap)} / ${secs(s.settleMs.access)} / ${secs(s.settleMs.after)}`),
])}

## Goals

${goals.length ? table(['goal', 'met', 'figures'], goals.map((g) => [g.goal, g.met ? 'yes' : '**no**', g.detail])) : 'Not all four variants ran.'}

## Charts

![latency, one lever vs arbitrated](latency-levers.svg)

![latency, uncoordinated vs arbitrated](latency-coordination.svg)

![lever changes](changes.svg)

![weights](weights.svg)

${d.variants.map((v) => `![links ${v.variant}](links-${v.variant}.svg)`).join('\n\n')}

## Files

${table(['file', 'what'], [
  ['`summary.json`', 'the numbers above, machine-readable'],
  ...d.variants.flatMap((v) => [
    [`\`${relative(ctx.runDir, join(v.dir, 'events.jsonl'))}\``, `every hint on the bus during the ${v.variant} run (replay: \`meshflow replay ${relative(ctx.runDir, join(v.dir, 'events.jsonl'))}\`)`],
    [`\`${relative(ctx.runDir, join(v.dir, 'changes.json'))}\``, 'every lever change counted above'],
  ]),
  ['`<variant>/requests.jsonl`, `seconds.csv`, `links.json`, `weights.json`, `iperf-*.json`', 'per request, per second, link utilization, sidecar weights, bulk flow results'],
  ['`logs/`', 'output of every process started on a Mininet host'],
])}

Teardown: ${ctx.teardown.length === 0 ? 'clean (no bridge, namespace or process of the run left)' : `problems: ${ctx.teardown.join('; ')}`}.
`;
  const reportPath = join(ctx.runDir, 'report.md');
  await writeFile(reportPath, md);
  return {
    reportPath,
    headline: [
      ...sums.map((s) => `${s.variant.padEnd(13)} p99 spine ${ms(s.phases.spine.p99Ms).padStart(8)}, access ${ms(s.phases.access.p99Ms).padStart(8)}; ${s.changesPerMin.toFixed(1)} changes/min, ${s.reversals} reversals`),
      ...goals.map((g) => `${g.met ? 'met' : 'NOT met'}: ${g.goal} (${g.detail})`),
    ],
  };
}
