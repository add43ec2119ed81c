// The arbiter, pure: one decision per sidecar and service between the path lever (intents) and the
// weights lever, with hold-downs. Time comes from a virtual clock; cost rows are made by hand.
import assert from 'node:assert/strict';
import { VirtualClock } from '../../bus/clock.ts';
import { validateHint } from '../../bus/parse.ts';
import { arbitrate, decisionEvent, defaultArbiterParams, initialArbiterState, shapeOf, type ArbiterDecision, type ArbiterParams, type ArbiterState } from '../../bridge/arbiter.ts';
import { costColumns, type CostEntry, type CostRowHint } from '../../bridge/hints.ts';
import { defaultPolicyParams, initialPolicyState, withHint, type PolicyParams, type PolicyState } from '../../bridge/policy.ts';
import { parseRegistry, type Registry } from '../../bridge/registry.ts';
import { ecmpPaths } from './support/episode.ts';

const P1 = '0000000000000001';
const P2 = '0000000000000002';
const P3 = '0000000000000003';
const T0 = 1_700_000_000_000;
const A = 'h1>h2:8080';
const B = 'h1>h3:8080';

const registry: Registry = parseRegistry({
  services: [{ name: 'orders', port: 8080 }],
  replicas: [
    { id: 'a', service: 'orders', host: 'h2', port: 8080 },
    { id: 'b', service: 'orders', host: 'h3', port: 8080 },
  ],
  sidecars: [{ id: 'web', host: 'h1', calls: ['orders'] }],
  attachments: { h1: P1, h2: P2, h3: P3 },
});

/** Two equal-cost paths (two spines, 10 Mbit/s links, 3 hops) to dstPid: the best at `best`, the most loaded at `worst`. */
const ecmp = (dstPid: string, best: number, worst = best): CostEntry => ecmpPaths(dstPid, best, worst, 3, 1e7);
let seq = 0;
const row = (ts: number, costs: CostEntry[]): CostRowHint => ({ v: 2, kind: 'cost_row', ts, seq: ++seq, ttlMs: 30_000, source: 'test', srcPid: P1, costs: costColumns(costs) });

// A lab-like policy: follow within one row, no deadband to speak of.
const pp: PolicyParams = { ...defaultPolicyParams, floor: 0.01, congestedRoomCap: 0.01, smoothingMs: 0, deadband: 5 };
const quiet = () => [ecmp(P2, 0.1), ecmp(P3, 0.1)];
const spineToA = () => [ecmp(P2, 0.1, 0.97), ecmp(P3, 0.1)];
const accessOfB = () => [ecmp(P2, 0.1), ecmp(P3, 0.97)];

/** Drives the arbiter as the bridge does: rows in, one step per call, intents applied at once. */
class Harness {
  readonly clock = new VirtualClock(T0);
  policy: PolicyState = initialPolicyState;
  state: ArbiterState = initialArbiterState;
  readonly active = new Set<string>();
  readonly decisions: (ArbiterDecision & { at: number })[] = [];
  /** Every change of either lever, in order. */
  readonly changes: { at: number; lever: 'path' | 'weights'; what: string }[] = [];
  weights: Record<string, number> = {};

  constructor(
    private readonly ap: ArbiterParams = defaultArbiterParams,
    private readonly paths = true,
  ) {}

  step(costs?: CostEntry[]): void {
    const now = this.clock.now();
    if (costs) this.policy = withHint(this.policy, row(now, costs));
    const s = arbitrate(registry, this.policy, this.state, this.active, now, pp, this.ap, { paths: this.paths });
    this.policy = s.weights.state;
    this.state = s.state;
    for (const c of s.intents.create) {
      this.active.add(c.key);
      this.changes.push({ at: now, lever: 'path', what: `+${c.key}` });
    }
    for (const k of s.intents.remove) {
      this.active.delete(k);
      this.changes.push({ at: now, lever: 'path', what: `-${k}` });
    }
    const w = s.weights.weights['web']?.['orders'] ?? {};
    if (Object.keys(this.weights).length > 0 && JSON.stringify(w) !== JSON.stringify(this.weights)) this.changes.push({ at: now, lever: 'weights', what: JSON.stringify(w) });
    this.weights = { ...w };
    for (const d of s.decisions) this.decisions.push({ ...d, at: now });
  }

  /** Steps every `everyMs` for `forMs`, with the rows `costsAt(t)` gives (ms since the start). */
  run(forMs: number, everyMs: number, costsAt: (t: number) => CostEntry[]): void {
    for (let t = 0; t < forMs; t += everyMs) {
      this.step(costsAt(this.clock.now() - T0));
      this.clock.advance(everyMs);
    }
  }
}

/** A→B→A within (less than) `windowMs`: a replica's weight moving one way then back, or an intent made and undone (or the reverse). */
function reversals(changes: Harness['changes'], windowMs: number): number {
  let n = 0;
  const weights = changes.filter((c) => c.lever === 'weights').map((c) => ({ at: c.at, w: JSON.parse(c.what) as Record<string, number> }));
  for (let i = 2; i < weights.length; i++) {
    const [x, y, z] = [weights[i - 2], weights[i - 1], weights[i]] as [typeof weights[0], typeof weights[0], typeof weights[0]];
    if (z.at - y.at >= windowMs) continue;
    const back = Object.keys(z.w).some((id) => Math.sign((y.w[id] ?? 0) - (x.w[id] ?? 0)) * Math.sign((z.w[id] ?? 0) - (y.w[id] ?? 0)) < 0);
    if (back) n++;
  }
  const paths = changes.filter((c) => c.lever === 'path');
  for (let i = 1; i < paths.length; i++) {
    const [p, q] = [paths[i - 1], paths[i]] as [typeof paths[0], typeof paths[0]];
    if (p.what.slice(1) === q.what.slice(1) && p.what[0] !== q.what[0] && q.at - p.at < windowMs) n++;
  }
  return n;
}

describe('bridge arbiter: which lever', () => {
  it('reads the shape of congestion from a cost row entry', () => {
    const r = row(T0, [ecmp(P2, 0.1, 0.97), ecmp(P3, 0.95)]);
    assert.equal(shapeOf(r, P1, P2, pp), 'avoidable');
    assert.equal(shapeOf(r, P1, P3, pp), 'bound');
    assert.equal(shapeOf(row(T0, quiet()), P1, P2, pp), 'clear');
    assert.equal(shapeOf(r, P1, P1, pp), 'clear');
    assert.equal(shapeOf(r, P1, '0000000000000009', pp), 'unknown');
  });

  it('a spine link that another equal-cost path avoids: moves the path, leaves the weights', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(spineToA());
    assert.deepEqual([...h.active], [A]);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    const d = h.decisions.find((x) => x.action === 'move');
    assert.equal(d?.lever, 'path');
    assert.equal(d?.replica, 'a');
    assert.match(d?.reason ?? '', /another equal-cost path/);
  });

  it("one replica's access link (no path avoids it): moves the weights, asks for no path", () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(accessOfB());
    assert.deepEqual([...h.active], []);
    assert.ok((h.weights['b'] ?? 1000) < 100, `b keeps ${h.weights['b']}`);
    const d = h.decisions.find((x) => x.action === 'move');
    assert.equal(d?.lever, 'weights');
    assert.deepEqual(d?.shapes, { a: 'clear', b: 'bound' });
  });

  it('congestion every replica sits behind: asks the network, holds the weights', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step([ecmp(P2, 0.95), ecmp(P3, 0.9)]);
    assert.equal(h.active.size, 1, 'one path move at a time');
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    h.clock.advance(5000);
    h.step([ecmp(P2, 0.95), ecmp(P3, 0.9)]);
    assert.deepEqual([...h.active].sort(), [A, B]);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    assert.ok(!h.decisions.some((d) => d.lever === 'weights' && d.action === 'move'));
  });

  it('a congested level on a link that carries nothing (delay probes under CPU contention): neither lever', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    const noisy: CostEntry = { ...ecmp(P2, 0.001), level: 'congested', worstLevel: 'congested' };
    h.step([noisy, ecmp(P3, 0.001)]);
    assert.deepEqual([...h.active], []);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    assert.ok(!h.decisions.some((d) => d.action !== 'hold'), JSON.stringify(h.decisions));
  });

  it('while a replica stays behind its full access link, no weight goes back to it, whatever the other path’s level says', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(accessOfB());
    const away = { ...h.weights };
    assert.ok((away['b'] ?? 1000) < 100);
    // Twenty seconds on (past every hold-down) the probes call a's idle path congested: both look alike to a naive policy.
    h.clock.advance(20_000);
    h.step([{ ...ecmp(P2, 0.013), level: 'congested', worstLevel: 'congested' }, ecmp(P3, 0.98)]);
    assert.deepEqual(h.weights, away);
    // And a real fall of b's room that would give it more weight is held too.
    h.clock.advance(5000);
    h.step([ecmp(P2, 0.4), ecmp(P3, 0.85)]);
    assert.ok((h.weights['b'] ?? 1000) <= (away['b'] ?? 0));
  });

  it('a replica behind its access link gets the floor in one publication, from the first row past the onset mark', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    // 86%, not yet called congested: a room figure would give b a fifth of the load.
    h.step([ecmp(P2, 0.01), { ...ecmp(P3, 0.86), level: 'ok', worstLevel: 'ok' }]);
    assert.deepEqual(h.weights, { a: 990, b: 10 });
    h.run(10_000, 1000, () => accessOfB());
    assert.equal(h.changes.length, 1, JSON.stringify(h.changes));
  });

  it('a replica the weights left stays left until its best path cools below the clear mark; then even in one move', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(accessOfB());
    assert.deepEqual(h.weights, { a: 990, b: 10 });
    // Under the onset mark but over the clear mark, past every hold-down: not cool yet.
    h.run(20_000, 1000, () => [ecmp(P2, 0.1), ecmp(P3, 0.7)]);
    assert.deepEqual(h.weights, { a: 990, b: 10 });
    h.run(2000, 1000, () => [ecmp(P2, 0.1), ecmp(P3, 0.3)]);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    assert.equal(h.changes.length, 2, JSON.stringify(h.changes));
  });

  it('with a path lever, load under the onset mark moves no weight', () => {
    const h = new Harness();
    h.run(20_000, 1000, (t) => [ecmp(P2, 0.1 + ((t / 1000) % 7) / 10), ecmp(P3, 0.75 - ((t / 1000) % 5) / 10)]);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    assert.deepEqual(h.changes, []);
  });

  it('without a controller the weights cover what a path move would have avoided', () => {
    const h = new Harness(defaultArbiterParams, false);
    h.step(quiet());
    h.clock.advance(5000);
    h.step(spineToA());
    assert.deepEqual([...h.active], []);
    assert.ok((h.weights['a'] ?? 1000) < 100);
  });
});

describe('bridge arbiter: hold-downs', () => {
  it('weights: no move back within the hold-down, then one', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(accessOfB());
    const away = { ...h.weights };
    assert.ok((away['b'] ?? 1000) < 100);
    // Congestion gone two seconds later: moving back now would undo the move within its hold-down.
    h.clock.advance(2000);
    h.step(quiet());
    assert.deepEqual(h.weights, away);
    assert.ok(h.decisions.some((d) => d.action === 'hold' && /would reverse/.test(d.reason)));
    h.clock.advance(defaultArbiterParams.weightsHoldMs - 2000 - 1);
    h.step();
    assert.deepEqual(h.weights, away, 'still inside the hold-down');
    h.clock.advance(1);
    h.step();
    assert.deepEqual(h.weights, { a: 500, b: 500 });
  });

  it('paths: an intent is not withdrawn within its hold-down, nor asked again within the withdrawal’s', () => {
    // No idle linger here: the hold-downs alone.
    const h = new Harness({ ...defaultArbiterParams, pathIdleMs: 0 });
    h.step(quiet());
    h.clock.advance(5000);
    h.step(spineToA());
    assert.ok(h.active.has(A));
    const created = h.clock.now();
    h.clock.advance(2000);
    h.step(quiet());
    assert.ok(h.active.has(A), 'withdrawn within the hold-down');
    assert.ok(h.decisions.some((d) => d.action === 'hold' && /younger than its hold-down/.test(d.reason)));
    h.clock.advance(created + defaultArbiterParams.pathHoldMs - h.clock.now());
    h.step(quiet());
    assert.ok(!h.active.has(A), 'not withdrawn once the hold-down is over');
    const withdrawn = h.clock.now();
    h.clock.advance(1000);
    h.step(spineToA());
    assert.ok(!h.active.has(A), 'asked again within the withdrawal’s hold-down');
    h.clock.advance(withdrawn + defaultArbiterParams.pathHoldMs - h.clock.now());
    h.step(spineToA());
    assert.ok(h.active.has(A));
  });

  it('never both levers in one hold-down unless the first was seen not to help', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(spineToA());
    assert.ok(h.active.has(A));
    // One second later b's access link fills: the weights wait for the path move to show…
    h.clock.advance(1000);
    h.step([ecmp(P2, 0.1, 0.97), ecmp(P3, 0.97)]);
    assert.deepEqual(h.weights, { a: 500, b: 500 });
    assert.ok(h.decisions.some((d) => d.lever === 'weights' && d.action === 'hold' && /path move has not shown/.test(d.reason)));
    // …and move once it has shown and the congestion is still there.
    h.clock.advance(defaultArbiterParams.effectMs - 1000);
    h.step([ecmp(P2, 0.1, 0.97), ecmp(P3, 0.97)]);
    assert.ok((h.weights['b'] ?? 1000) < 100);
    const moves = h.changes.map((c) => c.lever);
    assert.deepEqual(moves, ['path', 'weights']);
    assert.ok(h.changes[1]!.at - h.changes[0]!.at >= defaultArbiterParams.effectMs);
  });

  it('flapping congestion (on and off every 2 s for a minute): no A→B→A within the hold-down, few changes', () => {
    const flap = (t: number) => (Math.floor(t / 2000) % 2 === 0 ? accessOfB() : quiet());
    const h = new Harness();
    h.run(60_000, 500, flap);
    assert.equal(reversals(h.changes, defaultArbiterParams.weightsHoldMs), 0, JSON.stringify(h.changes));
    assert.ok(h.changes.length <= 8, `${h.changes.length} changes`);
    // The same on the spine: the path lever flaps no faster than its hold-down.
    const spine = new Harness();
    spine.run(60_000, 500, (t) => (Math.floor(t / 2000) % 2 === 0 ? spineToA() : quiet()));
    assert.equal(reversals(spine.changes, defaultArbiterParams.pathHoldMs), 0, JSON.stringify(spine.changes));
    assert.ok(spine.changes.length >= 1 && spine.changes.length <= 6, `${spine.changes.length} changes`);
  });

  it('a congestion that moves between the spine and an access link: each lever once, no reversal in 10 s', () => {
    const h = new Harness();
    h.run(110_000, 500, (t) => (t < 10_000 ? quiet() : t < 40_000 ? spineToA() : t < 50_000 ? quiet() : t < 80_000 ? accessOfB() : quiet()));
    assert.equal(reversals(h.changes, 10_000), 0, JSON.stringify(h.changes));
    // The intent outlives the spine congestion by pathIdleMs; the weights go away and back once each.
    assert.deepEqual(
      h.changes.map((c) => `${c.lever}${c.what[0] === '-' ? '-' : ''}@${(c.at - T0) / 1000}`),
      ['path@10', `path-@${40 + defaultArbiterParams.pathIdleMs / 1000}`, 'weights@50', 'weights@80'],
    );
  });

  it('an idle intent stays until its paths have been cool for pathIdleMs; congestion in between restarts the count', () => {
    const ap = { ...defaultArbiterParams, pathIdleMs: 40_000 };
    const h = new Harness(ap);
    h.step(quiet());
    h.clock.advance(5000);
    h.step(spineToA());
    assert.ok(h.active.has(A));
    h.run(30_000, 1000, () => quiet());
    assert.ok(h.active.has(A), 'withdrawn after 30 s of quiet');
    h.run(5000, 1000, () => spineToA());
    assert.ok(h.active.has(A));
    h.run(ap.pathIdleMs - 1000, 1000, () => quiet());
    assert.ok(h.active.has(A), 'the count did not restart with the congestion');
    assert.equal(h.decisions.filter((d) => d.action === 'hold' && /not been cool long enough/.test(d.reason)).length, 1, 'told once');
    h.run(2000, 1000, () => quiet());
    assert.ok(!h.active.has(A));
    assert.deepEqual(h.changes.map((c) => c.what), [`+${A}`, `-${A}`]);
  });
});

describe('bridge arbiter: decisions on the bus', () => {
  it('every decision is a valid arbiter_decision event with its reason', () => {
    const h = new Harness();
    h.run(30_000, 500, (t) => (t < 5000 ? quiet() : t < 15_000 ? spineToA() : accessOfB()));
    assert.ok(h.decisions.length >= 2);
    for (const d of h.decisions) {
      const body = decisionEvent(d);
      const r = validateHint({ ...body, v: 1, ts: T0, seq: 1, ttlMs: 60_000, source: 'bridge' });
      assert.ok(r.ok, JSON.stringify(r));
      assert.equal(body.event, 'arbiter_decision');
      assert.equal(typeof body.detail?.['reason'], 'string');
    }
  });

  it('a held move is told once, not at every step', () => {
    const h = new Harness();
    h.step(quiet());
    h.clock.advance(5000);
    h.step(accessOfB());
    h.run(8000, 500, () => quiet());
    assert.equal(h.decisions.filter((d) => d.action === 'hold').length, 1);
  });
});
