// The cost map's queueDelayMs column (a map made for delay probes): for every pair, the least total
// queueing delay over the equal-cost paths, checked against the paths the map lists, on random
// graphs after random changes; and the column reaches a cost_row hint intact.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CostMap, quantizeMs } from '../../controller/monitor/costmap.ts';
import { linkId, type Link } from '../../controller/topology/types.ts';
import { costColumns, costEntries } from '../../bus/hints.ts';
import { validateHint } from '../../bus/parse.ts';

const dp = (n: number): string => n.toString(16).padStart(16, '0');

function links(n: number, pairs: readonly (readonly [number, number])[]): Link[] {
  const port = new Map<number, number>();
  const next = (s: number): number => {
    const p = (port.get(s) ?? 0) + 1;
    port.set(s, p);
    return p;
  };
  const out: Link[] = [];
  const seen = new Set<string>();
  for (const [a, b] of pairs) {
    if (a === b || a >= n || b >= n || seen.has(`${a}-${b}`)) continue;
    seen.add(`${a}-${b}`);
    const src = { dpid: dp(a), port: next(a) };
    const dst = { dpid: dp(b), port: next(b) };
    out.push({ id: linkId(src, dst), src, dst, capacityBps: 1e9, state: 'up', since: 0, lastSeen: 0 });
  }
  return out;
}

describe('monitor: the cost map with queueing delay', () => {
  it('gives each entry the least sum of link queueing delays over its equal-cost paths', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 7 }),
        fc.array(fc.tuple(fc.nat(6), fc.nat(6)), { minLength: 1, maxLength: 24 }),
        fc.array(fc.array(fc.tuple(fc.nat(), fc.double({ min: 0, max: 80, noNaN: true })), { maxLength: 6 }), { minLength: 1, maxLength: 5 }),
        (n, pairs, rounds) => {
          const all = links(n, pairs);
          if (all.length === 0) return;
          const map = new CostMap({ queueDelay: true });
          const pids = Array.from({ length: n }, (_, i) => dp(i));
          map.setStructure(all, pids);
          const q = new Map<string, number>();
          for (const round of rounds) {
            map.updateLoads(
              round.map(([l, ms]) => {
                const link = all[l % all.length] as Link;
                q.set(link.id, quantizeMs(ms));
                return { linkId: link.id, utilization: 0.1, level: 'ok' as const, queueDelayMs: ms };
              }),
            );
            for (const src of map.pids()) {
              for (const e of map.row(src) ?? []) {
                const paths = map.paths(src, e.dstPid, 1000);
                const want = paths.length === 0 ? 0 : Math.min(...paths.map((p) => p.reduce((s, id) => s + (q.get(id) ?? 0), 0)));
                assert.ok(e.queueDelayMs !== undefined);
                assert.ok(Math.abs(e.queueDelayMs - want) < 0.05 + 1e-9, `${src}→${e.dstPid}: ${e.queueDelayMs} vs ${want}`);
              }
            }
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('leaves the column out of a map made without probes', () => {
    const map = new CostMap();
    const l = links(2, [[0, 1], [1, 0]]);
    map.setStructure(l, [dp(0), dp(1)]);
    map.updateLoads([{ linkId: l[0]!.id, utilization: 0.5, level: 'ok', queueDelayMs: 9 }]);
    assert.equal(map.entry(dp(0), dp(1))!.queueDelayMs, undefined);
    assert.equal('queueDelayMs' in costColumns(map.row(dp(0))!), false);
  });

  it('a row with the column goes out as a valid cost_row and reads back the same', () => {
    const map = new CostMap({ queueDelay: true });
    const l = links(3, [[0, 1], [1, 2], [2, 1], [1, 0]]);
    map.setStructure(l, [dp(0), dp(2)]);
    map.updateLoads([
      { linkId: l[0]!.id, utilization: 0.2, level: 'ok', queueDelayMs: 4.26 },
      { linkId: l[1]!.id, utilization: 0.9, level: 'congested', queueDelayMs: 30.04 },
    ]);
    const row = map.row(dp(0))!;
    assert.equal(row[0]!.queueDelayMs, 34.3);
    const costs = costColumns(row);
    const r = validateHint({ v: 2, kind: 'cost_row', ts: 1, seq: 1, ttlMs: 1000, source: 't', srcPid: dp(0), costs });
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.deepEqual(costEntries(costs), row);
  });
});
