// The indexed stores against a brute-force reading of the same tables: after random sequences of
// LLDP arrivals, port and switch drops, expiry and forgetting (links) and of sightings, moves,
// removals and expiry (hosts), every index answers what a scan of all entries would.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { dropPort, dropSwitch, expireLinks, forgetDown, observeLink } from '../../controller/topology/links.ts';
import { expireHosts, learnHost, removeHostsAt } from '../../controller/topology/hosts.ts';
import { edgePorts } from '../../controller/topology/snapshot.ts';
import { TopologyState } from '../../controller/topology/state.ts';
import { endpointKey, sameEndpoint, type Endpoint, type Link } from '../../controller/topology/types.ts';

const SWITCHES = 4;
const PORTS = 3;
const dp = (n: number): string => n.toString(16).padStart(16, '0');
const endpoint = fc.record({ dpid: fc.integer({ min: 1, max: SWITCHES }).map(dp), port: fc.integer({ min: 1, max: PORTS }) });

type Op =
  | { readonly kind: 'lldp'; readonly src: Endpoint; readonly dst: Endpoint }
  | { readonly kind: 'port_down'; readonly at: Endpoint }
  | { readonly kind: 'port_up'; readonly at: Endpoint }
  | { readonly kind: 'switch_down'; readonly dpid: string }
  | { readonly kind: 'switch_up'; readonly dpid: string }
  | { readonly kind: 'tick'; readonly ms: number }
  | { readonly kind: 'sighting'; readonly mac: number; readonly ip: number | undefined; readonly at: Endpoint };

/** A ring of cables, both directions: most LLDP proves (and re-proves) these; the rest recables at random. */
const CABLED: readonly [Endpoint, Endpoint][] = Array.from({ length: SWITCHES }, (_, i) => {
  const a = { dpid: dp(i + 1), port: 1 };
  const b = { dpid: dp(((i + 1) % SWITCHES) + 1), port: 2 };
  return [[a, b] as [Endpoint, Endpoint], [b, a] as [Endpoint, Endpoint]];
}).flat();
const cabled = fc.constantFrom(...CABLED).map(([src, dst]) => ({ kind: 'lldp' as const, src, dst }));

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 8, arbitrary: cabled },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('lldp' as const), src: endpoint, dst: endpoint }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('port_down' as const), at: endpoint }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('port_up' as const), at: endpoint }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('switch_down' as const), dpid: fc.integer({ min: 1, max: SWITCHES }).map(dp) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('switch_up' as const), dpid: fc.integer({ min: 1, max: SWITCHES }).map(dp) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('sighting' as const), mac: fc.integer({ min: 1, max: 4 }), ip: fc.option(fc.integer({ min: 1, max: 3 }), { nil: undefined }), at: endpoint }) },
);

/** Links as their id, state and last proof: an index holding a stale record shows. */
const ids = (ls: Iterable<Link>): string[] => [...ls].map((l) => `${l.id}@${l.state}@${l.lastSeen}`).sort();

function check(t: TopologyState, now: number): void {
  const all = [...t.links.values()];
  for (let s = 1; s <= SWITCHES; s++) {
    const d = dp(s);
    assert.deepEqual(ids(t.links.ofSwitch(d)), ids(all.filter((l) => l.src.dpid === d || l.dst.dpid === d)), `ofSwitch ${d}`);
    assert.deepEqual(ids(t.links.upInto(d)), ids(all.filter((l) => l.state === 'up' && l.dst.dpid === d)), `upInto ${d}`);
    for (let p = 1; p <= PORTS; p++) {
      const at = { dpid: d, port: p };
      assert.deepEqual(ids(t.links.from(at)), ids(all.filter((l) => sameEndpoint(l.src, at))), `from ${endpointKey(at)}`);
      assert.deepEqual(ids(t.links.into(at)), ids(all.filter((l) => sameEndpoint(l.dst, at))), `into ${endpointKey(at)}`);
      const linkPort = all.some((l) => l.state === 'up' && (sameEndpoint(l.src, at) || sameEndpoint(l.dst, at)));
      assert.equal(t.links.isLinkPort(at), linkPort, `link port ${endpointKey(at)}`);
      const hosts = [...t.hosts.values()].filter((h) => sameEndpoint(h.at, at)).map((h) => h.mac).sort();
      assert.deepEqual([...t.hosts.attachedAt(at)].map((h) => h.mac).sort(), hosts, `hosts at ${endpointKey(at)}`);
    }
  }
  assert.deepEqual(ids(t.links.up()), ids(all.filter((l) => l.state === 'up')));
  assert.deepEqual(ids(t.links.down()), ids(all.filter((l) => l.state === 'down')));
  // One live direction per sending port and per receiving port.
  const up = all.filter((l) => l.state === 'up');
  assert.equal(new Set(up.map((l) => endpointKey(l.src))).size, up.length, 'a port sends to one peer');
  assert.equal(new Set(up.map((l) => endpointKey(l.dst))).size, up.length, 'a port hears one peer');
  // Expiry order: the order kept is the order of lastSeen (hosts) and since (down links).
  const seen = [...t.hosts.byAge()].map((h) => h.lastSeen);
  assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'hosts by age');
  const lastProven = [...t.links.up()].map((l) => l.lastSeen);
  assert.deepEqual(lastProven, [...lastProven].sort((a, b) => a - b), 'live links by age');
  // An address belongs to one host, and the address index knows it.
  const withIp = [...t.hosts.values()].filter((h) => h.ipv4 !== undefined);
  assert.equal(new Set(withIp.map((h) => h.ipv4)).size, withIp.length, 'one host per address');
  for (const h of withIp) assert.equal(t.hosts.byIp(h.ipv4 as string)?.mac, h.mac);
  for (let i = 1; i <= 4; i++) assert.equal(t.hosts.byIp(`10.0.0.${i}`)?.ipv4 ?? `10.0.0.${i}`, `10.0.0.${i}`);
  // Edge ports: live ports with no live link, settled (settle time 0 here).
  const view = t.view(now);
  const edges: string[] = [];
  for (const [dpid, ports] of view.switches) for (const p of ports.keys()) if (!linkPortOf(all, { dpid, port: p })) edges.push(`${dpid}:${p}`);
  assert.deepEqual(edgePorts(view).map(endpointKey).sort(), edges.sort(), 'edge ports');
  // Paths: the tables agree with a breadth-first search over the live links between present switches.
  for (let s = 1; s <= SWITCHES; s++) for (let d = 1; d <= SWITCHES; d++) assert.equal(t.paths.count(dp(s), dp(d)) > 0, reaches(t, dp(s), dp(d)), `reach ${s}→${d}`);
}

const linkPortOf = (all: readonly Link[], at: Endpoint): boolean => all.some((l) => l.state === 'up' && (sameEndpoint(l.src, at) || sameEndpoint(l.dst, at)));

function reaches(t: TopologyState, s: string, d: string): boolean {
  if (s === d) return true;
  const live = [...t.links.values()].filter((l) => l.state === 'up' && t.hasSwitch(l.src.dpid) && t.hasSwitch(l.dst.dpid));
  const seen = new Set([s]);
  const queue = [s];
  while (queue.length > 0) {
    const v = queue.shift() as string;
    for (const l of live) {
      if (l.src.dpid !== v || seen.has(l.dst.dpid)) continue;
      if (l.dst.dpid === d) return true;
      seen.add(l.dst.dpid);
      queue.push(l.dst.dpid);
    }
  }
  return false;
}

function run(ops: readonly Op[]): void {
  const t = new TopologyState(0);
  const all = (): { port: number; upSince: number; speedKbps: number }[] => Array.from({ length: PORTS }, (_, i) => ({ port: i + 1, upSince: 0, speedKbps: 1e6 }));
  for (let s = 1; s <= SWITCHES; s++) t.switchUp(dp(s), all());
  let now = 0;
  for (const o of ops) {
    switch (o.kind) {
      case 'lldp':
        if (o.src.dpid === o.dst.dpid) break;
        if (t.port(o.src) === undefined || t.port(o.dst) === undefined) break;
        t.applyLinks(observeLink(t.links, o.src, o.dst, 1e9, now));
        t.applyHosts(removeHostsAt(t.hosts, o.src));
        t.applyHosts(removeHostsAt(t.hosts, o.dst));
        break;
      case 'port_down':
        t.portDown(o.at);
        t.applyLinks(dropPort(t.links, o.at, 'port_down', now));
        break;
      case 'port_up':
        t.portUp(o.at.dpid, { port: o.at.port, upSince: now, speedKbps: 1e6 });
        break;
      case 'switch_down':
        t.switchDown(o.dpid);
        t.applyLinks(dropSwitch(t.links, o.dpid, now));
        break;
      case 'switch_up':
        if (!t.hasSwitch(o.dpid)) t.switchUp(o.dpid, all());
        break;
      case 'tick':
        now += o.ms;
        t.applyLinks(expireLinks(t.links, now, 3500));
        t.applyLinks(forgetDown(t.links, now, 5000));
        t.applyHosts(expireHosts(t.hosts, now, 4000));
        break;
      case 'sighting':
        if (t.links.isLinkPort(o.at) || t.port(o.at) === undefined) break;
        t.applyHosts(learnHost(t.hosts, { mac: `00:00:00:00:00:0${o.mac}`, ipv4: o.ip === undefined ? undefined : `10.0.0.${o.ip}`, at: o.at }, now));
        break;
    }
    check(t, now);
  }
}

describe('topology: indexed stores against a scan', () => {
  it('answer every index as a scan of the tables would, through random events', () => {
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), run), { numRuns: 500 });
  });
});
