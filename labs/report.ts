// Report pieces every lab uses: number formatting, Markdown tables, per-variant raw data files,
// and the charts built from per-second rows, link samples and weight samples.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LinkSample, WeightsSample } from './collect.ts';
import { replicaShare, secondsCsv, type SecondRow } from './stats.ts';
import { lineChart, type Marker, type Series, type Span } from './chart.ts';

export const ms = (v: number | undefined): string => (v === undefined ? '–' : v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`);
export const pct = (v: number | undefined): string => (v === undefined ? '–' : `${(v * 100).toFixed(v < 0.01 && v > 0 ? 2 : 1)}%`);
export const signedMs = (v: number | undefined): string => (v === undefined ? '–' : `${v >= 0 ? '+' : '−'}${Math.abs(Math.round(v))} ms`);

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Per-second rows as CSV and JSON in a variant's folder. */
export async function writeSeconds(dir: string, rows: readonly SecondRow[], replicaIds: readonly string[]): Promise<void> {
  await writeFile(join(dir, 'seconds.csv'), secondsCsv(rows, replicaIds));
  await writeFile(join(dir, 'seconds.json'), `${JSON.stringify(rows, null, 1)}\n`);
}

/** Seconds since `startMs`, rounded to 0.1 s. */
export const rel = (ts: number, startMs: number): number => Math.round((ts - startMs) / 100) / 10;

export function latencyChart(title: string, runs: readonly { name: string; rows: readonly SecondRow[]; dashed?: boolean }[], spans: readonly Span[], markers: readonly Marker[]): Promise<string> {
  const series: Series[] = [];
  const colors = [
    ['#1f77b4', '#aec7e8'],
    ['#d62728', '#ff9896'],
    ['#2ca02c', '#98df8a'],
    ['#9467bd', '#c5b0d5'],
  ];
  runs.forEach((r, i) => {
    const [dark, light] = colors[i % colors.length] as [string, string];
    const pts = (f: (x: SecondRow) => number): [number, number | null][] => r.rows.map((x) => [x.second + 0.5, x.count ? f(x) : null]);
    series.push({ name: `${r.name} p99`, points: pts((x) => x.p99Ms), color: dark, ...(r.dashed ? { dashed: true } : {}) });
    series.push({ name: `${r.name} p50`, points: pts((x) => x.p50Ms), color: light, ...(r.dashed ? { dashed: true } : {}) });
  });
  return lineChart({ title, xLabel: 'seconds since the first request', yLabel: 'latency per second (ms, log)', series, spans, markers, yLog: true });
}

export function shareChart(title: string, replica: string, runs: readonly { name: string; rows: readonly SecondRow[]; dashed?: boolean }[], spans: readonly Span[], markers: readonly Marker[]): Promise<string> {
  return lineChart({
    title,
    xLabel: 'seconds since the first request',
    yLabel: `share of requests to ${replica}`,
    yMax: 1,
    spans,
    markers,
    series: runs.map((r) => ({ name: r.name, points: r.rows.map((x) => [x.second + 0.5, replicaShare(x, replica) ?? null] as [number, number | null]), ...(r.dashed ? { dashed: true } : {}) })),
  });
}

export function linkChart(title: string, samples: readonly LinkSample[], names: Readonly<Record<string, string>>, show: readonly string[], startMs: number, spans: readonly Span[], markers: readonly Marker[]): Promise<string> {
  return lineChart({
    title,
    xLabel: 'seconds since the first request',
    yLabel: 'utilization (smoothed, of capacity)',
    yMax: 1.1,
    spans,
    markers,
    series: show.map((id) => ({ name: names[id] ?? id, points: samples.filter((s) => s.linkId === id).map((s) => [rel(s.ts, startMs), s.utilization] as [number, number]) })),
  });
}

export function weightsChart(title: string, runs: readonly { name: string; samples: readonly WeightsSample[]; startMs: number; dashed?: boolean }[], service: string, replicas: readonly string[], spans: readonly Span[], markers: readonly Marker[]): Promise<string> {
  const series: Series[] = [];
  for (const r of runs) {
    for (const rep of replicas) {
      series.push({
        name: `${r.name} ${rep}`,
        points: r.samples.map((s) => [rel(s.ts, r.startMs), s.services[service]?.[rep] ?? null] as [number, number | null]),
        ...(r.dashed ? { dashed: true } : {}),
      });
    }
  }
  return lineChart({ title, xLabel: 'seconds since the first request', yLabel: 'weight in force at the sidecar (of 1000)', yMax: 1000, spans, markers, series });
}
