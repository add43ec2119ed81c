// Intents on a real Mininet diamond: an explicit path's rules on the switches it names, carrying
// its class (and only it) through s3; deletion leaving no rule behind; least-congested steering
// clear of a path that iperf3 loads; and an intent moving when a cable on its path goes down.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { runController, type RunningController } from '../../controller/run.ts';
import { networkOptionsFromTopology } from '../../controller/routing/network.ts';
import type { IntentView } from '../../controller/intents/view.ts';
import type { PathView } from '../../controller/api/paths.ts';
import { edgePorts } from '../../controller/topology/snapshot.ts';
import { MininetNetwork } from '../../topologies/network.ts';
import { loadTopology } from '../../topologies/topology.ts';
import { waitFor } from '../support/wait.ts';
import { Inbox } from '../api/inbox.ts';
import { dumpFlows, packetsOf, withCookie } from '../routing/flows.ts';

const S = { s1: '0000000000000001', s2: '0000000000000002', s3: '0000000000000003', s4: '0000000000000004' } as const;
const FORWARDING_TAG = 0xf1n << 56n;
const TAG_MASK = 0xffn << 56n;

describe('intents on Mininet: diamond', function () {
  this.timeout(90_000);
  const topo = loadTopology('diamond');
  let running: RunningController | undefined;
  let net: MininetNetwork | undefined;

  const ctx = (): { running: RunningController; net: MininetNetwork } => {
    assert.ok(running && net);
    return { running, net };
  };

  async function api<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${ctx().running.apiUrl}${path}`, {
      method,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  const ip = (host: string): string => ctx().net.hostInfo(host).ip.split('/')[0] as string;

  async function ping(from: string, to: string, count = 3): Promise<boolean> {
    const r = await ctx().net.cmd(from, `ping -c ${count} -i 0.2 -W 2 ${ip(to)}`, { timeoutMs: 20_000 });
    return r.code === 0 && / 0% packet loss/.test(r.output);
  }

  /** The intent's rules on one switch (every version). */
  async function rulesOf(view: IntentView, sw: keyof typeof S): Promise<ReturnType<typeof withCookie>> {
    return withCookie(await dumpFlows(ctx().net.bridgeOf(sw)), BigInt(view.cookie), BigInt(view.cookieMask));
  }

  /**
   * The packets of some rules once OVS has caught up: the userspace datapath folds its counters into
   * the rules every so often, so a count is read until two reads agree.
   */
  async function settledPackets(read: () => Promise<number>): Promise<number> {
    let last = await read();
    return waitFor('flow counters to settle', async () => {
      await new Promise((r) => setTimeout(r, 600));
      const now = await read();
      const same = now === last;
      last = now;
      return same ? now : undefined;
    }, { timeoutMs: 15_000, intervalMs: 0 });
  }

  /** An iperf3 server for one client, ready once it listens. */
  async function iperfServer(host: string, port: number): Promise<number> {
    const { net } = ctx();
    const pid = await net.spawn(host, `exec iperf3 -s -1 -p ${port}`);
    await waitFor(`iperf3 on ${host}:${port}`, async () => (await net.cmd(host, `ss -ltn 'sport = :${port}'`)).output.includes(`:${port}`), { timeoutMs: 10_000 });
    return pid;
  }

  before(async function () {
    this.timeout(240_000);
    running = await runController({
      ofHost: '127.0.0.1',
      ofPort: 0,
      apiPort: 0,
      lldpIntervalMs: 500,
      pollIntervalMs: 500,
      intents: { minMoveIntervalMs: 2000 },
      ...networkOptionsFromTopology(topo),
    });
    net = await MininetNetwork.start(topo, { controller: { host: '127.0.0.1', port: running.ofPort } });
    const { running: r, net: n } = ctx();
    await waitFor('every switch', () => r.controller.switches.size === topo.switches.length, { timeoutMs: 30_000 });
    await waitFor('all links', () => [...r.network.discovery.links.values()].filter((l) => l.state === 'up').length === 8, { timeoutMs: 30_000 });
    const hostPorts = topo.hosts.map((h) => `${S[n.hostInfo(h.name).switch as keyof typeof S]}:${n.hostInfo(h.name).port}`);
    await waitFor('settled host ports', () => {
      const edges = new Set(edgePorts(r.network.discovery.snapshot()).map((e) => `${e.dpid}:${e.port}`));
      return hostPorts.every((p) => edges.has(p));
    }, { timeoutMs: 30_000 });
    // Hosts are learned from their traffic: intents name hosts the network has seen.
    for (const [a, b] of [['h1', 'h3'], ['h2', 'h4']] as const) assert.ok(await ping(a, b, 1), `${a} → ${b}`);
  });

  after(async () => {
    try {
      await net?.stop();
    } finally {
      await running?.stop();
    }
  });

  it('carries one class through s3 by an explicit path, leaves other traffic on its own path, and deletes every rule', async () => {
    const { net } = ctx();
    const created = await api<IntentView>('POST', '/api/v1/intents', { src: 'h1', dst: 'h3', policy: 'explicit', path: [S.s1, S.s3, S.s4], ipProto: 6, dstPort: 5201 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const intent = created.body;
    assert.deepEqual([intent.state, intent.switches], ['active', [S.s1, S.s3, S.s4]]);
    assert.deepEqual(intent.path.map((h) => h.dpid), [S.s1, S.s3, S.s4]);
    const onS3 = await rulesOf(intent, 's3');
    assert.equal(onS3.length, 2, `both directions on s3:\n${onS3.map((f) => f.text).join('\n')}`);
    assert.ok(onS3.some((f) => /tp_dst=5201/.test(f.text)) && onS3.some((f) => /tp_src=5201/.test(f.text)));
    assert.equal((await rulesOf(intent, 's2')).length, 0);

    const server = await iperfServer('h3', 5201);
    try {
      const r = await net.cmd('h1', `iperf3 -c ${ip('h3')} -p 5201 -t 2`, { timeoutMs: 30_000 });
      assert.equal(r.code, 0, r.output);
    } finally {
      await net.kill(server).catch(() => undefined);
    }
    const carried = packetsOf((await rulesOf(intent, 's3')).filter((f) => /tp_dst=5201/.test(f.text)));
    assert.ok(carried > 500, `the intent's rule on s3 carried ${carried} packets`);

    // Ping is another class: it keeps the reactive path forwarding chose, and the intent counts none of it.
    const pingPath = (await api<PathView>('GET', '/api/v1/paths?src=h1&dst=h3')).body;
    const middle = pingPath.hops[1]?.dpid;
    const intentPackets = async (): Promise<number> => packetsOf([...(await rulesOf(intent, 's1')), ...(await rulesOf(intent, 's3'))]);
    const before = await settledPackets(intentPackets);
    assert.ok(await ping('h1', 'h3', 5));
    assert.equal(await settledPackets(intentPackets), before, 'no ping packet hit the intent');
    const middleName = Object.entries(S).find(([, d]) => d === middle)?.[0] as keyof typeof S;
    const reactive = async (): Promise<number> => packetsOf(withCookie(await dumpFlows(net.bridgeOf(middleName)), FORWARDING_TAG, TAG_MASK).filter((f) => /icmp/.test(f.text)));
    await waitFor(`ping's own rules on ${middleName} to count its packets`, async () => (await reactive()) >= 5);

    const del = await api('DELETE', `/api/v1/intents/${intent.id}`);
    assert.equal(del.status, 204);
    for (const sw of Object.keys(S) as (keyof typeof S)[]) assert.deepEqual(await rulesOf(intent, sw), [], `no rule of the intent left on ${sw}`);
    assert.equal((await api('GET', `/api/v1/intents/${intent.id}`)).status, 404);
    assert.equal((await api('DELETE', `/api/v1/intents/${intent.id}`)).status, 404);
  });

  it('answers 400 for an explicit path that is not a walk of live links', async () => {
    const r = await api<{ message: string }>('POST', '/api/v1/intents', { src: 'h1', dst: 'h3', policy: 'explicit', path: [S.s1, S.s2, S.s3, S.s4] });
    assert.equal(r.status, 400);
    assert.match(r.body.message, /not a walk of live links: no link 0000000000000002→0000000000000003/);
  });

  it('least-congested takes the path that iperf3 does not load', async () => {
    const { running, net } = ctx();
    const pin = (await api<IntentView>('POST', '/api/v1/intents', { src: 'h1', dst: 'h3', policy: 'explicit', path: [S.s1, S.s2, S.s4], ipProto: 6, dstPort: 5201 })).body;
    const server = await iperfServer('h3', 5201);
    const log = `/tmp/meshflow-intents-${process.pid}-iperf.log`;
    const client = await net.spawn('h1', `exec iperf3 -c ${ip('h3')} -p 5201 -t 15`, { logFile: log });
    let lc: IntentView | undefined;
    try {
      const loaded = `${S.s1}:3-${S.s2}:1`;
      await waitFor('s1→s2 loaded', () => (running.monitor.loads().find((l) => l.linkId === loaded)?.utilization ?? 0) > 0.5, { timeoutMs: 10_000 }).catch((err: Error) => {
        throw new Error(`${err.message}; loads ${JSON.stringify(running.monitor.loads().map((l) => [l.linkId, l.utilization]))}; iperf3: ${readFileSync(log, 'utf8')}`);
      });
      const created = await api<IntentView>('POST', '/api/v1/intents', { src: 'h2', dst: 'h4', policy: 'least-congested', ipProto: 6, dstPort: 5202, priority: 'high' });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      lc = created.body;
      assert.deepEqual(lc.switches, [S.s1, S.s3, S.s4]);
      assert.equal(lc.dscp, 46);
      const marks = (await rulesOf(lc, 's1')).filter((f) => /set_field:46->ip_dscp|mod_nw_tos:184/.test(f.text));
      assert.equal(marks.length, 1, 'the ingress rule marks the class');
      // Still there three assessments later: the loaded path never looks better.
      let assessed = 0;
      const count = (): void => void assessed++;
      running.monitor.on('assessed', count);
      await waitFor('three assessments', () => assessed >= 3, { timeoutMs: 10_000 }).finally(() => running.monitor.off('assessed', count));
      assert.deepEqual((await api<IntentView>('GET', `/api/v1/intents/${lc.id}`)).body.switches, [S.s1, S.s3, S.s4]);
    } finally {
      await net.kill(client).catch(() => undefined);
      await net.kill(server).catch(() => undefined);
      rmSync(log, { force: true });
      await api('DELETE', `/api/v1/intents/${pin.id}`);
      if (lc) await api('DELETE', `/api/v1/intents/${lc.id}`);
    }
  });

  it('moves an intent off a cable that goes down, announces it, and its class keeps flowing', async () => {
    const { running, net } = ctx();
    const inbox = await Inbox.open(`${running.apiUrl.replace('http', 'ws')}/api/v1/stream`);
    const created = await api<IntentView>('POST', '/api/v1/intents', { src: 'h1', dst: 'h3', policy: 'shortest', ipProto: 1 });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const intent = created.body;
    const middle = intent.switches[1] as string;
    const middleName = Object.entries(S).find(([, d]) => d === middle)?.[0] as keyof typeof S;
    const otherName = middleName === 's2' ? 's3' : 's2';
    assert.ok(await ping('h1', 'h3'));
    await waitFor('pings and replies counted by the intent', async () => packetsOf(await rulesOf(intent, middleName)) >= 6);
    await net.setLink('s1', middleName, 'down');
    try {
      const moved = await waitFor('the intent to move', async () => {
        const v = (await api<IntentView>('GET', `/api/v1/intents/${intent.id}`)).body;
        return v.state === 'active' && v.switches[1] !== middle ? v : undefined;
      }, { timeoutMs: 10_000 });
      assert.deepEqual(moved.switches, [S.s1, S[otherName], S.s4]);
      await waitFor('pings through the new path', () => ping('h1', 'h3', 1), { timeoutMs: 10_000 });
      assert.ok(await ping('h1', 'h3', 5));
      await waitFor('the new path to count the pings', async () => packetsOf(await rulesOf(intent, otherName)) >= 10);
      const event = await waitFor('a path_change event', () =>
        inbox.messages.find((m) => m['kind'] === 'event' && m['event'] === 'path_change' && (m['detail'] as Record<string, unknown>)['intent'] === intent.id),
      );
      assert.deepEqual((event['detail'] as Record<string, unknown>)['to'], moved.switches);
      assert.equal((event['detail'] as Record<string, unknown>)['reason'], 'link_down');
    } finally {
      inbox.socket.close();
      await net.setLink('s1', middleName, 'up');
      await api('DELETE', `/api/v1/intents/${intent.id}`);
    }
    await waitFor('the cable back', () => [...running.network.discovery.links.values()].filter((l) => l.state === 'up').length === 8, { timeoutMs: 15_000 });
  });
});
