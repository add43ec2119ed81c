// Classifies a link direction's smoothed utilization into a level, with hysteresis: a level is entered
// above its onset threshold and left below its (lower) clear threshold, each only after several
// consecutive samples agree, so one noisy sample neither raises nor clears congestion.

export type Level = 'ok' | 'warning' | 'congested' | 'down';

export interface LevelSettings {
  /** EWMA weight of the newest sample, 0 < alpha <= 1 */
  readonly alpha: number;
  readonly warningOnset: number;
  readonly warningClear: number;
  readonly congestedOnset: number;
  readonly congestedClear: number;
  /** consecutive samples needed to raise a level */
  readonly onsetSamples: number;
  /** consecutive samples needed to lower a level */
  readonly clearSamples: number;
}

export const defaultLevelSettings: LevelSettings = {
  // Weighted to the newest sample, so a step from idle to full crosses the onset on the second sample
  // and is confirmed on the third: congestion shows within three polling intervals.
  alpha: 0.7,
  warningOnset: 0.6,
  warningClear: 0.45,
  congestedOnset: 0.85,
  congestedClear: 0.7,
  onsetSamples: 2,
  clearSamples: 3,
};

/**
 * The same machinery on queueing delay (ms above the link's baseline, from the delay probes): the
 * thresholds are milliseconds. A queue of 5 ms is a link starting to fill; 20 ms is a standing
 * queue. The defaults match utilization's timing: congestion within three probe intervals.
 */
export const defaultDelayLevelSettings: LevelSettings = {
  alpha: 0.7,
  warningOnset: 5,
  warningClear: 3,
  congestedOnset: 20,
  congestedClear: 12,
  onsetSamples: 2,
  clearSamples: 3,
};

/** A measured level; 'down' comes from discovery, not from load, and a link that comes back starts afresh. */
export type LoadLevel = Exclude<Level, 'down'>;

export interface LevelState {
  readonly level: LoadLevel;
  readonly smoothed: number;
  readonly candidate: LoadLevel;
  readonly streak: number;
}

export const initialLevelState: LevelState = { level: 'ok', smoothed: 0, candidate: 'ok', streak: 0 };

const rank: Record<LoadLevel, number> = { ok: 0, warning: 1, congested: 2 };

function levelAbove(u: number, s: LevelSettings): LoadLevel {
  return u >= s.congestedOnset ? 'congested' : u >= s.warningOnset ? 'warning' : 'ok';
}

function levelBelow(u: number, s: LevelSettings): LoadLevel {
  return u < s.warningClear ? 'ok' : u < s.congestedClear ? 'warning' : 'congested';
}

/** One step: the previous state and a new utilization sample (rate / capacity) give the next state. */
export function nextLevel(prev: LevelState, utilization: number, s: LevelSettings = defaultLevelSettings): LevelState {
  const smoothed = s.alpha * utilization + (1 - s.alpha) * prev.smoothed;
  const current = prev.level;
  const up = levelAbove(smoothed, s);
  const down = levelBelow(smoothed, s);
  const target = rank[up] > rank[current] ? up : rank[down] < rank[current] ? down : current;
  if (target === current) return { level: current, smoothed, candidate: current, streak: 0 };
  const streak = prev.candidate === target ? prev.streak + 1 : 1;
  const needed = rank[target] > rank[current] ? s.onsetSamples : s.clearSamples;
  return streak >= needed
    ? { level: target, smoothed, candidate: target, streak: 0 }
    : { level: current, smoothed, candidate: target, streak };
}

export function validateLevelSettings(s: LevelSettings, what = 'congestion settings'): void {
  const bad = (why: string): never => {
    throw new Error(`${what}: ${why}`);
  };
  if (![s.warningOnset, s.warningClear, s.congestedOnset, s.congestedClear].every((t) => Number.isFinite(t) && t >= 0)) bad('thresholds must be numbers, 0 or more');
  if (!(s.alpha > 0 && s.alpha <= 1)) bad(`alpha must be in (0, 1], got ${s.alpha}`);
  if (!(s.warningClear < s.warningOnset)) bad('warningClear must be below warningOnset');
  if (!(s.congestedClear < s.congestedOnset)) bad('congestedClear must be below congestedOnset');
  if (!(s.warningOnset < s.congestedOnset)) bad('warningOnset must be below congestedOnset');
  if (!(s.onsetSamples >= 1 && s.clearSamples >= 1)) bad('sample counts must be at least 1');
}

/** The worse of two measured levels: a link's level is the worse of its utilization's and its queueing delay's. */
export function worseLevel(a: LoadLevel, b: LoadLevel): LoadLevel {
  return rank[a] >= rank[b] ? a : b;
}
