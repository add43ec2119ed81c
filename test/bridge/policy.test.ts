// The weight policy, pure: no sockets, no clock. Time is the `now` argument.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { readFileLog } from '../../bus/eventlog/file.ts';
import { costColumns, type CostEntry, type CostRowHint, type Hint } from '../../bridge/hints.ts';
import {
  computeWeights,
  defaultPolicyParams,
  floorShares,
  initialPolicyState,
  intentsFor,
  toWeights,
  withHint,
  type PolicyParams,
  type PolicyState,
} from '../../bridge/policy.ts';
import { loadRegistry, parseRegistry, type Registry } from '../../bridge/registry.ts';
import { ecmpPaths, onePath } from './support/episode.ts';

const P1 = '0000000000000001';
const P2 = '0000000000000002';
const P3 = '0000000000000003';
const T = 1_700_000_000_000;

const registry: Registry = parseRegistry({
  services: [{ name: 'orders', port: 8080 }],
  replicas: [
    { id: 'a', service: 'orders', host: 'h2', port: 8080 },
    { id: 'b', service: 'orders', host: 'h3', port: 8080 },
  ],
  sidecars: [{ id: 'web', host: 'h1', calls: ['orders'] }],
  attachments: { h1: P1, h2: P2, h3: P3 },
});

type Entry = CostEntry;
const entry = onePath;
/** Two equal-cost paths to dstPid: the best at utilization best, the most loaded at worst. */
const ecmp = (dstPid: string, best: number, worst: number): Entry => ecmpPaths(dstPid, best, worst);
let seq = 0;
function row(ts: number, costs: Entry[], srcPid = P1, ttlMs = 30_000): CostRowHint {
  return { v: 2, kind: 'cost_row', ts, seq: ++seq, ttlMs, source: 'test', srcPid, costs: costColumns(costs) };
}
function step(state: PolicyState, hint: Hint, now = hint.ts, params: PolicyParams = defaultPolicyParams) {
  return computeWeights(registry, withHint(state, hint), now, params);
}
const web = (r: ReturnType<typeof computeWeights>) => r.weights['web']?.['orders'];

describe('bridge policy: computeWeights', () => {
  it('gives even weights when both paths have room', () => {
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.3)]))), { a: 500, b: 500 });
  });

  it('takes weight from a congested path in proportion to its lost room', () => {
    // room(0.9) = (1-0.9)/(1-0.5) = 0.2 → shares 1/1.2 and 0.2/1.2
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.9)]))), { a: 833, b: 167 });
    // room(0.75) = 0.5 → 2/3 and 1/3
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.75)]))), { a: 667, b: 333 });
    // both congested alike: no reason to prefer either
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.9), entry(P3, 0.9)]))), { a: 500, b: 500 });
  });

  it('keeps a floor on a reachable replica with no room left', () => {
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 1.2)]))), { a: 950, b: 50 });
    assert.deepEqual(
      web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 1)]), T, { ...defaultPolicyParams, floor: 0.1 })),
      { a: 900, b: 100 },
    );
  });

  it('gives an unreachable replica nothing: level down, or no path in the row', () => {
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0, 'down')]))), { a: 1000, b: 0 });
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.95)]))), { a: 1000, b: 0 });
  });

  it('fails open to even weights when nothing at all is reachable', () => {
    assert.deepEqual(web(step(initialPolicyState, row(T, []))), { a: 500, b: 500 });
  });

  it('learns of a link down from the republished row, not from the event', () => {
    const link = `${P1}:2-${P3}:1`;
    let s = step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.1)]));
    assert.deepEqual(web(s), { a: 500, b: 500 });
    // The event alone: rows carry no paths, so the bridge cannot tell which destinations it cuts.
    const down: Hint = { v: 1, kind: 'event', ts: T + 100, seq: 1, ttlMs: 60_000, source: 't', event: 'link_down', linkId: link };
    assert.equal(withHint(s.state, down), s.state);
    // The controller republishes the rows a link down changes at once.
    s = step(s.state, row(T + 105, [entry(P2, 0.1), entry(P3, 0, 'down')]));
    assert.deepEqual(web(s), { a: 1000, b: 0 });
    s = step(s.state, row(T + 5000, [entry(P2, 0.1), entry(P3, 0.1)]));
    assert.notEqual(web(s)?.['b'], 0);
  });

  it('judges a replica by its best path: another equal-cost path with room keeps it in play', () => {
    // The loaded path is one of two; the least-congested intent can move the flows to the other.
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), ecmp(P3, 0.1, 0.95)]))), { a: 500, b: 500 });
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), ecmp(P3, 0.9, 0.95)]))), { a: 833, b: 167 });
  });

  it('falls back to even weights once the cost row is past its ttl', () => {
    const s = step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.9)], P1, 1000));
    assert.deepEqual(web(s), { a: 833, b: 167 });
    const later = computeWeights(registry, s.state, T + 1000, defaultPolicyParams);
    assert.deepEqual(web(later), { a: 833, b: 167 }, 'still fresh exactly at ts + ttl');
    const stale = computeWeights(registry, later.state, T + 1001, defaultPolicyParams);
    assert.deepEqual(web(stale), { a: 500, b: 500 });
    assert.deepEqual(stale.changed, ['web']);
  });

  it('gives even weights to a sidecar whose attachment point has sent no row', () => {
    assert.deepEqual(web(step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.9)], P2))), { a: 500, b: 500 });
  });

  it('ignores a cost row older than the one it holds', () => {
    const s = step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.9)]));
    assert.equal(withHint(s.state, row(T - 1, [entry(P2, 0.1), entry(P3, 0.1)])), s.state);
  });

  it('smooths a step change over time rather than jumping', () => {
    let s = step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.1)]));
    const seen: number[] = [];
    for (let i = 1; i <= 20; i++) {
      s = step(s.state, row(T + i * 1000, [entry(P2, 0.1), entry(P3, 0.9)]), T + i * 1000, { ...defaultPolicyParams, deadband: 0 });
      seen.push(web(s)?.['b'] ?? -1);
    }
    // Monotone descent from 500 towards 167: never overshoots, first step is partial.
    assert.ok((seen[0] ?? 0) < 500 && (seen[0] ?? 0) > 300, `first step ${seen[0]}`);
    for (let i = 1; i < seen.length; i++) assert.ok((seen[i] ?? 0) <= (seen[i - 1] ?? 0), seen.join(','));
    assert.ok(Math.abs((seen.at(-1) ?? 0) - 167) <= 2, seen.join(','));
  });

  it('moves the average per cost row, not per call: extra runs in between change nothing', () => {
    const congested = (ts: number) => row(ts, [entry(P2, 0.1), entry(P3, 0.9)]);
    const p = { ...defaultPolicyParams, deadband: 0 };
    let a = step(initialPolicyState, row(T, [entry(P2, 0.1), entry(P3, 0.1)]), T, p);
    let b = a;
    for (let i = 1; i <= 5; i++) {
      a = step(a.state, congested(T + i * 1000), T + i * 1000, p);
      b = step(b.state, congested(T + i * 1000), T + i * 1000, p);
      // b is also recomputed by ticks between rows
      for (let k = 1; k < 4; k++) b = computeWeights(registry, b.state, T + i * 1000 + k * 250, p);
    }
    assert.deepEqual(web(b), web(a));
  });

  it('does not flap while utilization hovers around the congestion threshold', () => {
    // A seeded walk: utilization of path s1→s3 within 0.77..0.83, its level flipping
    // between warning and congested at 0.8 on almost every row.
    let x = 42;
    const rand = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = Array.from({ length: 300 }, (_, i) => {
      const u = 0.8 + (rand() - 0.5) * 0.06;
      return row(T + i * 1000, [entry(P2, 0.1), entry(P3, u, u >= 0.8 ? 'congested' : 'warning')]);
    });
    const count = (params: PolicyParams) => {
      let state = initialPolicyState;
      let changes = 0;
      let levelFlips = 0;
      let prevLevel = '';
      for (const r of rows) {
        const res = step(state, r, r.ts, params);
        state = res.state;
        if (res.changed.length > 0) changes++;
        const level = r.costs.level[1] ?? '';
        if (level !== prevLevel) levelFlips++;
        prevLevel = level;
      }
      return { changes, levelFlips };
    };
    const damped = count(defaultPolicyParams);
    const raw = count({ ...defaultPolicyParams, smoothingMs: 0, deadband: 0 });
    assert.ok(damped.levelFlips > 100, 'the input really does hover');
    assert.ok(raw.changes > 100, `without smoothing and deadband the weights flap (${raw.changes} changes)`);
    // The first publication, and at most one settling move after it.
    assert.ok(damped.changes <= 2, `damped: ${damped.changes} weight changes over ${rows.length} rows`);
  });

  it('always hands out integers summing to 1000, floor for the living, zero for the dead', () => {
    const level = fc.constantFrom<Entry['level']>('ok', 'warning', 'congested', 'down');
    fc.assert(
      fc.property(fc.double({ min: 0, max: 1.5, noNaN: true }), fc.double({ min: 0, max: 1.5, noNaN: true }), level, level, (ua, ub, la, lb) => {
        const w = web(step(initialPolicyState, row(T, [entry(P2, ua, la), entry(P3, ub, lb)]))) ?? {};
        const values = Object.values(w);
        assert.equal(values.reduce((a, b) => a + b, 0), 1000);
        assert.ok(values.every((v) => Number.isInteger(v) && v >= 0));
        if (la !== 'down' && lb !== 'down') assert.ok(values.every((v) => v >= 49), JSON.stringify(w));
        if (la === 'down' && lb !== 'down') assert.equal(w['a'], 0);
      }),
    );
  });
});

describe('bridge policy: helpers', () => {
  it('floorShares water-fills: pinned members get the floor, the rest share by room', () => {
    const s = floorShares(new Map([['x', 1], ['y', 0.01], ['z', 0]]), 0.05);
    assert.equal(s.get('y'), 0.05);
    assert.equal(s.get('z'), 0.05);
    assert.ok(Math.abs((s.get('x') ?? 0) - 0.9) < 1e-12);
  });
  it('toWeights rounds by largest remainder and never to zero for a live share', () => {
    assert.deepEqual(toWeights({ a: 1 / 3, b: 1 / 3, c: 1 / 3 }), { a: 334, b: 333, c: 333 });
    assert.deepEqual(toWeights({ a: 0.9999, b: 0.0001 }), { a: 999, b: 1 });
  });
});

describe('bridge policy: intentsFor', () => {
  const latency: Registry = { ...registry, services: [{ name: 'orders', port: 8080, latencySensitive: true }] };
  const costsOf = (r: CostRowHint) => ({ [r.srcPid]: r });

  it('asks for a least-congested path when a path is congested, priority high for latency-sensitive services', () => {
    const d = intentsFor(latency, costsOf(row(T, [entry(P2, 0.1), entry(P3, 0.85)])), new Set(), T);
    assert.deepEqual(d.create, [
      { key: 'h1>h3:8080', src: 'h1', dst: 'h3', policy: 'least-congested', ipProto: 6, dstPort: 8080, priority: 'high' },
    ]);
    assert.deepEqual(d.remove, []);
    const plain = intentsFor(registry, costsOf(row(T, [entry(P2, 0.1), entry(P3, 0.85)])), new Set(), T);
    assert.equal(plain.create[0]?.priority, undefined);
  });

  it('holds the intent while utilization stays above the clear threshold, withdraws it below', () => {
    const active = new Set(['h1>h3:8080']);
    assert.deepEqual(intentsFor(registry, costsOf(row(T, [entry(P2, 0.1), entry(P3, 0.7)])), active, T).remove, []);
    assert.deepEqual(intentsFor(registry, costsOf(row(T, [entry(P2, 0.1), entry(P3, 0.5)])), active, T).remove, ['h1>h3:8080']);
    // Not started at 0.7: that is inside the hysteresis band.
    assert.deepEqual(intentsFor(registry, costsOf(row(T, [entry(P2, 0.1), entry(P3, 0.7)])), new Set(), T).create, []);
  });

  it('watches every equal-cost path to a replica: one congested with another free asks for an intent', () => {
    // Two paths from P1 to P3: an idle one, and one an iperf3 flow fills.
    const twoPaths = row(T, [entry(P2, 0.1), ecmp(P3, 0.2, 0.95)]);
    assert.deepEqual(intentsFor(registry, costsOf(twoPaths), new Set(), T).create.map((s) => s.key), ['h1>h3:8080']);
    // Both paths full: no path has room, so there is nothing to ask for.
    const bothFull = row(T, [entry(P2, 0.1), ecmp(P3, 0.9, 0.95)]);
    assert.deepEqual(intentsFor(registry, costsOf(bothFull), new Set(), T).create, []);
    // Held while the loaded path stays above the clear threshold, even though the best is idle.
    const easing = row(T, [entry(P2, 0.1), ecmp(P3, 0.2, 0.7)]);
    assert.deepEqual(intentsFor(registry, costsOf(easing), new Set(['h1>h3:8080']), T).remove, []);
    const cleared = row(T, [entry(P2, 0.1), ecmp(P3, 0.2, 0.3)]);
    assert.deepEqual(intentsFor(registry, costsOf(cleared), new Set(['h1>h3:8080']), T).remove, ['h1>h3:8080']);
    // A destination the row marks down has no path to ask for.
    const cut = row(T, [entry(P2, 0.1), entry(P3, 0, 'down')]);
    assert.deepEqual(intentsFor(registry, costsOf(cut), new Set(), T).create, []);
  });

  it('starts nothing when the network knows no alternative, and nothing on stale data', () => {
    const r = row(T, [entry(P2, 0.1), entry(P3, 0.9)]);
    assert.deepEqual(intentsFor(registry, costsOf(r), new Set(), T, defaultPolicyParams, () => false).create, []);
    assert.deepEqual(intentsFor(registry, costsOf(r), new Set(), T + 60_000).create, []);
    assert.deepEqual(intentsFor(registry, costsOf(r), new Set(['h1>h3:8080']), T + 60_000).remove, []);
  });
});

describe('bridge policy: recorded episode replay', () => {
  const dir = new URL('../fixtures/bridge/', import.meta.url);

  it('replays congestion-episode.jsonl into the expected weights and intents per sidecar', async () => {
    const reg = await loadRegistry(new URL('registry.yaml', dir).pathname);
    const hints = await readFileLog(new URL('congestion-episode.jsonl', dir).pathname);
    const expected = JSON.parse(await readFile(new URL('congestion-episode.expected.json', dir), 'utf8')) as {
      params: Partial<PolicyParams>;
      checkpoints: { at: number; weights: Record<string, unknown>; intents: string[] }[];
    };
    assert.equal(hints.length, 11, 'every recorded line parses as a hint');
    const params = { ...defaultPolicyParams, ...expected.params };
    let state = initialPolicyState;
    let active = new Set<string>();
    let last: ReturnType<typeof computeWeights> | undefined;
    const run = (now: number) => {
      last = computeWeights(reg, state, now, params);
      state = last.state;
      const d = intentsFor(reg, state.costs, active, now, params);
      active = new Set(d.desired.map((i) => i.key));
    };
    let i = 0;
    for (const cp of expected.checkpoints) {
      for (; i < hints.length && (hints[i]?.ts ?? Infinity) <= cp.at; i++) {
        state = withHint(state, hints[i] as Hint);
        run(hints[i]?.ts ?? 0);
      }
      run(cp.at);
      assert.deepEqual(last?.weights, cp.weights, `weights at T+${cp.at - 1_700_000_000_000} ms`);
      assert.deepEqual([...active].sort(), cp.intents, `intents at T+${cp.at - 1_700_000_000_000} ms`);
    }
  });
});
