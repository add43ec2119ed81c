// The failover lab's report: takeover per switch, pings lost per host pair (around the kill and in
// all), flows before and after per switch, the weights over time, and a verdict against the goals.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabReport, ReportContext } from '../lab.ts';
import { ms, rel, table, weightsChart } from '../report.ts';
import { FAILOVER, type FailoverData } from './params.ts';
import { longestRun } from './pings.ts';

export interface FailoverSummary {
  readonly takeoverMs: Readonly<Record<string, number | null>>;
  readonly maxTakeoverMs: number | null;
  /**
   * Per pair: pings lost in the window around the kill, in a window as long just before it (the
   * congestion's and the machine's own losses, with the master alive), the excess of the first over
   * the second (what the takeover cost), and in the whole run.
   */
  readonly pings: readonly { pair: string; sent: number; lostAroundKill: number; lostBaseline: number; excess: number; lost: number; longestRunAroundKill: number; longestRunBefore: number }[];
  /** Over every pair: pings lost around the kill less those lost in the window just before (negative: fewer). */
  readonly excessAllPairs: number;
  /** The window around the kill, ms from the kill. */
  readonly pingWindowMs: readonly [number, number];
  readonly flows: Readonly<Record<string, { before: number; after: number; removed: number; expired: number }>>;
  /** Weight samples from the kill to the end of the run that were even (500/500) or stale. */
  readonly evenOrStaleAfterKill: number;
  readonly weightSamplesAfterKill: number;
  /** The smallest weight of the congested replica before the kill: the shift being kept. */
  readonly congestedWeightBeforeKill: number | null;
  readonly epochs: readonly number[];
  readonly takeoversMetric: number | null;
  readonly verdict: { takeover: boolean; noFlowRemoved: boolean; pings: boolean; weights: boolean };
}

export function summarize(m: FailoverData): FailoverSummary {
  const takeoverMs = Object.fromEntries(m.switches.map((s) => [s.switchName, s.takeoverMs ?? null]));
  const times = m.switches.map((s) => s.takeoverMs);
  const maxTakeoverMs = times.some((t) => t === undefined) || times.length === 0 ? null : Math.max(...(times as number[]));
  const windowStart = m.killTs - FAILOVER.windowBeforeMs;
  const windowEnd = m.killTs + (maxTakeoverMs ?? 15_000) + FAILOVER.windowAfterMs;
  const baselineStart = windowStart - (windowEnd - windowStart);
  const pings = m.pings.map((p) => {
    const around = p.lostAt.filter((t) => t >= windowStart && t <= windowEnd).length;
    const baseline = p.lostAt.filter((t) => t >= baselineStart && t < windowStart).length;
    return {
      pair: p.pair,
      sent: p.sent,
      lostAroundKill: around,
      lostBaseline: baseline,
      excess: Math.max(0, around - baseline),
      lost: p.sent - p.received,
      longestRunAroundKill: longestRun(p.lostAt, windowStart, windowEnd),
      longestRunBefore: longestRun(p.lostAt, baselineStart, windowStart),
    };
  });
  const flows = Object.fromEntries(m.switches.map((s) => [s.switchName, { before: s.flows.before, after: s.flows.after, removed: s.flows.removed.length, expired: s.flows.expired.length }]));
  const after = m.weights.filter((w) => w.ts >= m.killTs && w.ts <= m.congestion.to);
  const isEven = (w: (typeof m.weights)[number]): boolean => {
    const ws = Object.values(w.services[FAILOVER.service] ?? {});
    return ws.length > 1 && ws.every((x) => x === ws[0]);
  };
  const evenOrStale = after.filter((w) => !w.fresh || isEven(w)).length;
  const beforeKill = m.weights.filter((w) => w.ts < m.killTs && w.ts >= m.congestion.from).map((w) => w.services[FAILOVER.service]?.['web-a']).filter((x): x is number => x !== undefined);
  const epochs = [...new Set(m.rows.map((r) => r.epoch).filter((e): e is number => e !== undefined))].sort((a, b) => a - b);
  return {
    takeoverMs,
    maxTakeoverMs,
    pings,
    excessAllPairs: pings.reduce((n, p) => n + p.lostAroundKill - p.lostBaseline, 0),
    pingWindowMs: [windowStart - m.killTs, windowEnd - m.killTs],
    flows,
    evenOrStaleAfterKill: evenOrStale,
    weightSamplesAfterKill: after.length,
    congestedWeightBeforeKill: beforeKill.length ? Math.min(...beforeKill) : null,
    epochs,
    takeoversMetric: m.takeoversMetric ?? null,
    verdict: {
      takeover: maxTakeoverMs !== null && maxTakeoverMs <= FAILOVER.goals.takeoverMs,
      noFlowRemoved: m.switches.every((s) => s.flows.removed.length === 0),
      pings: pings.every((p) => p.excess <= FAILOVER.goals.lostPerPair),
      weights: after.length > 0 && evenOrStale === 0,
    },
  };
}

export async function writeFailoverReport(m: FailoverData, ctx: ReportContext): Promise<LabReport> {
  const s = summarize(m);
  await writeFile(join(ctx.runDir, 'summary.json'), `${JSON.stringify(s, null, 2)}\n`);
  await writeFile(join(ctx.runDir, 'weights.json'), `${JSON.stringify(m.weights)}\n`);
  const spans = [{ from: rel(m.congestion.from, m.startMs), to: rel(m.congestion.to, m.startMs), label: 'congestion' }];
  const markers = m.marks.map((k) => ({ x: rel(k.ts, m.startMs), label: k.label }));
  const svg = await weightsChart('Sidecar weights through the takeover', [{ name: 'client', samples: m.weights, startMs: m.startMs }], FAILOVER.service, FAILOVER.replicas.map((r) => r.id), spans, markers);
  await writeFile(join(ctx.runDir, 'weights.svg'), svg);
  const ok = (b: boolean): string => (b ? 'met' : '**missed**');
  const weightRows = m.weights
    .filter((_, i) => i % 4 === 0)
    .map((w) => [`${rel(w.ts, m.startMs).toFixed(1)}`, String(w.services[FAILOVER.service]?.['web-a'] ?? '–'), String(w.services[FAILOVER.service]?.['web-b'] ?? '–'), w.fresh ? 'fresh' : 'stale']);
  const md = [
    '# Failover lab',
    '',
    `Two controllers (a, b) share the quickstart's four switches by OpenFlow roles and a Redis lease per switch (lease ${FAILOVER.leaseMs} ms). ` +
      `At ${rel(m.killTs, m.startMs)} s, in the middle of the congestion on s1–s2, the master a is killed with SIGKILL. ` +
      `Run ${ctx.runId}, ${m.durationSec} s of traffic: ${FAILOVER.rate} requests/s through the client's sidecar, pings at 10/s between every host pair.`,
    '',
    '## Verdict',
    '',
    table(['goal', 'result', ''], [
      [`takeover within ${ms(FAILOVER.goals.takeoverMs)} of the master's death`, `slowest switch ${ms(s.maxTakeoverMs ?? undefined)}`, ok(s.verdict.takeover)],
      ['no flow removed by the takeover', `${Object.values(s.flows).reduce((n, f) => n + f.removed, 0)} removed`, ok(s.verdict.noFlowRemoved)],
      [`at most ${FAILOVER.goals.lostPerPair} lost ping per host pair`, `worst pair ${Math.max(0, ...s.pings.map((p) => p.excess))} lost around the kill beyond the loss just before it (raw: ${Math.max(0, ...s.pings.map((p) => p.lostAroundKill))})`, ok(s.verdict.pings)],
      ['weights never revert to even', `${s.evenOrStaleAfterKill} of ${s.weightSamplesAfterKill} samples even or stale after the kill`, ok(s.verdict.weights)],
    ]),
    '',
    '## Takeover per switch',
    '',
    'From the SIGKILL to the survivor\'s ROLE_REPLY as master; the epoch is the lease\'s fencing number, the OpenFlow generation_id.',
    '',
    table(['switch', 'takeover', 'epoch before', 'epoch after'], m.switches.map((x) => [x.switchName, ms(x.takeoverMs), String(x.epochBefore), x.epochAfter === undefined ? '–' : String(x.epochAfter)])),
    '',
    `/metrics of the survivor: meshflow_cluster_takeovers_total = ${s.takeoversMetric ?? '–'}. Cost-row epochs seen on the bus: ${s.epochs.join(', ') || '–'}.`,
    '',
    '## Flows before and after (dump-flows)',
    '',
    `Dumped ${ms(400)} before the kill and ${ms(FAILOVER.windowAfterMs)} after the last takeover; rules compared by table, cookie, priority, match and actions. "Expired": rules gone that carried no packet in the second before the kill and have an idle timeout (the switch's own expiry, not the takeover).`,
    '',
    table(['switch', 'before', 'after', 'removed', 'expired', 'added'], m.switches.map((x) => [x.switchName, String(x.flows.before), String(x.flows.after), String(x.flows.removed.length), String(x.flows.expired.length), String(x.flows.added.length)])),
    ...m.switches.flatMap((x) => (x.flows.removed.length ? ['', `Removed on ${x.switchName}:`, '', ...x.flows.removed.map((k) => `- \`${k}\``)] : [])),
    ...m.switches.flatMap((x) => (x.flows.added.length ? ['', `Added on ${x.switchName} by the new master:`, '', ...x.flows.added.map((k) => `- \`${k}\``)] : [])),
    '',
    '## Pings (10/s per pair)',
    '',
    `Lost around the kill: sent from ${ms(FAILOVER.windowBeforeMs)} before it to ${ms(FAILOVER.windowAfterMs)} after the last takeover (${(s.pingWindowMs[0] / 1000).toFixed(1)} s to +${(s.pingWindowMs[1] / 1000).toFixed(1)} s). ` +
      'Just before: in a window as long ending where that one starts, the master alive: the congestion\'s own drops (UDP at the link rate stalls the userspace datapath) and the machine\'s. The excess is an upper bound on the takeover\'s cost: the congestion\'s drops grow as it goes on, and a run with the kill left out lost 4–12 pings per pair in the same window. A takeover that broke forwarding would show as a run of 20 and more (its lease). Lost in all: the whole run.',
    '',
    'Longest run: the most pings lost in a row (an outage of the forwarding shows as a run: 2 s would be 20; scattered drops do not).',
    '',
    table(['pair', 'sent', 'lost around the kill', 'lost just before', 'excess', 'longest run around / before', 'lost in all'], s.pings.map((p) => [p.pair, String(p.sent), String(p.lostAroundKill), String(p.lostBaseline), String(p.excess), `${p.longestRunAroundKill} / ${p.longestRunBefore}`, String(p.lost)])),
    '',
    '## Weights over time',
    '',
    '![weights](weights.svg)',
    '',
    table(['s', 'web-a', 'web-b', ''], weightRows),
    '',
    ...(ctx.teardown.length ? ['## Teardown problems', '', ...ctx.teardown.map((t) => `- ${t}`), ''] : []),
  ].join('\n');
  const reportPath = join(ctx.runDir, 'report.md');
  await writeFile(reportPath, md);
  return {
    reportPath,
    headline: [
      `takeover per switch: ${m.switches.map((x) => `${x.switchName} ${ms(x.takeoverMs)}`).join(', ')} (goal ${ms(FAILOVER.goals.takeoverMs)})`,
      `flows removed by the takeover: ${Object.values(s.flows).reduce((n, f) => n + f.removed, 0)}; before/after ${m.switches.map((x) => `${x.switchName} ${x.flows.before}/${x.flows.after}`).join(', ')}`,
      `pings lost around the kill beyond the loss just before it, worst pair: ${Math.max(0, ...s.pings.map((p) => p.excess))} (goal ≤ ${FAILOVER.goals.lostPerPair}; raw worst ${Math.max(0, ...s.pings.map((p) => p.lostAroundKill))}, just before ${Math.max(0, ...s.pings.map((p) => p.lostBaseline))})`,
      `longest run of lost pings around the kill, worst pair: ${Math.max(0, ...s.pings.map((p) => p.longestRunAroundKill))} (before it: ${Math.max(0, ...s.pings.map((p) => p.longestRunBefore))})`,
      `weights after the kill: ${s.evenOrStaleAfterKill} of ${s.weightSamplesAfterKill} samples even or stale; web-a at ${s.congestedWeightBeforeKill ?? '–'} before the kill`,
    ],
  };
}
