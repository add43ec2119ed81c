// Topology files: the shipped ones parse with the stated shapes; broken ones fail with a
// TopologyError that names the file and the JSON pointer of the fault.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  SHIPPED,
  TopologyError,
  hasSwitchCycle,
  loadTopology,
  parseTopology,
  type Topology,
} from '../../topologies/topology.ts';

const FIXTURES = fileURLToPath(new URL('../fixtures/topologies/', import.meta.url));

function degree(t: Topology, node: string): number {
  return t.links.filter((l) => l.a === node || l.b === node).length;
}

function hostLinks(t: Topology): number {
  const hosts = new Set(t.hosts.map((h) => h.name));
  return t.links.filter((l) => hosts.has(l.a) || hosts.has(l.b)).length;
}

describe('topologies: shipped files', () => {
  it('ships the four documented topologies, each loadable by name', () => {
    for (const name of SHIPPED) {
      const t = loadTopology(name);
      assert.equal(t.name, name);
      assert.ok(t.switches.every((s) => /^[0-9a-f]{16}$/.test(s.dpid)), `${name}: dpids resolved`);
      // Every switch end has its port, every host end none.
      for (const l of t.links) {
        assert.equal(l.aPort === null, t.hosts.some((h) => h.name === l.a));
        assert.equal(l.bPort === null, t.hosts.some((h) => h.name === l.b));
      }
      assert.equal(hostLinks(t), t.hosts.length, `${name}: one link per host`);
    }
  });

  it('diamond: s1 and s4 joined by two disjoint 2-hop paths, hosts on both sides', () => {
    const t = loadTopology('diamond');
    assert.deepEqual(t.switches.map((s) => s.name), ['s1', 's2', 's3', 's4']);
    const fabric = t.links.filter((l) => l.aPort !== null && l.bPort !== null).map((l) => [l.a, l.b].sort().join('-'));
    assert.deepEqual(fabric.sort(), ['s1-s2', 's1-s3', 's2-s4', 's3-s4']);
    assert.deepEqual(t.hosts.map((h) => `${h.name}@${h.switch}`), ['h1@s1', 'h2@s1', 'h3@s4', 'h4@s4']);
    assert.ok(hasSwitchCycle(t));
  });

  it('leaf-spine: 2 spines, 4 leaves, 2 hosts per leaf, every leaf on every spine', () => {
    const t = loadTopology('leaf-spine');
    const spines = t.switches.filter((s) => s.name.startsWith('sp'));
    const leaves = t.switches.filter((s) => s.name.startsWith('l'));
    assert.equal(spines.length, 2);
    assert.equal(leaves.length, 4);
    assert.equal(t.hosts.length, 8);
    for (const leaf of leaves) {
      assert.equal(t.hosts.filter((h) => h.switch === leaf.name).length, 2);
      assert.equal(degree(t, leaf.name), 4);
    }
    for (const spine of spines) assert.equal(degree(t, spine.name), 4);
  });

  it('fat-tree-4: 4 core, 8 aggregation, 8 edge switches, 16 hosts, every switch has k=4 ports', () => {
    const t = loadTopology('fat-tree-4');
    assert.equal(t.switches.length, 20);
    assert.equal(t.switches.filter((s) => s.name.startsWith('c')).length, 4);
    assert.equal(t.switches.filter((s) => s.name.startsWith('a')).length, 8);
    assert.equal(t.switches.filter((s) => s.name.startsWith('e')).length, 8);
    assert.equal(t.hosts.length, 16);
    for (const s of t.switches) assert.equal(degree(t, s.name), 4, s.name);
    assert.equal(t.links.length, 16 + 32);
  });

  it('linear-4: 4 switches in a line, one host each, no loop', () => {
    const t = loadTopology('linear-4');
    assert.equal(t.switches.length, 4);
    assert.equal(t.hosts.length, 4);
    assert.equal(t.links.length, 7);
    assert.ok(!hasSwitchCycle(t));
    for (const s of t.switches) assert.equal(t.hosts.filter((h) => h.switch === s.name).length, 1);
  });

  it('resolves defaults: dpid from position, MAC from IP, lowest free ports after explicit ones', () => {
    const t = parseTopology(
      {
        name: 'defaults',
        switches: [{ name: 'a' }, { name: 'b', dpid: '0x1F' }],
        hosts: [{ name: 'h', ip: '10.1.2.3/16', switch: 'a' }],
        links: [
          { a: 'h', b: 'a', bw: 5 },
          { a: 'a', b: 'b', bw: 5, aPort: 1 },
        ],
      },
      'inline',
    );
    assert.deepEqual(t.switches, [
      { name: 'a', dpid: '0000000000000001' },
      { name: 'b', dpid: '000000000000001f' },
    ]);
    assert.equal(t.hosts[0]?.mac, '02:00:0a:01:02:03');
    assert.deepEqual(t.links.map((l) => [l.aPort, l.bPort]), [
      [null, 2],
      [1, 1],
    ]);
  });
});

describe('topologies: broken files name the place of the fault', () => {
  const cases: [file: string, pointer: string, detail: RegExp][] = [
    ['unknown-switch.json', '/links/1/b', /"s9" is neither a switch nor a host/],
    ['host-unknown-switch.json', '/hosts/0/switch', /"s7" is not a switch/],
    ['duplicate-name.json', '/hosts/1/name', /duplicate name "s2" \(first defined at \/switches\/1\/name\)/],
    ['bad-bandwidth.json', '/links/1/bw', /must be > 0/],
    ['bad-ip.json', '/hosts/1/ip', /not an IPv4 address/],
    ['duplicate-port.json', '/links/1/bPort', /port 1 of s1 is already used by \/links\/0\/aPort/],
    ['host-no-switch.json', '/hosts/1', /missing property "switch"/],
    ['host-no-link.json', '/hosts/1', /host h2 is in no link/],
    ['host-two-links.json', '/links/2/b', /already attached by \/links\/0/],
    ['invalid-json.json', '', /invalid JSON: .*line 6/],
  ];
  for (const [file, pointer, detail] of cases) {
    it(`${file} -> #${pointer}`, () => {
      const path = join(FIXTURES, file);
      assert.throws(
        () => loadTopology(path),
        (err: unknown) => {
          assert.ok(err instanceof TopologyError, `not a TopologyError: ${String(err)}`);
          assert.equal(err.pointer, pointer);
          assert.match(err.detail, detail);
          assert.ok(err.message.startsWith(`${path}#${pointer}: `), err.message);
          return true;
        },
      );
    });
  }

  it('rejects values that are not topologies at all, naming the source', () => {
    assert.throws(() => parseTopology([], 'from-api'), /^TopologyError: from-api#: must be object$/);
    assert.throws(
      () => parseTopology({ name: 'x', switches: [{ name: 's1', colour: 'red' }], hosts: [], links: [] }, 'x.json'),
      (err: unknown) => err instanceof TopologyError && err.pointer === '/switches/0/colour',
    );
  });

  it('a missing file is a TopologyError too', () => {
    assert.throws(() => loadTopology('/nonexistent/topo.json'), /TopologyError: \/nonexistent\/topo.json#: cannot read/);
  });
});
