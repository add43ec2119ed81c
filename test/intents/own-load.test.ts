// An intent's own traffic, measured from its rules' byte counters, stays known across a move: the
// flow is the same on the new path, so a least-congested intent does not take its own load for
// congestion right after moving and flee back.
import assert from 'node:assert/strict';
import { OwnLoads, type ByteSample } from '../../controller/intents/own-load.ts';
import type { IntentPath } from '../../controller/intents/types.ts';
import type { Link } from '../../controller/topology/types.ts';

const MBIT = 1_000_000;

function link(id: string): Link {
  const [src = '', dst = ''] = id.split('-');
  const end = (s: string) => ({ dpid: s.split(':')[0] ?? '', port: Number(s.split(':')[1]) });
  return { id, src: end(src), dst: end(dst), capacityBps: 10 * MBIT, state: 'up', since: 0, lastSeen: 0 };
}

function path(links: string[], reverseLinks: string[]): IntentPath {
  return { switches: [], hops: [], links, reverseHops: [], reverseLinks, bottleneck: 0 };
}

const viaA = path(['1:1-2:1', '2:2-4:1'], ['4:1-2:2', '2:1-1:1']);
const viaB = path(['1:2-3:1', '3:2-4:2'], ['4:2-3:2', '3:1-1:2']);
const links = new Map([...viaA.links, ...viaA.reverseLinks, ...viaB.links, ...viaB.reverseLinks].map((id) => [id, link(id)]));
const sample = (version: number, fwdBytes: number, revBytes: number, at: number): ByteSample => ({ version, fwdBytes: BigInt(fwdBytes), revBytes: BigInt(revBytes), at });

describe('intents: own load across a move', () => {
  it('is unknown until two samples of one path, then the rate over link capacity, per direction', () => {
    const own = new OwnLoads();
    assert.equal(own.update('i1', sample(1, 0, 0, 0), viaA, links), undefined);
    const u = own.update('i1', sample(1, 750_000, 125_000, 1000), viaA, links); // 6 and 1 Mbit/s
    assert.deepEqual(u && Object.fromEntries(u), { '1:1-2:1': 0.6, '2:2-4:1': 0.6, '4:1-2:2': 0.1, '2:1-1:1': 0.1 });
  });

  it('carries the last rate onto the new path right after a move, until the new rules are measured', () => {
    const own = new OwnLoads();
    own.update('i1', sample(1, 0, 0, 0), viaA, links);
    own.update('i1', sample(1, 750_000, 0, 1000), viaA, links);
    // Moved: new rules, counters from zero, nothing to compare with yet.
    const carried = own.update('i1', sample(2, 1000, 0, 2000), viaB, links);
    assert.equal(carried?.get('1:2-3:1'), 0.6);
    assert.equal(carried?.get('1:1-2:1'), undefined, 'nothing is taken off the path it left');
    // Measured on the new path: its own rate from then on.
    const measured = own.update('i1', sample(2, 1000 + 250_000, 0, 3000), viaB, links);
    assert.equal(measured?.get('1:2-3:1'), 0.2);
    own.forget('i1');
    assert.equal(own.update('i1', sample(2, 0, 0, 4000), viaB, links), undefined);
  });
});
