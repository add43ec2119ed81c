// Where each request's time went, from the spans the lab's sidecars write (OTLP JSON lines,
// bridge/sidecar/spans.ts): a waterfall per class (the median and the p99 request, hop by hop) and
// each request's latency split into the sidecars' queues, the network and the services.
//
// The split, per hop (one span): the span runs from the request reaching the sidecar to the answer
// leaving it. `meshflow.queue_ms` is the wait for a slot in the sidecar; `meshflow.upstream.server_ms`
// is the time the callee says it spent (its Server-Timing header). The callee's own service time is
// server − the hops it made itself (its child spans), and the request's network time is what is left
// of its latency after the queues and the services (a hop's own duration − queue − server, drawn in
// the waterfall, overlaps its child hops' while an answer streams through both). A hop whose callee gave no Server-Timing cannot be split: its remainder counts
// as "network + service" (undivided), so nothing is guessed. The waterfall draws a hop's network
// time half before and half after the callee's time: the spans say how much, not when.
import { readFile } from 'node:fs/promises';
import type { TopLevelSpec } from 'vega-lite';
import { svgOf } from '../chart.ts';

/** One hop as a sidecar recorded it. Times in ms since the epoch (fractional). */
export interface HopSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  /** The sidecar that wrote it (its resource's service.instance.id). */
  readonly sidecar: string;
  readonly service: string;
  readonly cls: string;
  readonly replica?: string;
  readonly status?: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly queueMs?: number;
  readonly serverMs?: number;
  readonly pathLinks?: readonly string[];
  readonly pathLevels?: readonly string[];
  readonly worstLevel?: string;
}

type OtlpValue = {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
  arrayValue?: { values?: OtlpValue[] };
};
interface OtlpAttribute {
  key: string;
  value: OtlpValue;
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  startTimeUnixNano: string | number;
  endTimeUnixNano: string | number;
  attributes?: OtlpAttribute[];
}
interface OtlpRequest {
  resourceSpans?: { resource?: { attributes?: OtlpAttribute[] }; scopeSpans?: { spans?: OtlpSpan[] }[] }[];
}

function scalar(v: OtlpValue | undefined): string | number | boolean | undefined {
  if (v === undefined) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  return v.boolValue;
}
const strings = (v: OtlpValue | undefined): string[] | undefined => v?.arrayValue?.values?.map((x) => String(scalar(x) ?? ''));
/** Nanoseconds since the epoch (a decimal string, beyond a double's integers) → ms, to the microsecond. */
const nanosToMs = (n: string | number): number => (typeof n === 'number' ? n / 1e6 : Number(BigInt(n) / 1000n) / 1000);

/** The hops in OTLP JSON lines (one ExportTraceServiceRequest per line); unreadable lines are skipped. */
export function parseSpanLines(text: string): HopSpan[] {
  const out: HopSpan[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let req: OtlpRequest;
    try {
      req = JSON.parse(line) as OtlpRequest;
    } catch {
      continue;
    }
    for (const rs of req.resourceSpans ?? []) {
      const sidecar = String(scalar(rs.resource?.attributes?.find((a) => a.key === 'service.instance.id')?.value) ?? '');
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          const attrs = new Map((s.attributes ?? []).map((a) => [a.key, a.value]));
          const num = (k: string): number | undefined => {
            const v = scalar(attrs.get(k));
            return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
          };
          const str = (k: string): string | undefined => {
            const v = scalar(attrs.get(k));
            return typeof v === 'string' ? v : undefined;
          };
          const replica = str('meshflow.replica');
          const status = num('http.response.status_code');
          const queueMs = num('meshflow.queue_ms');
          const serverMs = num('meshflow.upstream.server_ms');
          const pathLinks = strings(attrs.get('meshflow.path.links'));
          const pathLevels = strings(attrs.get('meshflow.path.levels'));
          const worstLevel = str('meshflow.path.worst_level');
          out.push({
            traceId: s.traceId,
            spanId: s.spanId,
            ...(s.parentSpanId ? { parentSpanId: s.parentSpanId } : {}),
            sidecar,
            service: str('meshflow.service') ?? '',
            cls: str('meshflow.class') ?? 'default',
            ...(replica !== undefined ? { replica } : {}),
            ...(status !== undefined ? { status } : {}),
            startMs: nanosToMs(s.startTimeUnixNano),
            endMs: nanosToMs(s.endTimeUnixNano),
            ...(queueMs !== undefined ? { queueMs } : {}),
            ...(serverMs !== undefined ? { serverMs } : {}),
            ...(pathLinks !== undefined ? { pathLinks } : {}),
            ...(pathLevels !== undefined ? { pathLevels } : {}),
            ...(worstLevel !== undefined ? { worstLevel } : {}),
          });
        }
      }
    }
  }
  return out;
}

/** The hops in these files; a file that does not exist (a sidecar that wrote none) is skipped. */
export async function readSpans(files: readonly string[]): Promise<HopSpan[]> {
  const out: HopSpan[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = await readFile(f, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    out.push(...parseSpanLines(text));
  }
  return out;
}

export type Part = 'queue' | 'network' | 'service' | 'undivided';
export const PARTS: readonly Part[] = ['queue', 'network', 'service', 'undivided'];

/** One segment of the waterfall, ms from the request's start. */
export interface Segment {
  /** "<sidecar> → <replica>", indented by depth. */
  readonly hop: string;
  readonly part: Part;
  readonly fromMs: number;
  readonly toMs: number;
}

/** One request, from its first hop (the edge sidecar's span) through every hop below it. */
export interface RequestBreakdown {
  readonly traceId: string;
  readonly cls: string;
  readonly startMs: number;
  readonly totalMs: number;
  readonly status?: number;
  /** ms per part, summed over the hops; queue + network + service + undivided = totalMs. */
  readonly parts: Readonly<Record<Part, number>>;
  readonly segments: readonly Segment[];
  /** The worst link level on any hop's path, when the spans carry paths. */
  readonly worstLevel?: string;
}

const LEVEL_RANK: Readonly<Record<string, number>> = { unknown: -1, ok: 0, warning: 1, congested: 2, down: 3 };

/** Requests by trace: the root is the hop whose parent is not among the trace's hops (the edge). */
export function breakdowns(spans: readonly HopSpan[]): RequestBreakdown[] {
  const byTrace = new Map<string, HopSpan[]>();
  for (const s of spans) {
    let list = byTrace.get(s.traceId);
    if (list === undefined) byTrace.set(s.traceId, (list = []));
    list.push(s);
  }
  const out: RequestBreakdown[] = [];
  for (const [traceId, hops] of byTrace) {
    const ids = new Set(hops.map((h) => h.spanId));
    const children = new Map<string, HopSpan[]>();
    for (const h of hops) {
      if (h.parentSpanId === undefined || !ids.has(h.parentSpanId)) continue;
      let list = children.get(h.parentSpanId);
      if (list === undefined) children.set(h.parentSpanId, (list = []));
      list.push(h);
    }
    // A trace may hold several requests from the edge (a caller reusing its trace): each root is one.
    for (const root of hops.filter((h) => h.parentSpanId === undefined || !ids.has(h.parentSpanId))) {
      const parts: Record<Part, number> = { queue: 0, network: 0, service: 0, undivided: 0 };
      const segments: Segment[] = [];
      let worst: string | undefined;
      const walk = (h: HopSpan, depth: number): void => {
        const label = `${'  '.repeat(depth)}${h.sidecar || 'sidecar'} → ${h.replica ?? h.service}`;
        const at = (t: number): number => t - root.startMs;
        const dur = Math.max(0, h.endMs - h.startMs);
        const kids = children.get(h.spanId) ?? [];
        const inner = kids.reduce((a, k) => a + Math.max(0, k.endMs - k.startMs), 0);
        const queue = Math.min(dur, Math.max(0, h.queueMs ?? 0));
        parts.queue += queue;
        const s0 = at(h.startMs);
        if (queue > 0) segments.push({ hop: label, part: 'queue', fromMs: s0, toMs: s0 + queue });
        const rest = dur - queue;
        if (h.serverMs !== undefined) {
          const server = Math.min(rest, Math.max(0, h.serverMs));
          const network = rest - server;
          parts.service += Math.max(0, server - inner);
          const n0 = s0 + queue;
          segments.push({ hop: label, part: 'network', fromMs: n0, toMs: n0 + network / 2 });
          segments.push({ hop: label, part: 'service', fromMs: n0 + network / 2, toMs: n0 + network / 2 + server });
          segments.push({ hop: label, part: 'network', fromMs: n0 + network / 2 + server, toMs: s0 + dur });
        } else {
          // No word from the callee: its time and the network's stay together (less the hops it made).
          parts.undivided += Math.max(0, rest - inner);
          segments.push({ hop: label, part: 'undivided', fromMs: s0 + queue, toMs: s0 + dur });
        }
        if (h.worstLevel !== undefined && (worst === undefined || (LEVEL_RANK[h.worstLevel] ?? -1) > (LEVEL_RANK[worst] ?? -1))) worst = h.worstLevel;
        for (const k of [...kids].sort((a, b) => a.startMs - b.startMs)) walk(k, depth + 1);
      };
      walk(root, 0);
      const totalMs = Math.max(0, root.endMs - root.startMs);
      // The network is what the request's time leaves over: a streamed answer crosses every hop at
      // once (each hop's span lasts to its last byte), so summing the hops' network times would count
      // the same bytes once per hop.
      parts.network = Math.max(0, totalMs - parts.queue - parts.service - parts.undivided);
      out.push({
        traceId,
        cls: root.cls,
        startMs: root.startMs,
        totalMs,
        ...(root.status !== undefined ? { status: root.status } : {}),
        parts,
        segments: segments.filter((s) => s.toMs > s.fromMs),
        ...(worst !== undefined ? { worstLevel: worst } : {}),
      });
    }
  }
  return out.sort((a, b) => a.startMs - b.startMs);
}

/** The request at quantile q of total latency (nearest rank), or undefined for none. */
export function atQuantile(reqs: readonly RequestBreakdown[], q: number): RequestBreakdown | undefined {
  if (reqs.length === 0) return undefined;
  const sorted = [...reqs].sort((a, b) => a.totalMs - b.totalMs);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export interface ClassSplit {
  readonly cls: string;
  readonly requests: number;
  /** Mean ms per part (means add up, percentiles do not). */
  readonly mean: Readonly<Record<Part, number>>;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** Share of the p99 request's time in the network (network / total), when it could be split. */
  readonly p99NetworkShare?: number;
}

export function classSplits(reqs: readonly RequestBreakdown[], classes?: readonly string[]): ClassSplit[] {
  const names = classes ?? [...new Set(reqs.map((r) => r.cls))].sort();
  return names.flatMap((cls) => {
    const mine = reqs.filter((r) => r.cls === cls);
    if (mine.length === 0) return [];
    const mean = { queue: 0, network: 0, service: 0, undivided: 0 };
    for (const r of mine) for (const p of PARTS) mean[p] += r.parts[p] / mine.length;
    const p99 = atQuantile(mine, 0.99);
    const splittable = p99 !== undefined && p99.totalMs > 0 && p99.parts.undivided === 0;
    return [{ cls, requests: mine.length, mean, p50Ms: atQuantile(mine, 0.5)?.totalMs ?? 0, p99Ms: p99?.totalMs ?? 0, ...(splittable ? { p99NetworkShare: p99.parts.network / p99.totalMs } : {}) }];
  });
}

const PART_COLORS: Readonly<Record<Part, string>> = { queue: '#ff7f0e', network: '#1f77b4', service: '#2ca02c', undivided: '#7f7f7f' };
const colorScale = { domain: [...PARTS], range: PARTS.map((p) => PART_COLORS[p]) };

/** The per-class waterfall: for each class the median and the p99 request, one row per hop. */
export function waterfallSpec(title: string, reqs: readonly RequestBreakdown[], classes?: readonly string[]): TopLevelSpec {
  const rows: { row: string; part: Part; from: number; to: number }[] = [];
  const order: string[] = [];
  for (const s of classSplits(reqs, classes)) {
    for (const [name, q] of [['p50', 0.5], ['p99', 0.99]] as const) {
      const r = atQuantile(reqs.filter((x) => x.cls === s.cls), q);
      if (r === undefined) continue;
      for (const seg of r.segments) {
        const row = `${s.cls} ${name} (${r.totalMs.toFixed(1)} ms) · ${seg.hop}`;
        if (!order.includes(row)) order.push(row);
        rows.push({ row, part: seg.part, from: seg.fromMs, to: seg.toMs });
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: Math.max(60, order.length * 18),
    data: { values: rows },
    mark: { type: 'bar', height: 12 },
    encoding: {
      y: { field: 'row', type: 'nominal', sort: order, title: null, axis: { labelLimit: 360 } },
      x: { field: 'from', type: 'quantitative', title: 'ms from the request reaching the first sidecar' },
      x2: { field: 'to' },
      color: { field: 'part', type: 'nominal', scale: colorScale, title: 'time in' },
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

/** Mean latency per class, stacked by where it went. */
export function splitSpec(title: string, splits: readonly ClassSplit[]): TopLevelSpec {
  const values = splits.flatMap((s) => PARTS.map((p) => ({ cls: s.cls, part: p, ms: s.mean[p] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 560,
    height: Math.max(40, splits.length * 28),
    data: { values },
    mark: 'bar',
    encoding: {
      y: { field: 'cls', type: 'nominal', title: 'class', sort: splits.map((s) => s.cls) },
      x: { field: 'ms', type: 'quantitative', stack: 'zero', title: 'mean latency, ms' },
      color: { field: 'part', type: 'nominal', scale: colorScale, title: 'time in' },
      order: { field: 'part', sort: 'ascending' },
    },
    config: { font: 'sans-serif' },
  } as TopLevelSpec;
}

export interface WaterfallSection {
  /** Markdown for the report (charts linked by file name); empty when there were no spans. */
  readonly markdown: string;
  /** SVG files to write next to the report: name → text. */
  readonly files: ReadonlyMap<string, string>;
  readonly splits: readonly ClassSplit[];
}

const ms = (v: number): string => v.toFixed(1);

/**
 * The report section for one variant: `label` names it in titles and file names
 * (waterfall-<label>.svg, split-<label>.svg). Only successful requests (2xx) are drawn.
 */
export async function waterfallSection(label: string, spans: readonly HopSpan[], classes?: readonly string[]): Promise<WaterfallSection> {
  const reqs = breakdowns(spans).filter((r) => r.status === undefined || (r.status >= 200 && r.status < 300));
  if (reqs.length === 0) return { markdown: '', files: new Map(), splits: [] };
  const splits = classSplits(reqs, classes);
  const files = new Map<string, string>([
    [`waterfall-${label}.svg`, await svgOf(waterfallSpec(`Waterfall per class, ${label}: the median and the p99 request`, reqs, classes))],
    [`split-${label}.svg`, await svgOf(splitSpec(`Where the time went, ${label} (mean per request)`, splits))],
  ]);
  const lines = [
    `### Where the time went: ${label}`,
    '',
    `From ${reqs.length} requests' spans. Queue: waiting in a sidecar for a slot; network: a hop's time less its queue and the callee's own time (Server-Timing); service: each callee's own time less the hops it made; undivided: hops whose callee gave no Server-Timing.`,
    '',
    '| class | requests | p50 ms | p99 ms | mean queue | mean network | mean service | mean undivided | network share of the p99 request |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...splits.map(
      (s) =>
        `| ${s.cls} | ${s.requests} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ms(s.mean.queue)} | ${ms(s.mean.network)} | ${ms(s.mean.service)} | ${ms(s.mean.undivided)} | ${s.p99NetworkShare === undefined ? '–' : `${Math.round(s.p99NetworkShare * 100)}%`} |`,
    ),
    '',
    `![waterfall ${label}](waterfall-${label}.svg)`,
    '',
    `![split ${label}](split-${label}.svg)`,
    '',
  ];
  return { markdown: lines.join('\n'), files, splits };
}
