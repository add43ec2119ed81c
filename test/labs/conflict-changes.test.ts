// The conflict lab's accounting, pure: which recorded publications count as lever changes, what a
// reversal is, changes per minute and time to settle.
import assert from 'node:assert/strict';
import type { Hint } from '../../bus/hints.ts';
import { pathChanges, perMinute, reversals, settleMs, weightChanges } from '../../labs/conflict/changes.ts';
import { goalsOf, type VariantSummary } from '../../labs/conflict/report.ts';
import type { LeverChange } from '../../labs/conflict/params.ts';
import type { Percentiles } from '../../labs/stats.ts';

const T = 1_700_000_000_000;
let seq = 0;
const weights = (ts: number, a: number, b: number): Hint => ({ v: 1, kind: 'weights', ts, seq: ++seq, ttlMs: 15_000, source: 'bridge', sidecarId: 'client', services: { web: { 'web-a': a, 'web-b': b } } });
const path = (ts: number, key: string, state: string): LeverChange => ({ ts, lever: 'path', key, state });

describe('labs/conflict: counting lever changes', () => {
  it('weights: the first publication and unchanged refreshes are not changes', () => {
    const hints = [weights(T, 500, 500), weights(T + 1000, 500, 500), weights(T + 2000, 990, 10), weights(T + 7000, 990, 10), weights(T + 9000, 500, 500)];
    const c = weightChanges(hints, 'client', 'web');
    assert.deepEqual(c.map((x) => x.ts), [T + 2000, T + 9000]);
  });

  it('paths: intents made and withdrawn plus the controller moving them, in time order', () => {
    const made = [path(T + 1000, 'h1>ra:8080', 'pinned'), path(T + 20_000, 'h1>ra:8080', 'ecmp')];
    const moved: Hint = { v: 1, kind: 'event', ts: T + 5000, seq: ++seq, ttlMs: 60_000, source: 'ctl', event: 'path_change', detail: { src: 'h1', dst: 'ra', to: ['l1', 'sp2', 'l2'] } };
    const other: Hint = { ...moved, seq: ++seq, detail: { src: 'hb', dst: 'hr', to: ['sp1', 'l2'] } };
    const c = pathChanges(made, [moved, other], 'h1');
    assert.deepEqual(c.map((x) => [x.ts - T, x.key, x.state]), [[1000, 'h1>ra:8080', 'pinned'], [5000, 'h1>ra:8080', 'l1>sp2>l2'], [20_000, 'h1>ra:8080', 'ecmp']]);
  });

  it('a reversal is A→B→A within the window, for weights and for paths', () => {
    const w = weightChanges([weights(T, 500, 500), weights(T + 1000, 900, 100), weights(T + 4000, 500, 500), weights(T + 20_000, 900, 100), weights(T + 21_000, 950, 50)], 'client', 'web');
    assert.deepEqual(reversals(w, 10_000).map((x) => x.ts - T), [4000], 'back within 3 s counts; a later move on the same way does not');
    assert.deepEqual(reversals(w, 2000), []);
    const p = [path(T, 'k', 'pinned'), path(T + 4000, 'k', 'ecmp'), path(T + 30_000, 'k', 'pinned')];
    assert.deepEqual(reversals(p, 10_000).map((x) => x.ts - T), [4000]);
    assert.deepEqual(reversals([path(T, 'k', 'pinned'), path(T + 12_000, 'k', 'ecmp')], 10_000), []);
  });

  it('per minute and settle', () => {
    assert.equal(perMinute(6, 30_000), 12);
    const c = [path(T + 1000, 'k', 'pinned'), path(T + 4000, 'k', 'l1>sp2>l2'), path(T + 12_000, 'k', 'ecmp')];
    assert.equal(settleMs(c, T, T + 10_000), 4000);
    assert.equal(settleMs(c, T + 20_000, T + 30_000), 0);
  });

  it('checks the goals against the better single lever and the uncoordinated churn', () => {
    const p = (p99Ms: number): Percentiles => ({ count: 100, errors: 0, errorRate: 0, p50Ms: 5, p99Ms, p999Ms: p99Ms * 2, maxMs: p99Ms * 3 });
    const s = (variant: VariantSummary['variant'], spine: number, access: number, perMin: number, rev: number): VariantSummary => ({
      variant,
      phases: { before: p(10), spine: p(spine), gap: p(10), access: p(access), after: p(10) },
      bulk: [],
      weightChanges: 0,
      pathChanges: 0,
      weightsPerMin: perMin,
      pathsPerMin: 0,
      changesPerMin: perMin,
      reversals: rev,
      settleMs: { before: 0, spine: 0, gap: 0, access: 0, after: 0 },
    });
    const goals = goalsOf([s('weights', 300, 40, 4, 0), s('paths', 40, 900, 2, 0), s('uncoordinated', 60, 50, 12, 3), s('arbitrated', 40, 45, 4, 0)]);
    assert.deepEqual(goals.map((g) => g.met), [true, false, true, true]);
  });
});
