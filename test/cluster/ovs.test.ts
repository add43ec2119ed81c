// Two controllers of a group against a real Open vSwitch bridge connected to both: Open vSwitch
// accepts the master's ROLE_REQUEST with the lease's fencing number and reports the roles; the slave
// writes nothing; forwarding works through the master; and when the master goes, the other takes
// the switch over without removing a rule (dump-flows before and after).
import assert from 'node:assert/strict';
import { runController, type RunningController } from '../../controller/run.ts';
import { startRedis, type Service } from '../support/services.ts';
import { cleanStale, ofctl, sh, TestBridge, vsctl } from '../support/ovs.ts';
import { waitFor } from '../support/wait.ts';
import { parseDump } from '../../labs/failover/flows.ts';
import { IntentsClient } from '../../bridge/intents-client.ts';

interface OvsController {
  readonly target: string;
  readonly role: string;
}

async function ovsRoles(bridge: string): Promise<OvsController[]> {
  const out = await vsctl('--format=json', '--columns=target,role', 'list', 'controller');
  const data = (JSON.parse(out) as { data: [string, string | [string, unknown[]]][] }).data;
  const all = data.map(([target, role]) => ({ target, role: typeof role === 'string' ? role : '' }));
  const mine = (await vsctl('get', 'bridge', bridge, 'controller')).trim();
  return mine === '[]' ? [] : all.filter((c) => c.target.includes('127.0.0.1'));
}

describe('cluster: two controllers on a real Open vSwitch bridge (root)', function () {
  this.timeout(60_000);
  let redis: Service;
  let a: RunningController | undefined;
  let b: RunningController | undefined;
  let bridge: TestBridge | undefined;
  let bridge2: TestBridge | undefined;
  let dpid: string;

  before(async () => {
    await cleanStale();
    redis = await startRedis();
    const cluster = { redisUrl: redis.url, leaseMs: 1000, prefix: `ovs-${process.pid}` };
    a = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000, controllerId: 'a', cluster, readShaping: false });
    // a holds the group's voice before the switch comes, so it masters it.
    await waitFor('a to speak for the group', () => a!.cluster?.roles.voice !== undefined);
    b = await runController({ ofHost: '127.0.0.1', ofPort: 0, apiPort: 0, echoIntervalMs: 1000, controllerId: 'b', cluster, readShaping: false });
    bridge = await TestBridge.create({ controllerPort: a.ofPort, hosts: 2 });
    await vsctl('set-controller', bridge.name, `tcp:127.0.0.1:${a.ofPort}`, `tcp:127.0.0.1:${b.ofPort}`);
    dpid = await bridge.dpid();
  });

  after(async () => {
    if (bridge) await sh('ip', ['link', 'del', `${bridge.name}l`]).catch(() => undefined);
    await bridge2?.destroy();
    await bridge?.destroy();
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('one master by the lease; Open vSwitch reports master and slave', async () => {
    await waitFor('a master', () => a!.cluster!.roles.roleOf(dpid)?.role === 'master');
    await waitFor('b slave', () => b!.cluster!.roles.roleOf(dpid)?.role === 'slave');
    const roles = await waitFor('Open vSwitch to report both roles', async () => {
      const r = await ovsRoles(bridge!.name);
      return r.some((c) => c.role === 'master') && r.some((c) => c.role === 'slave') ? r : undefined;
    });
    const master = roles.find((c) => c.role === 'master')!;
    assert.ok(master.target.endsWith(`:${a!.ofPort}`), `master is ${master.target}`);
    // The master adopted the switch: a table-miss entry, installed once.
    const flows = await waitFor('the table-miss entry', async () => {
      const f = parseDump(await ofctl('dump-flows', bridge!.name));
      return f.some((x) => x.key.includes('priority=0 ')) ? f : undefined;
    });
    assert.equal(flows.filter((x) => x.key.includes('priority=0 ')).length, 1);
    const sb = b!.controller.switches.get(dpid)!;
    assert.equal(sb.programmer.held, true);
    assert.equal(b!.cluster!.roles.counters.isSlaveErrors, 0);
    const api = (await (await fetch(`${a!.apiUrl}/api/v1/switches`)).json()) as { dpid: string; role?: { role: string; epoch: number } }[];
    assert.equal(api.find((s) => s.dpid === dpid)?.role?.role, 'master');
    assert.equal(api.find((s) => s.dpid === dpid)?.role?.epoch, a!.cluster!.roles.roleOf(dpid)!.epoch);
  });

  // By the default async config a slave gets no packet-ins, so it would learn no link until it took
  // over; it asks for the LLDP rule's packet-ins (reason ACTION) and learns them from the master's probes.
  it('the slave learns the links from the master\'s LLDP while it is slave', async () => {
    bridge2 = await TestBridge.create({ controllerPort: a!.ofPort, hosts: 0 });
    await vsctl('set-controller', bridge2.name, `tcp:127.0.0.1:${a!.ofPort}`, `tcp:127.0.0.1:${b!.ofPort}`);
    const dpid2 = await bridge2.dpid();
    const left = `${bridge!.name}l`;
    const right = `${bridge2.name}l`;
    await sh('ip', ['link', 'add', left, 'type', 'veth', 'peer', 'name', right]);
    for (const [br, ifc] of [[bridge!.name, left], [bridge2.name, right]] as const) {
      await sh('ip', ['link', 'set', ifc, 'up']);
      await vsctl('add-port', br, ifc, '--', 'set', 'interface', ifc, 'ofport_request=9');
    }
    await waitFor('b slave of the second bridge', () => b!.cluster!.roles.roleOf(dpid2)?.role === 'slave');
    await waitFor('a to see the link both ways', () => a!.network.discovery.links.size === 2);
    await waitFor('b, a slave, to see the link both ways', () => b!.network.discovery.links.size === 2);
    assert.equal(b!.cluster!.roles.roleOf(dpid)?.role, 'slave');
    assert.equal(b!.cluster!.roles.counters.isSlaveErrors, 0, 'the slave sent no probe of its own');
    await sh('ip', ['link', 'del', left]);
    await bridge2.destroy();
    bridge2 = undefined;
  });

  it('an intent asked of a controller that does not speak for the group gets 409; the bridge\'s client goes on to the one that does', async () => {
    const [h1, h2] = bridge!.hosts;
    await waitFor('ping through the master', async () => {
      await bridge!.inNs(h1!, 'ping', ['-c', '1', '-W', '1', h2!.ip]);
      return true;
    });
    const body = { src: h1!.ip, dst: h2!.ip, policy: 'least-congested', ipProto: 17, dstPort: 5002 } as const;
    const refused = await fetch(`${b!.apiUrl}/api/v1/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: string }).error, 'not_voice');
    assert.equal(b!.intents.list().length, 0, 'the slave keeps nothing');
    const client = new IntentsClient(`${b!.apiUrl},${a!.apiUrl}`);
    const made = await client.create({ key: 'udp-5002', ...body });
    assert.ok(a!.intents.get(made.id), 'the voice holds the intent');
    await client.remove(made.id);
    assert.equal(a!.intents.get(made.id), undefined, 'and withdraws it');
  });

  it('forwards through the master, and the master leaving hands over without removing a rule', async () => {
    const [h1, h2] = bridge!.hosts;
    await waitFor('ping through the master', async () => {
      await bridge!.inNs(h1!, 'ping', ['-c', '1', '-W', '1', h2!.ip]);
      return true;
    });
    // An intent held by the master: its rules and its record must survive the takeover.
    const posted = await fetch(`${a!.apiUrl}/api/v1/intents`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ src: h1!.ip, dst: h2!.ip, policy: 'shortest', ipProto: 6, dstPort: 5001 }) });
    assert.equal(posted.status, 201, await posted.clone().text());
    const intent = (await posted.json()) as { id: string };
    const a_num = a!.intents.get(intent.id)!.num;
    await a!.intents.settled();
    await waitFor('the intent written to Redis', () => a!.cluster!.intents.counters.written > 0);
    const before = parseDump(await ofctl('dump-flows', bridge!.name)).map((f) => f.key);
    assert.ok(before.some((k) => k.includes('cookie=0xf2')), 'intent rules installed');
    assert.ok(before.some((k) => k.includes('cookie=0xf1')), `forwarding rules installed: ${before.join('\n')}`);
    const stoppedAt = Date.now();
    await a!.stop();
    a = undefined;
    await waitFor('b master', () => b!.cluster!.roles.roleOf(dpid)?.role === 'master');
    console.log(`      b master ${Date.now() - stoppedAt} ms after a stopped`);
    await waitFor('Open vSwitch to report b as master', async () => (await ovsRoles(bridge!.name)).some((c) => c.role === 'master' && c.target.endsWith(`:${b!.ofPort}`)));
    await b!.network.forwarding.settled();
    const after = new Set(parseDump(await ofctl('dump-flows', bridge!.name)).map((f) => f.key));
    for (const k of before) assert.ok(after.has(k), `rule removed by the takeover: ${k}`);
    // The hosts a learned come back from Redis, and a's forwarding rules become b's flows.
    await waitFor('b to adopt the flows on the switch', () => b!.network.forwarding.state.size > 0);
    const adopted = [...b!.network.forwarding.state.values()];
    assert.ok(adopted.every((f) => before.some((k) => k.includes(`cookie=0x${f.cookie.toString(16)}`))), 'adopted flows are the rules on the switch');
    assert.ok(b!.network.discovery.hosts.size >= 2, 'hosts restored from Redis');
    await waitFor('b to adopt the intent', () => b!.intents.get(intent.id));
    assert.equal(b!.intents.get(intent.id)!.num, a_num);
    // The new master forwards too.
    await bridge!.inNs(h2!, 'ping', ['-c', '1', '-W', '2', h1!.ip]);
    assert.equal(b!.cluster!.roles.counters.takeovers, 1);
    const metrics = await (await fetch(`${b!.apiUrl}/metrics`)).text();
    assert.match(metrics, /^meshflow_cluster_takeovers_total 1$/m);
  });
});
