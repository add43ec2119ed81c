// Small hand-written SVG line charts for the reports: one or more series over time, with
// vertical markers for events and shaded spans for phases (e.g. congestion). No dependencies,
// deterministic output, readable in any browser or Markdown viewer.

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

export function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

/** 1, 2, 5 × 10^k at or above v. */
export function niceCeil(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v * 0.999999) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`.replace('.0k', 'k');
  if (Math.abs(v) < 1) return String(Math.round(v * 1000) / 1000);
  return String(Math.round(v * 10) / 10);
}

export function lineChart(spec: ChartSpec): string {
  const W = spec.width ?? 760;
  const H = spec.height ?? 300;
  const m = { l: 64, r: 16, t: 34, b: 64 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const xs = spec.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = spec.series.flatMap((s) => s.points.map((p) => p[1]).filter((y): y is number => y !== null && Number.isFinite(y)));
  const x0 = xs.length ? Math.min(...xs) : 0;
  const x1 = xs.length ? Math.max(...xs, x0 + 1) : 1;
  const yTop = spec.yMax ?? niceCeil(ys.length ? Math.max(...ys) : 1);
  const yBottom = spec.yLog ? Math.max(0.1, 10 ** Math.floor(Math.log10(Math.max(0.1, Math.min(...ys.filter((y) => y > 0), yTop))))) : 0;
  const sx = (x: number): number => m.l + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number): number => {
    if (spec.yLog) {
      const v = Math.max(yBottom, y);
      return m.t + ph - ((Math.log10(v) - Math.log10(yBottom)) / (Math.log10(yTop) - Math.log10(yBottom) || 1)) * ph;
    }
    return m.t + ph - ((Math.min(y, yTop) - yBottom) / (yTop - yBottom || 1)) * ph;
  };
  const r = (v: number): string => (Math.round(v * 10) / 10).toString();
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="11">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="18" text-anchor="middle" font-size="14" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (const s of spec.spans ?? []) {
    const a = sx(Math.max(x0, s.from));
    const b = sx(Math.min(x1, s.to));
    out.push(`<rect x="${r(a)}" y="${m.t}" width="${r(Math.max(0, b - a))}" height="${ph}" fill="#f4c430" fill-opacity="0.18"/>`);
    out.push(`<text x="${r(a + 3)}" y="${m.t + 12}" fill="#8a6d00">${escapeXml(s.label)}</text>`);
  }
  // Axes and grid.
  const yTicks = spec.yLog ? logTicks(yBottom, yTop) : [0, 0.25, 0.5, 0.75, 1].map((f) => yBottom + f * (yTop - yBottom));
  for (const t of yTicks) {
    const y = sy(t);
    out.push(`<line x1="${m.l}" y1="${r(y)}" x2="${m.l + pw}" y2="${r(y)}" stroke="#ddd"/>`);
    out.push(`<text x="${m.l - 6}" y="${r(y + 4)}" text-anchor="end">${fmt(t)}</text>`);
  }
  const xStep = niceCeil((x1 - x0) / 8);
  for (let t = Math.ceil(x0 / xStep) * xStep; t <= x1 + 1e-9; t += xStep) {
    out.push(`<line x1="${r(sx(t))}" y1="${m.t + ph}" x2="${r(sx(t))}" y2="${m.t + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${r(sx(t))}" y="${m.t + ph + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${m.l}" y="${m.t}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${m.l + pw / 2}" y="${m.t + ph + 32}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`);
  out.push(`<text transform="translate(14 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`);
  (spec.markers ?? []).forEach((mk, i) => {
    if (mk.x < x0 || mk.x > x1) return;
    const x = sx(mk.x);
    const color = mk.color ?? '#555';
    out.push(`<line x1="${r(x)}" y1="${m.t}" x2="${r(x)}" y2="${m.t + ph}" stroke="${color}" stroke-dasharray="3,3"/>`);
    out.push(`<text x="${r(x + 3)}" y="${m.t + 24 + (i % 4) * 11}" fill="${color}">${escapeXml(mk.label)}</text>`);
  });
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    const d: string[] = [];
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        pen = false;
        continue;
      }
      d.push(`${pen ? 'L' : 'M'}${r(sx(x))},${r(sy(y))}`);
      pen = true;
    }
    if (d.length) out.push(`<path d="${d.join(' ')}" fill="none" stroke="${color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="6,3"' : ''}/>`);
  });
  // Legend under the plot.
  let lx = m.l;
  const ly = H - 12;
  spec.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length];
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 18}" y2="${ly - 4}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6,3"' : ''}/>`);
    out.push(`<text x="${lx + 22}" y="${ly}">${escapeXml(s.name)}</text>`);
    lx += 30 + s.name.length * 6.2;
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

function logTicks(lo: number, hi: number): number[] {
  const t: number[] = [];
  for (let v = lo; v <= hi * 1.0001; v *= 10) t.push(v);
  return t;
}
