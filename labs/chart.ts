// Line charts for the lab reports, drawn by Vega-Lite and rendered to SVG by Vega in Node (no
// browser, no canvas): series over time, shaded spans for phases, dashed rules for events. The
// event labels are laid out in lanes here, because Vega-Lite places text marks without regard
// for one another and nearby events would print over each other.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';

export interface Series {
  readonly name: string;
  /** [x, y] points; y may be null for a gap. */
  readonly points: readonly (readonly [number, number | null])[];
  readonly color?: string;
  /** Drawn dashed (e.g. the baseline run next to the coordinated one). */
  readonly dashed?: boolean;
}

export interface Marker {
  readonly x: number;
  readonly label: string;
  readonly color?: string;
}

export interface Span {
  readonly from: number;
  readonly to: number;
  readonly label: string;
}

export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  readonly markers?: readonly Marker[];
  readonly spans?: readonly Span[];
  readonly width?: number;
  readonly height?: number;
  /** Fixed y range top; default: the data's maximum, rounded up to a nice number. */
  readonly yMax?: number;
  /** Logarithmic y axis (latency tails span orders of magnitude). */
  readonly yLog?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const FONT_SIZE = 11;
/** Average glyph width of the 11 px sans-serif labels, for laying labels out before Vega renders them. */
const CHAR_PX = 6.2;
const LANE_PX = 13;

/** 1, 2, 5 × 10^k at or above v. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v * 0.999999) return m * p;
  return 10 * p;
}

export interface PlacedLabel {
  readonly index: number;
  /** 0 is the top lane; each lane is one text line lower. */
  readonly lane: number;
}

/**
 * Places labels that start at pixel `x` and run right, each in the highest lane where it overlaps
 * no label already placed (labels are placed left to right). Deterministic, so reports diff cleanly.
 */
export function layoutLabels(labels: readonly { x: number; text: string }[], gapPx = 4): PlacedLabel[] {
  const order = labels.map((l, index) => ({ ...l, index })).sort((a, b) => a.x - b.x || a.index - b.index);
  const laneEnds: number[] = [];
  const placed: PlacedLabel[] = [];
  for (const l of order) {
    let lane = laneEnds.findIndex((end) => end + gapPx <= l.x);
    if (lane === -1) lane = laneEnds.length;
    laneEnds[lane] = l.x + l.text.length * CHAR_PX;
    placed.push({ index: l.index, lane });
  }
  return placed.sort((a, b) => a.index - b.index);
}

interface Bounds {
  readonly x0: number;
  readonly x1: number;
  readonly yBottom: number;
  readonly yTop: number;
}

function bounds(spec: ChartSpec): Bounds {
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null && Number.isFinite(y)));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs, x0 + 1) : 1;
  const yTop = spec.yMax ?? niceCeil(ys.length ? Math.max(...ys) : 1);
  const positive = ys.filter((y) => y > 0);
  const yBottom = spec.yLog ? 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(yTop, ...positive)))) : 0;
  return { x0, x1, yBottom, yTop };
}

/** The Vega-Lite specification of a chart (exported so that tests can read what is drawn). */
export function chartSpec(spec: ChartSpec): TopLevelSpec {
  const width = (spec.width ?? 760) - 100;
  const height = (spec.height ?? 300) - 90;
  const b = bounds(spec);
  const x = { field: 'x', type: 'quantitative', title: spec.xLabel, scale: { domain: [b.x0, b.x1], nice: false, zero: false } } as const;
  const yScale = spec.yLog ? { type: 'log' as const, domain: [b.yBottom, b.yTop], clamp: true } : { domain: [b.yBottom, b.yTop], clamp: true, nice: false };
  const names = spec.series.map((s) => s.name);
  const points = spec.series.flatMap((s) =>
    s.points.map(([px, py]) => ({ series: s.name, x: px, y: py !== null && Number.isFinite(py) && (!spec.yLog || py > 0) ? py : null })),
  );
  const markers = (spec.markers ?? []).filter((m) => m.x >= b.x0 && m.x <= b.x1);
  const toPx = (v: number): number => ((v - b.x0) / (b.x1 - b.x0)) * width;
  const spans = (spec.spans ?? []).map((s) => ({ from: Math.max(b.x0, s.from), to: Math.min(b.x1, s.to), label: s.label })).filter((s) => s.to > s.from);
  // Span labels sit on the top lane; event labels take the lanes below them.
  const spanLanes = layoutLabels(spans.map((s) => ({ x: toPx(s.from) + 3, text: s.label })));
  const markerLanes = layoutLabels(markers.map((m) => ({ x: toPx(m.x) + 3, text: m.label })));
  const firstMarkerLane = spans.length ? Math.max(...spanLanes.map((l) => l.lane)) + 1 : 0;
  const layers: object[] = [];
  if (spans.length) {
    layers.push({
      data: { values: spans },
      mark: { type: 'rect', color: '#f4c430', opacity: 0.18 },
      encoding: { x: { ...x, field: 'from' }, x2: { field: 'to' } },
    });
    layers.push({
      data: { values: spans.map((s, i) => ({ ...s, y: (spanLanes[i]?.lane ?? 0) * LANE_PX + 12 })) },
      mark: { type: 'text', align: 'left', dx: 3, color: '#8a6d00', fontSize: FONT_SIZE },
      encoding: { x: { ...x, field: 'from' }, y: { field: 'y', type: 'quantitative', scale: null }, text: { field: 'label' } },
    });
  }
  layers.push({
    data: { values: points },
    mark: { type: 'line', strokeWidth: 1.6, invalid: 'break-paths-show-domains' },
    encoding: {
      x,
      y: { field: 'y', type: 'quantitative', title: spec.yLabel, scale: yScale },
      color: {
        field: 'series',
        type: 'nominal',
        title: null,
        sort: names,
        scale: { domain: names, range: spec.series.map((s, i) => s.color ?? PALETTE[i % PALETTE.length]) },
        legend: { orient: 'bottom', direction: 'horizontal', columns: 4 },
      },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        sort: names,
        scale: { domain: names, range: spec.series.map((s) => (s.dashed ? [6, 3] : [1, 0])) },
        legend: null,
      },
    },
  });
  if (markers.length) {
    const values = markers.map((m, i) => ({ x: m.x, label: m.label, color: m.color ?? '#555', y: (firstMarkerLane + (markerLanes[i]?.lane ?? 0)) * LANE_PX + 24 }));
    layers.push({
      data: { values },
      mark: { type: 'rule', strokeDash: [3, 3] },
      encoding: { x, color: { field: 'color', type: 'nominal', scale: null } },
    });
    layers.push({
      data: { values },
      mark: { type: 'text', align: 'left', dx: 3, fontSize: FONT_SIZE },
      encoding: { x, y: { field: 'y', type: 'quantitative', scale: null }, text: { field: 'label' }, color: { field: 'color', type: 'nominal', scale: null } },
    });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: spec.title, fontSize: 14 },
    width,
    height,
    background: 'white',
    config: { font: 'sans-serif', axis: { labelFontSize: FONT_SIZE, titleFontSize: FONT_SIZE, titleFontWeight: 'normal' }, legend: { labelFontSize: FONT_SIZE, labelLimit: 0 } },
    resolve: { scale: { color: 'independent' } },
    layer: layers,
  } as TopLevelSpec;
}

/** The chart as a standalone SVG document. */
export function lineChart(spec: ChartSpec): Promise<string> {
  return svgOf(chartSpec(spec));
}

/** Any Vega-Lite specification rendered to a standalone SVG document. */
export async function svgOf(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    return svg.endsWith('\n') ? svg : `${svg}\n`;
  } finally {
    view.finalize();
  }
}
