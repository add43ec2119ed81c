// The per-destination path tables against the graphlib search they replace: on random multigraphs,
// the same equal-cost paths in the same order, and the counts and unranking agree.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { buildGraph, equalCostPaths } from '../../controller/topology/graph.ts';
import { destinationTree, pathAt, pathsFrom, PathTables } from '../../controller/topology/shortest.ts';
import { linkId, type Link } from '../../controller/topology/types.ts';

const dp = (n: number): string => n.toString(16).padStart(16, '0');

function linksOf(n: number, pairs: readonly (readonly [number, number])[]): Link[] {
  const links: Link[] = [];
  const port = new Map<number, number>();
  const nextPort = (s: number): number => {
    const p = (port.get(s) ?? 0) + 1;
    port.set(s, p);
    return p;
  };
  for (const [a, b] of pairs) {
    if (a === b || a >= n || b >= n) continue;
    const src = { dpid: dp(a), port: nextPort(a) };
    const dst = { dpid: dp(b), port: nextPort(b) };
    links.push({ id: linkId(src, dst), src, dst, capacityBps: 1e9, state: 'up', since: 0, lastSeen: 0 });
  }
  return links;
}

const intoOf = (links: readonly Link[]) => (dpid: string) => links.filter((l) => l.dst.dpid === dpid);

describe('topology: shortest-path tables', () => {
  it('give the same equal-cost paths, in the same order, as a search per pair', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 9 }), fc.array(fc.tuple(fc.nat(8), fc.nat(8)), { maxLength: 40 }), (n, pairs) => {
        const links = linksOf(n, pairs);
        const g = buildGraph(Array.from({ length: n }, (_, i) => dp(i)), links);
        const tables = new PathTables(intoOf(links));
        for (let s = 0; s < n; s++) {
          for (let d = 0; d < n; d++) {
            const want = equalCostPaths(g, dp(s), dp(d), { limit: 1000 }).map((p) => p.map((l) => l.id));
            const got = tables.paths(dp(s), dp(d), 1000).map((p) => p.map((l) => l.id));
            assert.deepEqual(got, want, `${s} -> ${d}`);
            assert.equal(tables.count(dp(s), dp(d)), want.length);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('unranks any index without listing the paths before it', () => {
    // Two layers of four switches between 0 and 9: 4 × 4 = 16 paths of 3 hops.
    const pairs: [number, number][] = [];
    for (let a = 1; a <= 4; a++) {
      pairs.push([0, a]);
      for (let b = 5; b <= 8; b++) pairs.push([a, b]);
    }
    for (let b = 5; b <= 8; b++) pairs.push([b, 9]);
    const links = linksOf(10, pairs);
    const tree = destinationTree(dp(9), intoOf(links));
    assert.equal(tree.count.get(dp(0)), 16);
    assert.equal(tree.dist.get(dp(0)), 3);
    const all = pathsFrom(tree, dp(0), 100);
    assert.equal(all.length, 16);
    for (let i = 0; i < 16; i++) assert.deepEqual(pathAt(tree, dp(0), i), all[i]);
    assert.equal(pathAt(tree, dp(0), 16), undefined);
    assert.deepEqual(pathAt(tree, dp(9), 0), []);
    assert.equal(pathAt(tree, dp(3), 0)?.length, 2);
  });

  it('forgets every tree when the topology changes', () => {
    let links = linksOf(3, [[0, 1], [1, 2]]);
    const tables = new PathTables((dpid) => links.filter((l) => l.dst.dpid === dpid));
    assert.equal(tables.count(dp(0), dp(2)), 1);
    links = linksOf(3, [[0, 1]]);
    assert.equal(tables.count(dp(0), dp(2)), 1, 'cached until told');
    const v = tables.version;
    tables.invalidate();
    assert.equal(tables.version, v + 1);
    assert.equal(tables.count(dp(0), dp(2)), 0);
  });
});
