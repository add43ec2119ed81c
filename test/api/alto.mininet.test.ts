// ALTO and /api/v1/costs against a real controller and Open vSwitch bridges in Mininet (linear-4:
// s1 - s2 - s3 - s4, host hi on si): once the hosts are known, the network map lists each host's
// address under its switch's PID, and the routingcost cost map gives the hops of the line.
import assert from 'node:assert/strict';
import { waitFor } from '../support/wait.ts';
import { startControlledNetwork, type ControlledNetwork } from '../support/mininet.ts';

interface VersionTag {
  'resource-id': string;
  tag: string;
}
interface NetworkMap {
  meta: { vtag: VersionTag };
  'network-map': Record<string, { ipv4?: string[] }>;
}
interface CostMap {
  meta: { vtag?: VersionTag; 'dependent-vtags': VersionTag[]; 'cost-type': { 'cost-mode': string; 'cost-metric': string } };
  'cost-map': Record<string, Record<string, number>>;
}

describe('alto: against Mininet (linear-4)', function () {
  this.timeout(180_000);
  let cn: ControlledNetwork;
  const switches = ['s1', 's2', 's3', 's4'];
  const hosts = ['h1', 'h2', 'h3', 'h4'];

  const get = async <T>(path: string, accept: string): Promise<{ status: number; type: string; body: T }> => {
    const res = await fetch(`${cn.running.apiUrl}${path}`, { headers: { accept } });
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: (await res.json()) as T };
  };

  before(async function () {
    this.timeout(240_000);
    cn = await startControlledNetwork('linear-4', { pollIntervalMs: 500 });
    // Hosts are learned from their traffic: h1 and h4 reach everyone between them.
    for (const to of ['h2', 'h3', 'h4']) assert.ok(await cn.ping('h1', to), `h1 -> ${to}`);
    assert.ok(await cn.ping('h4', 'h2'), 'h4 -> h2');
    await waitFor('every switch with a host to be a pid of the cost map', () => {
      const pids = cn.running.monitor.costMap.pids();
      return switches.every((s) => pids.includes(cn.dpid(s)));
    }, { timeoutMs: 30_000 });
  });

  after(async () => {
    await cn?.stop();
  });

  it("lists each host's address under the PID of its switch", async () => {
    const nm = await waitFor('every host address in the network map', async () => {
      const r = await get<NetworkMap>('/alto/networkmap', 'application/alto-networkmap+json,application/alto-error+json');
      const map = r.body['network-map'];
      return hosts.every((h, i) => map[cn.dpid(switches[i]!)]?.ipv4?.includes(`${cn.ip(h)}/32`)) ? r : undefined;
    });
    assert.equal(nm.status, 200);
    assert.match(nm.type, /^application\/alto-networkmap\+json/);
    for (const [i, h] of hosts.entries()) assert.deepEqual(nm.body['network-map'][cn.dpid(switches[i]!)], { ipv4: [`${cn.ip(h)}/32`] }, h);
    assert.deepEqual(nm.body['network-map'].default, { ipv4: ['0.0.0.0/0'] });
  });

  it('gives the hop counts of the line as routingcost, tied to the network map', async () => {
    const nm = await get<NetworkMap>('/alto/networkmap', 'application/alto-networkmap+json');
    const cm = await get<CostMap>('/alto/costmap/routingcost', 'application/alto-costmap+json');
    assert.equal(cm.status, 200);
    assert.match(cm.type, /^application\/alto-costmap\+json/);
    assert.deepEqual(cm.body.meta['dependent-vtags'], [nm.body.meta.vtag]);
    assert.deepEqual(cm.body.meta['cost-type'], { 'cost-mode': 'numerical', 'cost-metric': 'routingcost' });
    const expected: Record<string, Record<string, number>> = {};
    for (const [i, a] of switches.entries()) {
      expected[cn.dpid(a)] = Object.fromEntries(switches.map((b, j) => [cn.dpid(b), Math.abs(i - j)]));
    }
    assert.deepEqual(cm.body['cost-map'], expected);
  });

  it('gives the same hops over REST, with the path of links from s1 to s4', async () => {
    const s1 = cn.dpid('s1');
    const s4 = cn.dpid('s4');
    const r = await get<{ entries: { dstPid: string; hops: number; paths: number; equalCostPaths: string[][] }[] }>(`/api/v1/costs/${s1}?dst=${s4}&paths=true`, 'application/json');
    assert.equal(r.status, 200);
    const e = r.body.entries[0];
    assert.equal(e?.hops, 3);
    assert.equal(e?.paths, 1);
    // linear-4: port 3 towards the next switch, port 2 towards the previous one.
    const [d1, d2, d3, d4] = switches.map((s) => cn.dpid(s));
    assert.deepEqual(e?.equalCostPaths, [[`${d1}:3-${d2}:2`, `${d2}:3-${d3}:2`, `${d3}:3-${d4}:2`]]);
  });
});
