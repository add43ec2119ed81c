// Whether a cost row shows a loaded link, read without depending on the row's exact schema (it
// changes between versions): any utilization figure at or above the threshold, or any level
// "congested", anywhere in the row.

export function rowShows(row: unknown, threshold: number): boolean {
  return walk(row, '', threshold);
}

function walk(v: unknown, key: string, threshold: number): boolean {
  if (Array.isArray(v)) return v.some((x) => walk(x, key, threshold));
  if (v !== null && typeof v === 'object') return Object.entries(v).some(([k, x]) => walk(x, k, threshold));
  const k = key.toLowerCase();
  if (typeof v === 'number') return k.includes('utilization') && v >= threshold;
  if (typeof v === 'string') return k.includes('level') && v === 'congested';
  return false;
}
