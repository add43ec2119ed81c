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
