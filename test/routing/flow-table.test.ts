// The forwarding planner's flow table against a scan of its flows: after random installs,
// reinstalls on other paths and removals, every index (cookie, link, host) answers what a scan
// would, and flow numbers are never handed out twice.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { FlowTable, type RoutedFlow } from '../../controller/routing/flow-table.ts';
import { forwardingCookie, flowIdOf } from '../../controller/cookies.ts';

type Op = { readonly kind: 'put'; readonly flow: number; readonly links: readonly number[]; readonly src: number; readonly dst: number } | { readonly kind: 'delete'; readonly flow: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('put' as const),
    flow: fc.integer({ min: 1, max: 6 }),
    links: fc.uniqueArray(fc.integer({ min: 1, max: 5 }), { maxLength: 3 }),
    src: fc.integer({ min: 1, max: 3 }),
    dst: fc.integer({ min: 1, max: 3 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), flow: fc.integer({ min: 1, max: 6 }) }),
);

const keys = (fs: Iterable<RoutedFlow>): string[] => [...fs].map((f) => `${f.id}#${f.cookie}`).sort();

describe('routing: flow table indexes', () => {
  it('answer by cookie, link and host as a scan of the flows would', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const t = new FlowTable();
        const everCookie = new Set<bigint>();
        for (const o of ops) {
          if (o.kind === 'delete') {
            t.apply({ changes: [{ op: 'delete', id: `f${o.flow}` }] });
          } else {
            // As the planner does: a new cookie from nextFlowId for every (re)install on a new path.
            const cookie = forwardingCookie(t.nextFlowId);
            assert.ok(!everCookie.has(cookie), 'a cookie is never handed out twice');
            everCookie.add(cookie);
            const flow: RoutedFlow = { key: { src: 'a', dst: 'b' }, id: `f${o.flow}`, cookie, srcMac: `m${o.src}`, dstMac: `m${o.dst}`, hops: [], linkIds: o.links.map((l) => `l${l}`) };
            t.apply({ changes: [{ op: 'put', flow }] });
          }
          const all = [...t.values()];
          assert.equal(t.size, all.length);
          for (const f of all) assert.equal(t.byCookie(f.cookie), f);
          for (const c of everCookie) if (!all.some((f) => f.cookie === c)) assert.equal(t.byCookie(c), undefined, 'old cookies are forgotten');
          for (let l = 1; l <= 5; l++) assert.deepEqual(keys(t.onLink(`l${l}`)), keys(all.filter((f) => f.linkIds.includes(`l${l}`))));
          for (let h = 1; h <= 3; h++) assert.deepEqual(keys(t.ofHost(`m${h}`)), keys(all.filter((f) => f.srcMac === `m${h}` || f.dstMac === `m${h}`)));
          for (const f of all) assert.ok(flowIdOf(f.cookie) < t.nextFlowId);
        }
      }),
      { numRuns: 300 },
    );
  });
});
