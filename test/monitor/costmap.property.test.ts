// The incremental cost map against a from-scratch computation (every shortest path enumerated):
// after any sequence of load changes, link failures and returns, and attachment point changes, on
// random graphs and on a fat-tree, every row is equal, and every row that changed was reported.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CostMap, type CostEntry, type CostMapChange } from '../../controller/monitor/costmap.ts';
import type { Level } from '../../controller/monitor/levels.ts';
import { linkId, type Link } from '../../controller/topology/types.ts';
import { fatTree } from '../../bench/fattree.ts';
import { referenceRows, type RefLoad } from './support/reference.ts';

const dp = (n: number): string => n.toString(16).padStart(16, '0');
const LEVELS: readonly Level[] = ['ok', 'warning', 'congested', 'down'];

type Op =
  | { readonly t: 'loads'; readonly moves: readonly { readonly link: number; readonly u: number; readonly level: number }[] }
  | { readonly t: 'down' | 'up'; readonly link: number }
  | { readonly t: 'pids'; readonly pids: readonly number[] };

const opArb = (nSwitches: number): fc.Arbitrary<Op> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.record({ t: fc.constant('loads' as const), moves: fc.array(fc.record({ link: fc.nat(), u: fc.double({ min: 0, max: 1.3, noNaN: true }), level: fc.nat(3) }), { minLength: 1, maxLength: 6 }) }) },
    { weight: 2, arbitrary: fc.record({ t: fc.constantFrom('down' as const, 'up' as const), link: fc.nat() }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant('pids' as const), pids: fc.uniqueArray(fc.nat(nSwitches), { minLength: 1, maxLength: nSwitches }) }) },
  );

function randomLinks(n: number, pairs: readonly (readonly [number, number, number])[]): Link[] {
  const ports = new Map<number, number>();
  const port = (s: number): number => {
    const p = (ports.get(s) ?? 0) + 1;
    ports.set(s, p);
    return p;
  };
  const caps = [1e8, 1e9, 1e10];
  const out: Link[] = [];
  for (const [a, b, c] of pairs) {
    if (a === b || a >= n || b >= n) continue;
    const src = { dpid: dp(a), port: port(a) };
    const dst = { dpid: dp(b), port: port(b) };
    out.push({ id: linkId(src, dst), src, dst, capacityBps: caps[c % 3] as number, state: 'up', since: 0, lastSeen: 0 });
  }
  return out;
}

/** Runs the ops on a CostMap and checks it against the reference after each. */
function check(all: readonly Link[], switches: readonly string[], startPids: readonly string[], ops: readonly Op[]): void {
  if (all.length === 0) return;
  const map = new CostMap();
  const down = new Set<string>();
  const loads = new Map<string, RefLoad>();
  let pids = [...startPids];
  const live = (): Link[] => all.filter((l) => !down.has(l.id));
  let change: CostMapChange = map.setStructure(live(), pids);
  let before = new Map<string, readonly CostEntry[]>();
  const verify = (what: string): void => {
    const want = referenceRows(live(), loads, pids);
    assert.deepEqual([...map.pids()], [...want.keys()], `${what}: pids`);
    let version = -1;
    for (const [src, row] of want) {
      const got = map.row(src);
      assert.deepEqual(got, row, `${what}: row ${src}`);
      const was = before.get(src);
      const differs = was === undefined || JSON.stringify(was) !== JSON.stringify(row);
      if (differs) assert.ok(change.rows.has(src), `${what}: row ${src} changed but was not reported`);
      // A new row, a destination lost, or a kept destination with other hops, fewer paths or another reachability.
      const kept = new Map((was ?? []).map((e) => [e.dstPid, e]));
      const reshaped =
        was === undefined ||
        was.some((e) => !row.some((r) => r.dstPid === e.dstPid)) ||
        row.some((e) => {
          const w = kept.get(e.dstPid);
          return w !== undefined && (e.hops !== w.hops || e.paths < w.paths || (e.level === 'down') !== (w.level === 'down'));
        });
      if (reshaped) assert.ok(change.structural.has(src), `${what}: row ${src} changed shape but was not reported as structural`);
      for (const e of row) {
        const paths = map.paths(src, e.dstPid, 1000);
        assert.equal(paths.length, e.paths, `${what}: ${src}→${e.dstPid} paths listed`);
        for (const p of paths) assert.equal(p.length, e.hops);
      }
      version = map.version;
    }
    void version;
    before = new Map([...want.keys()].map((p) => [p, map.row(p) as readonly CostEntry[]]));
  };
  verify('initial build');
  for (const [i, op] of ops.entries()) {
    const what = `op ${i} ${JSON.stringify(op)}`;
    const v0 = map.version;
    if (op.t === 'loads') {
      const figures = op.moves.map((m) => {
        const l = all[m.link % all.length] as Link;
        const f = { utilization: m.u, level: LEVELS[m.level] as Level };
        loads.set(l.id, f);
        return { linkId: l.id, ...f };
      });
      change = map.updateLoads(figures);
    } else if (op.t === 'down' || op.t === 'up') {
      const l = all[op.link % all.length] as Link;
      if (op.t === 'down') down.add(l.id);
      else down.delete(l.id);
      change = map.setStructure(live(), pids);
      // The monitor hands the latest assessment right after a rebuild; loads of live links stay.
      change = merge(change, map.updateLoads([...loads].filter(([id]) => !down.has(id)).map(([linkId, f]) => ({ linkId, ...f }))));
    } else if (op.t === 'pids') {
      pids = op.pids.map((p) => switches[p % switches.length] as string);
      change = map.setStructure(live(), pids);
    }
    if (change.rows.size > 0) assert.ok(map.version > v0, `${what}: version moves with a change`);
    verify(what);
  }
}

function merge(a: CostMapChange, b: CostMapChange): CostMapChange {
  return { rows: new Set([...a.rows, ...b.rows]), structural: new Set([...a.structural, ...b.structural]) };
}

describe('monitor: the incremental cost map equals a from-scratch computation', () => {
  it('on random graphs, after random load changes, link failures and attachment point changes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 8 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1), fc.nat(2)), { minLength: 1, maxLength: 30 }),
            fc.uniqueArray(fc.nat(n), { minLength: 1, maxLength: n + 1 }),
            fc.array(opArb(n), { maxLength: 15 }),
          ),
        ),
        ([n, pairs, pidIdx, ops]) => {
          // Index n names a switch with hosts and no links: an attachment point nobody reaches.
          const switches = Array.from({ length: n + 1 }, (_, i) => dp(i));
          check(randomLinks(n, pairs), switches, pidIdx.map((i) => dp(i)), ops);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('on a fat-tree (k=4), whose pairs have up to four equal-cost paths', () => {
    const ft = fatTree(4, 1e9);
    fc.assert(
      fc.property(fc.array(opArb(ft.edges.length - 1), { maxLength: 12 }), (ops) => check(ft.links, ft.edges, ft.edges, ops)),
      { numRuns: 25 },
    );
  });

  it('reports only the rows whose figures moved: a load on one edge uplink changes one row', () => {
    const ft = fatTree(4, 1e9);
    const map = new CostMap();
    map.setStructure(ft.links, ft.edges);
    const up = ft.links.find((l) => l.src.dpid === ft.edges[0])!;
    const c = map.updateLoads([{ linkId: up.id, utilization: 0.9, level: 'congested' }]);
    assert.deepEqual([...c.rows], [ft.edges[0]]);
    assert.equal(c.structural.size, 0);
    const e = map.entry(ft.edges[0]!, ft.edges[7]!)!;
    // Two uplinks out of the edge switch: the best path avoids the loaded one, the worst crosses it.
    assert.equal(e.paths, 4);
    assert.equal(e.bottleneckUtilization, 0);
    assert.equal(e.worstUtilization, 0.9);
    assert.equal(e.level, 'ok');
    assert.equal(e.worstLevel, 'congested');
    // The first layer holds both uplinks: 1 Gb/s free on one, 0.1 Gb/s on the other.
    assert.equal(e.aggregateBps, 1_100_000_000);
    // A move below the third decimal changes nothing.
    assert.equal(map.updateLoads([{ linkId: up.id, utilization: 0.9001, level: 'congested' }]).rows.size, 0);
  });
});
