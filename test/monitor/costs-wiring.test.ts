// The cost map inside the controller, without switches: the monitor rebuilds the structure once
// per burst of topology events and keeps the attachment points from host events; the announcer
// publishes the rows that changed, small, and a link going down at once.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { Controller } from '../../controller/controller.ts';
import type { Discovery } from '../../controller/topology/discovery.ts';
import type { Host, Link } from '../../controller/topology/types.ts';
import { Monitor } from '../../controller/monitor/monitor.ts';
import { Announcer } from '../../controller/announcer.ts';
import type { CostMapChange } from '../../controller/monitor/costmap.ts';
import { HintPublisher } from '../../bus/publisher.ts';
import { parseHint } from '../../bus/parse.ts';
import { costEntries, type Hint } from '../../bus/hints.ts';
import { VirtualClock } from '../../bus/clock.ts';
import { fatTree } from '../../bench/fattree.ts';

class FakeDiscovery extends EventEmitter {
  links = new Map<string, Link>();
  hosts = new Map<string, Host>();
}

class FakeController extends EventEmitter {
  readonly switches = new Map<string, never>();
}

const host = (n: number, dpid: string): Host => ({ mac: `02:00:00:00:00:${n.toString(16).padStart(2, '0')}`, ipv4: `10.0.0.${n}`, at: { dpid, port: 9 }, firstSeen: 0, lastSeen: 0 });
const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function setup() {
  const ft = fatTree(4, 1e9);
  const clock = new VirtualClock(1_700_000_000_000);
  const discovery = new FakeDiscovery();
  const controller = new FakeController();
  for (const l of ft.links) discovery.links.set(l.id, l);
  ft.edges.forEach((e, i) => discovery.hosts.set(`h${i}`, host(i + 1, e)));
  const monitor = new Monitor(controller as unknown as Controller, discovery as unknown as Discovery, { clock });
  const sent: { topic: string; payload: string; retain: boolean }[] = [];
  const publisher = new HintPublisher(
    { publishAsync: async (topic: string, payload: string | Buffer, o?: { retain?: boolean }) => void sent.push({ topic, payload: String(payload), retain: o?.retain === true }) } as never,
    { source: 'test', clock },
  );
  const announcer = new Announcer(controller as unknown as Controller, discovery as unknown as Discovery, monitor, { publisher, clock, costRows: { minIntervalMs: 1000, refreshMs: 10_000 } });
  announcer.start();
  monitor.start();
  // Changes after the first build.
  const changes: CostMapChange[] = [];
  monitor.on('costs', (c) => changes.push(c));
  const rows = (): Hint[] => sent.filter((s) => s.topic.startsWith('meshflow/v1/costs/')).map((s) => {
    const p = parseHint(s.payload, { topic: s.topic });
    assert.ok(p.ok, p.ok ? '' : p.error.message);
    return p.hint;
  });
  return { ft, clock, discovery, monitor, announcer, sent, rows, changes };
}

describe('monitor and announcer: the cost map in the controller', () => {
  it('builds the map at start from discovery and takes the attachment points from the hosts', () => {
    const { ft, monitor, announcer } = setup();
    assert.deepEqual(monitor.attachmentPoints(), [...ft.edges].sort());
    assert.equal(monitor.costMap.row(ft.edges[0]!)?.length, ft.edges.length - 1);
    monitor.stop();
    announcer.stop();
  });

  it('rebuilds once for a burst of link downs and publishes the rows it reshaped at once', async () => {
    const { ft, discovery, monitor, announcer, rows, changes } = setup();
    const before = rows().length;
    // Edge 0 loses both uplinks (both directions): it is cut off from everyone.
    const cut = ft.links.filter((l) => l.src.dpid === ft.edges[0] || l.dst.dpid === ft.edges[0]);
    for (const l of cut) {
      discovery.links.set(l.id, { ...l, state: 'down' });
      discovery.emit('link_down', l, 'port_down');
    }
    await tick();
    assert.equal(changes.length, 1, 'one rebuild for the burst');
    assert.equal(changes[0]!.structural.size, ft.edges.length, 'every row lost or changed a destination');
    const fresh = rows().slice(before);
    assert.equal(fresh.length, ft.edges.length, 'every reshaped row published at once');
    const own = fresh.find((h) => h.kind === 'cost_row' && h.srcPid === ft.edges[0]);
    assert.ok(own && own.kind === 'cost_row');
    assert.ok(costEntries(own.costs).every((e) => e.level === 'down' && e.paths === 0));
    monitor.stop();
    announcer.stop();
  });

  it('gathers links coming up over many events into one rebuild', async () => {
    const { ft, clock, discovery, monitor, announcer, changes } = setup();
    const cut = ft.links.filter((l) => l.src.dpid === ft.edges[0] || l.dst.dpid === ft.edges[0]);
    for (const l of cut) discovery.links.set(l.id, { ...l, state: 'down' });
    discovery.emit('link_down', cut[0]!, 'port_down');
    await tick();
    assert.equal(changes.length, 1);
    for (const l of cut) {
      discovery.links.set(l.id, l);
      discovery.emit('link_up', l);
      await tick();
    }
    assert.equal(changes.length, 1);
    clock.advance(250);
    assert.equal(changes.length, 2, 'one rebuild for all of them');
    assert.ok(monitor.costMap.row(ft.edges[0]!)!.every((e) => e.paths > 0));
    monitor.stop();
    announcer.stop();
  });

  it('adds an attachment point when a switch gets its first host, not for its second', async () => {
    const { ft, clock, discovery, monitor, announcer, changes } = setup();
    const agg = ft.switches[ft.edges.length]!;
    discovery.emit('host_added', host(50, agg));
    await tick();
    assert.equal(changes.length, 0, 'growth is gathered for a while');
    clock.advance(250);
    assert.equal(changes.length, 1);
    assert.ok(monitor.costMap.pids().includes(agg));
    discovery.emit('host_added', host(51, agg));
    // The second host moves to an edge switch that has hosts already: both keep at least one.
    discovery.emit('host_moved', host(51, ft.edges[1]!), { dpid: agg, port: 9 });
    await tick();
    clock.advance(1000);
    assert.equal(changes.length, 1, 'no rebuild: the attachment points did not change');
    monitor.stop();
    announcer.stop();
  });

  it('keeps rows at k=4 small and refreshes them before their ttl', () => {
    const { ft, clock, monitor, announcer, rows, sent } = setup();
    const first = rows();
    assert.equal(first.length, ft.edges.length);
    assert.ok(sent.every((s) => s.retain));
    assert.ok(Math.max(...sent.map((s) => Buffer.byteLength(s.payload))) < 2048);
    // No poll brings anything new; the refresh comes from the per-poll tick.
    clock.advance(10_000);
    monitor.emit('assessed', { states: new Map(), loads: new Map(), changes: [] });
    assert.equal(rows().length, 2 * ft.edges.length);
    monitor.stop();
    announcer.stop();
  });
});
