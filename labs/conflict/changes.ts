// What the levers did during a run, read back from the recorded bus and the bridge's intents:
// every weights publication that changed the split, every path change of the client's traffic,
// the reversals among them (A→B→A within a window), and when each phase settled.
import type { Hint } from '../../bus/hints.ts';
import type { LeverChange } from './params.ts';

/** Weights publications for one sidecar's service that changed the split (refreshes dropped). */
export function weightChanges(hints: readonly Hint[], sidecarId: string, service: string): LeverChange[] {
  const out: LeverChange[] = [];
  let last: string | undefined;
  for (const h of [...hints].sort((a, b) => a.ts - b.ts)) {
    if (h.kind !== 'weights' || h.sidecarId !== sidecarId) continue;
    const w = h.services[service];
    if (w === undefined) continue;
    const state = JSON.stringify(Object.fromEntries(Object.keys(w).sort().map((k) => [k, w[k]])));
    // The first publication is where the split starts, not a change.
    if (last !== undefined && state !== last) out.push({ ts: h.ts, lever: 'weights', key: service, state, from: last });
    last = state;
  }
  return out;
}

/** The client's path changes: its intents made and withdrawn, and the controller's moves of them. */
export function pathChanges(intents: readonly LeverChange[], hints: readonly Hint[], srcHost: string): LeverChange[] {
  const moves: LeverChange[] = [];
  for (const h of hints) {
    if (h.kind !== 'event' || h.event !== 'path_change' || h.detail?.['src'] !== srcHost) continue;
    const dst = h.detail['dst'];
    const to = h.detail['to'];
    const keyOf = intents.find((c) => c.key.startsWith(`${srcHost}>${String(dst)}:`))?.key ?? `${srcHost}>${String(dst)}`;
    moves.push({ ts: h.ts, lever: 'path', key: keyOf, state: Array.isArray(to) ? to.join('>') : 'none' });
  }
  return [...intents, ...moves].sort((a, b) => a.ts - b.ts);
}

/**
 * A→B→A within the window: a change that undoes the one before it on the same thing within
 * `windowMs`. Weights: some replica's weight moves one way, then back (the direction of its two
 * consecutive moves differs). Paths: an intent's state returns to the one it had before the last change.
 */
export function reversals(changes: readonly LeverChange[], windowMs: number): LeverChange[] {
  const out: LeverChange[] = [];
  const byKey = new Map<string, LeverChange[]>();
  for (const c of changes) byKey.set(`${c.lever}:${c.key}`, [...(byKey.get(`${c.lever}:${c.key}`) ?? []), c]);
  for (const list of byKey.values()) {
    const weights = list[0]?.lever === 'weights';
    // The state before the first change: the split it replaced; for paths, hashed (ecmp).
    const states = [(weights ? list[0]?.from : undefined) ?? 'ecmp', ...list.map((c) => c.state)];
    const at = [Number.NEGATIVE_INFINITY, ...list.map((c) => c.ts)];
    for (let i = 2; i < states.length; i++) {
      if ((at[i] as number) - (at[i - 1] as number) >= windowMs) continue;
      const [a, b, c] = [states[i - 2] as string, states[i - 1] as string, states[i] as string];
      const back = weights ? a !== 'ecmp' && weightsReverse(a, b, c) : a === c && a !== b;
      if (back) out.push(list[i - 1] as LeverChange);
    }
  }
  return out.sort((x, y) => x.ts - y.ts);
}

function weightsReverse(a: string, b: string, c: string): boolean {
  const [x, y, z] = [a, b, c].map((s) => JSON.parse(s) as Record<string, number>) as [Record<string, number>, Record<string, number>, Record<string, number>];
  return Object.keys(z).some((id) => Math.sign((y[id] ?? 0) - (x[id] ?? 0)) * Math.sign((z[id] ?? 0) - (y[id] ?? 0)) < 0);
}

/** Changes per minute over `durationMs`. */
export function perMinute(n: number, durationMs: number): number {
  return durationMs > 0 ? (n * 60_000) / durationMs : 0;
}

/** From a window's start to its last change (0: none in the window). */
export function settleMs(changes: readonly LeverChange[], from: number, to: number): number {
  const inside = changes.filter((c) => c.ts >= from && c.ts < to);
  const last = inside.at(-1);
  return last === undefined ? 0 : last.ts - from;
}
