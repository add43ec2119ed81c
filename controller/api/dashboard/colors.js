// One palette for the graph, the legend, the table and the timeline, so a level looks the same everywhere.
export const LEVEL_COLORS = Object.freeze({
  ok: '#1f9d55',
  warning: '#f59e0b',
  congested: '#dc2626',
  down: '#9ca3af',
});

export const LEVELS = Object.freeze(['ok', 'warning', 'congested', 'down']);

/** The colour of a level; anything unknown is drawn as ok-but-unmeasured grey-green. */
export function levelColor(level) {
  return LEVEL_COLORS[level] ?? '#6b7280';
}

/** Distinct, readable series colours for charts (weights, p99). */
const SERIES = ['#2563eb', '#db2777', '#059669', '#d97706', '#7c3aed', '#0891b2', '#65a30d', '#e11d48', '#4b5563'];
export function seriesColor(i) {
  return SERIES[i % SERIES.length];
}

/**
 * uPlot x-scale range for time series: a few seconds of data (or one point) still gets a readable
 * one-minute window instead of an axis spanning years (uPlot widens a single point to 86400 units).
 * Reads the data itself, since the min/max uPlot passes are already widened.
 */
export function timeRange(u, min, max) {
  const xs = u.data?.[0] ?? [];
  const lo = xs.length > 0 ? xs[0] : min;
  const hi = xs.length > 0 ? xs[xs.length - 1] : max;
  if (lo == null || hi == null) return [0, 60];
  return hi - lo < 60 ? [hi - 60, hi + 1] : [lo, hi];
}
