// planIntent on the diamond: each policy's choice, both directions, and the refusals.
import assert from 'node:assert/strict';
import { planIntent, type PlanResult, type Utilization } from '../../controller/intents/plan.ts';
import type { IntentPath } from '../../controller/intents/types.ts';
import { cut, diamondLinks, ep, graph, H3, HOSTS, S1, S2, S3, S4, spec } from './fixture.ts';

const OPTS = { tieBand: 0.05 };
const none: Utilization = new Map();
const L = {
  s1s2: `${S1}:3-${S2}:1`,
  s2s1: `${S2}:1-${S1}:3`,
  s2s4: `${S2}:2-${S4}:3`,
  s1s3: `${S1}:4-${S3}:1`,
  s1s4: `${S1}:5-${S4}:5`,
};

function ok(r: PlanResult): IntentPath {
  assert.ok(r.ok, r.ok ? '' : r.error);
  return r.path;
}

describe('intents: planIntent', () => {
  it('shortest: fewest hops, ports at every switch, and the replies over the same cables', () => {
    const p = ok(planIntent(graph(diamondLinks()), none, spec({ name: 'shortest' }), HOSTS, OPTS));
    assert.deepEqual(p.switches, [S1, S2, S4]);
    assert.deepEqual(p.hops, [
      { dpid: S1, inPort: 1, outPort: 3 },
      { dpid: S2, inPort: 1, outPort: 2 },
      { dpid: S4, inPort: 3, outPort: 1 },
    ]);
    assert.deepEqual(p.reverseHops, [
      { dpid: S4, inPort: 1, outPort: 3 },
      { dpid: S2, inPort: 2, outPort: 1 },
      { dpid: S1, inPort: 3, outPort: 1 },
    ]);
    assert.deepEqual(p.reverseLinks, [`${S4}:3-${S2}:2`, L.s2s1]);
  });

  it('least-congested: the lowest bottleneck wins, counting load in either direction of a cable', () => {
    const g = graph(diamondLinks());
    assert.deepEqual(ok(planIntent(g, new Map([[L.s1s2, 0.9]]), spec({ name: 'least-congested' }), HOSTS, OPTS)).switches, [S1, S3, S4]);
    // Replies would cross s2→s1: loaded too.
    const back = ok(planIntent(g, new Map([[L.s2s1, 0.7], [L.s1s3, 0.2]]), spec({ name: 'least-congested' }), HOSTS, OPTS));
    assert.deepEqual(back.switches, [S1, S3, S4]);
    assert.equal(back.bottleneck, 0.2);
  });

  it('least-congested: bottlenecks within the tie band go to the path with fewer hops', () => {
    const g = graph(diamondLinks(true));
    assert.deepEqual(ok(planIntent(g, new Map([[L.s1s4, 0.03]]), spec({ name: 'least-congested' }), HOSTS, OPTS)).switches, [S1, S4]);
    assert.deepEqual(ok(planIntent(g, new Map([[L.s1s4, 0.3]]), spec({ name: 'least-congested' }), HOSTS, OPTS)).switches, [S1, S2, S4]);
  });

  it('least-congested: the intent\'s own traffic does not count against its path', () => {
    const loads = new Map([[L.s1s2, 0.8], [L.s2s4, 0.8], [L.s1s3, 0.1]]);
    const own = new Map([[L.s1s2, 0.8], [L.s2s4, 0.8]]);
    const g = graph(diamondLinks());
    assert.deepEqual(ok(planIntent(g, loads, spec({ name: 'least-congested' }), HOSTS, OPTS)).switches, [S1, S3, S4]);
    assert.deepEqual(ok(planIntent(g, loads, spec({ name: 'least-congested' }), HOSTS, { ...OPTS, own })).switches, [S1, S2, S4]);
  });

  it('avoid: a link id (either direction) or a switch pair keeps the path off that cable', () => {
    const g = graph(diamondLinks());
    for (const avoid of [{ kind: 'link', id: L.s1s2 }, { kind: 'link', id: L.s2s1 }, { kind: 'switches', a: S2, b: S1 }] as const) {
      assert.deepEqual(ok(planIntent(g, none, spec({ name: 'avoid', avoid: [avoid] }), HOSTS, OPTS)).switches, [S1, S3, S4], JSON.stringify(avoid));
    }
    const both = planIntent(g, none, spec({ name: 'avoid', avoid: [{ kind: 'switches', a: S1, b: S2 }, { kind: 'switches', a: S3, b: S4 }] }), HOSTS, OPTS);
    assert.ok(!both.ok && both.kind === 'no_path', JSON.stringify(both));
  });

  it('explicit: takes exactly the walk asked for, and refuses one that is not a walk of live links', () => {
    const g = graph(diamondLinks());
    assert.deepEqual(ok(planIntent(g, new Map([[L.s1s3, 0.99]]), spec({ name: 'explicit', switches: [S1, S3, S4] }), HOSTS, OPTS)).switches, [S1, S3, S4]);
    const cases: [string[], RegExp][] = [
      [[S1, S2, S3, S4], /not a walk of live links: no link 0000000000000002→0000000000000003/],
      [[S2, S4], /starts at 0000000000000002, but src is attached to 0000000000000001/],
      [[S1, S2], /ends at 0000000000000002/],
      [[S1, S2, S1, S3, S4], /visits 0000000000000001 twice/],
    ];
    for (const [switches, message] of cases) {
      const r = planIntent(g, none, spec({ name: 'explicit', switches }), HOSTS, OPTS);
      assert.ok(!r.ok && r.kind === 'invalid', JSON.stringify(r));
      assert.match(r.error, message);
    }
    // A cable down both ways: no link either way.
    const down = planIntent(graph(cut(diamondLinks(), ep(2, 2))), none, spec({ name: 'explicit', switches: [S1, S2, S4] }), HOSTS, OPTS);
    assert.ok(!down.ok);
    assert.match(down.error, /no link 0000000000000002→0000000000000004/);
  });

  it('has no path for a host that is not attached', () => {
    const gone = HOSTS.clone();
    gone.apply({ changes: [{ op: 'delete', mac: H3.mac }] });
    const r = planIntent(graph(diamondLinks()), none, spec({ name: 'shortest' }), gone, OPTS);
    assert.ok(!r.ok && r.kind === 'no_path');
    assert.match(r.error, new RegExp(H3.ipv4.replaceAll('.', '\\.')));
  });
});
